"""Writes on project members: add, change role, remove, per-person workflow, pause and resume."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record, diff_fields
from core.exceptions import DomainError
from core.realtime import feed_evict_on_commit

from .. import events
from ..models import (
    Project,
    ProjectMembership,
)
from .common import (
    GROUP_NAME,
    _announce,
    _schedule_stats,
    project_ensure_active,
    project_lock,
)

User = get_user_model()


# --- Project members ----------------------------------------------------------------------------------


@transaction.atomic
def project_member_add(*, project: Project, actor, username: str, role: str) -> ProjectMembership:
    """Give an organisation member a role in the project. People outside the organisation cannot be added."""
    project = project_lock(project)
    project_ensure_active(project)
    user = User.objects.filter(
        username__iexact=username.strip(),
        is_active=True,
        org_memberships__organisation_id=project.organisation_id,
    ).first()
    if user is None:
        raise DomainError("unknown_user", f"No member of this organisation is named {username!r}.")
    if ProjectMembership.objects.filter(project=project, user=user).exists():
        raise DomainError(
            "already_member", f"{user.username} is already a member of this project.", status_code=409
        )
    membership = ProjectMembership.objects.create(project=project, user=user, role=role)
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project_member.added",
        target=membership,
        changes={"username": user.username, "role": role},
    )
    _announce(project, events.MEMBER_ADDED, actor, username=user.username, role=role)
    _schedule_stats(project)
    return membership


@transaction.atomic
def project_member_change_role(
    *, project: Project, actor, membership_id: int, role: str
) -> ProjectMembership:
    project = project_lock(project)
    project_ensure_active(project)
    membership = (
        ProjectMembership.objects.select_related("user").filter(project=project, pk=membership_id).first()
    )
    if membership is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    if membership.role == role:
        return membership
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project_member.role_changed",
        target=membership,
        changes={"username": membership.user.username, "role": [old, role]},
    )
    _announce(project, events.MEMBER_ROLE_CHANGED, actor, username=membership.user.username, role=role)
    feed_evict_on_commit(membership.user_id, reason="role_changed")  # their open sockets re-check
    _schedule_stats(project)
    return membership


@transaction.atomic
def project_member_remove(*, project: Project, actor, membership_id: int) -> None:
    project = project_lock(project)
    project_ensure_active(project)
    membership = (
        ProjectMembership.objects.select_related("user").filter(project=project, pk=membership_id).first()
    )
    if membership is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    username = membership.user.username
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project_member.removed",
        target=membership,
        changes={"username": username, "role": membership.role},
    )
    membership.delete()
    _announce(project, events.MEMBER_REMOVED, actor, username=username)
    feed_evict_on_commit(membership.user_id, reason="member_removed")  # their open sockets close
    _schedule_stats(project)


def _member_for_update(project: Project, membership_id: int) -> ProjectMembership:
    membership = (
        ProjectMembership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(project=project, pk=membership_id)
        .first()
    )
    if membership is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    return membership


@transaction.atomic
def project_member_workflow_update(
    *, project: Project, actor, membership_id: int, **fields: Any
) -> ProjectMembership:
    """Set a member's quota, groups and gold rate (the labeling workflow's per-person knobs)."""
    allowed = {"quota", "groups", "gold_rate"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError("unknown_field", f"Cannot change: {', '.join(sorted(unknown))}")
    project_ensure_active(project)
    membership = _member_for_update(project, membership_id)
    if "quota" in fields and fields["quota"] is not None and not 0 <= fields["quota"] <= 10_000_000:
        raise DomainError("invalid_quota", "A quota is a number of items from 0 to 10,000,000, or null.")
    if "gold_rate" in fields and fields["gold_rate"] is not None and not 0 <= fields["gold_rate"] <= 1:
        raise DomainError("invalid_gold_rate", "A gold rate is between 0 and 1, or null for the project's.")
    if "groups" in fields:
        groups = fields["groups"]
        if (
            not isinstance(groups, list)
            or len(groups) > 50
            or not all(isinstance(g, str) and GROUP_NAME.fullmatch(g) for g in groups)
        ):
            raise DomainError(
                "invalid_groups", "Groups are up to 50 names of letters, digits, '-' and '_' (at most 100)."
            )
        fields["groups"] = sorted(set(groups))
    changes = diff_fields(membership, fields)
    if not changes:
        return membership
    for name in changes:
        setattr(membership, name, fields[name])
    membership.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project_member.workflow_changed",
        target=membership,
        changes={"username": membership.user.username, **changes},
    )
    return membership


@transaction.atomic
def project_member_pause(*, project: Project, actor, membership_id: int, reason: str) -> ProjectMembership:
    """Stop giving a member new items (their current lease stays theirs to finish). The reason is
    shown to them. The quality app calls this when gold accuracy drops below the threshold."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise DomainError("invalid_reason", "Say why, in 1 to 500 characters: the annotator sees it.")
    membership = _member_for_update(project, membership_id)
    membership.paused_at = timezone.now()
    membership.paused_reason = reason
    membership.save(update_fields=["paused_at", "paused_reason", "updated_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project_member.paused",
        target=membership,
        changes={"username": membership.user.username, "reason": reason},
    )
    _announce(project, events.MEMBER_PAUSED, actor, username=membership.user.username)
    return membership


@transaction.atomic
def project_member_resume(*, project: Project, actor, membership_id: int) -> ProjectMembership:
    """Let a paused member take items again (re-qualification)."""
    membership = _member_for_update(project, membership_id)
    if membership.paused_at is None:
        return membership
    membership.paused_at = None
    membership.paused_reason = ""
    membership.qualified_at = timezone.now()  # gold answers before this no longer count toward pausing
    membership.save(update_fields=["paused_at", "paused_reason", "qualified_at", "updated_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project_member.resumed",
        target=membership,
        changes={"username": membership.user.username},
    )
    _announce(project, events.MEMBER_RESUMED, actor, username=membership.user.username)
    return membership


@transaction.atomic
def project_member_quality_update(*, project: Project, gold_boosts: dict[int, float]) -> int:
    """Set the gold-rate boost of members (user id -> factor from 1 to 10), as the quality app's
    recompute decides: new and low-scoring annotators see gold items more often. Set-based; returns
    how many rows changed. Not audited (a derived value, recomputed on every quality run)."""
    changed = 0
    for boost in sorted(set(gold_boosts.values())):
        if not 1.0 <= boost <= 10.0:
            raise DomainError("invalid_gold_boost", "A gold boost is from 1 to 10.")
        users = [user_id for user_id, value in gold_boosts.items() if value == boost]
        changed += (
            ProjectMembership.objects.filter(project=project, user_id__in=users)
            .exclude(gold_boost=boost)
            .update(gold_boost=boost, updated_at=timezone.now())
        )
    return changed
