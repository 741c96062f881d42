"""Writes on organisations and projects. Each function is one rule; each write is audited and
announced on the project's websocket feed after commit."""

import json
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.services import user_create, user_credentials_revoke
from core import task_names
from core.audit import audit_record, diff_fields
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, feed_evict_on_commit, project_group
from core.services import outbox_enqueue

from .labeling import labeling_settings_from, labeling_settings_issues
from .models import (
    GuidelineAcknowledgement,
    GuidelineVersion,
    LabelMigration,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
    ProjectStats,
)
from .project_settings import merge_patch, unknown_setting_keys
from .quality_settings import quality_settings_from, quality_settings_issues
from .schema import validate_schema
from .schema.migrate import plan_label_migration

User = get_user_model()

GROUP_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")

STATS_TASK = task_names.PROJECT_STATS_REFRESH
ITEM_TARGETS_TASK = task_names.ITEM_TARGETS_SYNC
QUEUE_ORDER_TASK = task_names.QUEUE_ORDER_APPLY


def _schedule_stats(project: Project) -> None:
    outbox_enqueue(task_name=STATS_TASK, kwargs={"project_id": project.id})


def _announce(project: Project, event_type: str, actor, **data: Any) -> None:
    broadcast_on_commit(
        project_group(project.id),
        event_type,
        {"project_id": project.id, "actor": actor.get_username() if actor else "system", **data},
    )


def project_lock(project: Project) -> Project:
    """Lock the project's row for this transaction and return it fresh. Serialises writes to one
    project (versions, members, splits) without blocking other projects. Other apps call it too."""
    return Project.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=project.pk)


def project_ensure_active(project: Project) -> None:
    """Refuse changes to an archived project (409 project_archived). Other apps call it too."""
    if project.archived_at is not None:
        raise DomainError(
            "project_archived", "This project is archived; unarchive it to make changes.", status_code=409
        )


# --- Organisations ----------------------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, name: str, slug: str, creator) -> Organisation:
    """Create an organisation whose creator is its first admin."""
    if Organisation.objects.filter(slug=slug).exists():
        raise DomainError("slug_taken", f"An organisation with the slug {slug!r} exists.", status_code=409)
    organisation = Organisation.objects.create(name=name.strip(), slug=slug)
    OrganisationMembership.objects.create(
        organisation=organisation, user=creator, role=OrganisationMembership.Role.ADMIN
    )
    audit_record(
        actor=creator,
        organisation_id=organisation.id,
        action="organisation.created",
        target=organisation,
        changes={"name": organisation.name, "slug": slug},
    )
    return organisation


@transaction.atomic
def organisation_member_add(
    *,
    organisation: Organisation,
    actor,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
) -> OrganisationMembership:
    """Add a person to the organisation: an existing account by username, or a new account when a
    password is given."""
    if password:
        user = user_create(username=username, password=password, email=email)
    else:
        user = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
        if user is None:
            raise DomainError(
                "unknown_user", f"No active account is named {username!r}; give a password to create one."
            )
    if OrganisationMembership.objects.filter(organisation=organisation, user=user).exists():
        raise DomainError("already_member", f"{user.username} is already a member.", status_code=409)
    membership = OrganisationMembership.objects.create(organisation=organisation, user=user, role=role)
    audit_record(
        actor=actor,
        organisation_id=organisation.id,
        action="organisation_member.added",
        target=membership,
        changes={"username": user.username, "role": role, "account_created": bool(password)},
    )
    return membership


@transaction.atomic
def organisation_member_credentials_revoke(*, organisation: Organisation, actor, membership_id: int) -> dict:
    """An organisation admin ends every browser session and revokes every API token of a member.

    Credentials belong to the account, not to the organisation: the member is signed out of Tessera
    everywhere (other organisations included) and signs in again with their password. Audited in
    this organisation's log as user.credentials_revoked.
    """
    membership = (
        OrganisationMembership.objects.select_related("user")
        .filter(organisation=organisation, pk=membership_id)
        .first()
    )
    if membership is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    return user_credentials_revoke(user=membership.user, actor=actor, organisation_id=organisation.id)


@transaction.atomic
def organisation_member_remove(*, organisation: Organisation, actor, membership_id: int) -> None:
    """Remove a member and their roles in the organisation's projects. The last admin cannot leave."""
    membership = (
        OrganisationMembership.objects.select_for_update()
        .select_related("user")
        .filter(organisation=organisation, pk=membership_id)
        .first()
    )
    if membership is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    if membership.role == OrganisationMembership.Role.ADMIN:
        admins = OrganisationMembership.objects.select_for_update().filter(
            organisation=organisation, role=OrganisationMembership.Role.ADMIN
        )
        if len(admins) <= 1:
            raise DomainError("last_admin", "An organisation needs at least one admin.", status_code=409)
    project_ids = list(
        ProjectMembership.objects.filter(
            project__organisation=organisation, user=membership.user
        ).values_list("project_id", flat=True)
    )
    ProjectMembership.objects.filter(project_id__in=project_ids, user=membership.user).delete()
    audit_record(
        actor=actor,
        organisation_id=organisation.id,
        action="organisation_member.removed",
        target=membership,
        changes={"username": membership.user.username, "projects": project_ids},
    )
    membership.delete()
    feed_evict_on_commit(membership.user_id, reason="organisation_member_removed")
    for project in Project.objects.filter(pk__in=project_ids):
        _schedule_stats(project)


# --- Projects ---------------------------------------------------------------------------------------


def _validate_project_fields(fields: dict[str, Any]) -> None:
    overlap = fields.get("overlap")
    if overlap is not None and not 1 <= overlap <= settings.PROJECTS_MAX_OVERLAP:
        raise DomainError(
            "invalid_overlap", f"Overlap must be between 1 and {settings.PROJECTS_MAX_OVERLAP}."
        )
    if "settings" in fields:
        if not isinstance(fields["settings"], dict):
            raise DomainError("invalid_settings", "Project settings must be a JSON object.")
        unknown = unknown_setting_keys(fields["settings"])
        if unknown:
            raise DomainError(
                "unknown_setting",
                f"{unknown[0]} is not a setting"
                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
                + ". docs/WORKFLOW.md and docs/QUALITY.md list the settings.",
                extra={"key": unknown[0], "keys": unknown},
            )
        if "labeling" in fields["settings"]:
            issues = labeling_settings_issues(fields["settings"]["labeling"])
            if issues:
                raise DomainError("invalid_settings", " ".join(issues))
        if "quality" in fields["settings"]:
            issues = quality_settings_issues(fields["settings"]["quality"])
            if issues:
                raise DomainError("invalid_settings", " ".join(issues))


@transaction.atomic
def project_create(
    *,
    organisation: Organisation,
    actor,
    name: str,
    description: str = "",
    overlap: int | None = None,
    settings_: dict | None = None,
) -> Project:
    """Create a project in `organisation`; its creator becomes its first manager."""
    fields = {
        "name": name.strip(),
        "description": description,
        "overlap": overlap if overlap is not None else settings.PROJECTS_DEFAULT_OVERLAP,
        "settings": settings_ or {},
    }
    _validate_project_fields(fields)
    if not fields["name"]:
        raise DomainError("invalid_name", "A project needs a name.")
    if Project.objects.filter(organisation=organisation, name=fields["name"]).exists():
        raise DomainError(
            "name_taken", f"A project named {fields['name']!r} exists in this organisation.", status_code=409
        )
    try:
        with transaction.atomic():
            project = Project.objects.create(organisation=organisation, created_by=actor, **fields)
    except IntegrityError as error:  # a concurrent create won the name
        raise DomainError(
            "name_taken", f"A project named {fields['name']!r} exists in this organisation.", status_code=409
        ) from error
    ProjectMembership.objects.create(project=project, user=actor, role=ProjectMembership.Role.MANAGER)
    audit_record(
        actor=actor,
        organisation_id=organisation.id,
        project_id=project.id,
        action="project.created",
        target=project,
        changes={k: v for k, v in fields.items() if k != "settings"},
    )
    _schedule_stats(project)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor,
    expected_updated_at: datetime | None = None,
    settings_patch: dict | None = None,
    **fields: Any,
) -> Project:
    """Change name, description, overlap or settings of an active project. No-op changes write nothing.

    `settings` replaces the whole settings object; `settings_patch` is a JSON merge patch (RFC 7396)
    applied to the stored settings under the project's row lock (objects merge, `null` removes a key
    back to its default): what `PATCH /api/projects/<id>/` sends. Unknown keys are 400
    `unknown_setting`, wrong types 400 `invalid_settings`.

    With `expected_updated_at` (what the editor saw), a project changed by someone else since then
    is refused with 409 `stale_update` instead of silently overwriting their change.
    """
    allowed = {"name", "description", "overlap", "settings"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError("unknown_field", f"Cannot change: {', '.join(sorted(unknown))}")
    project = project_lock(project)
    project_ensure_active(project)
    if settings_patch is not None:
        if "settings" in fields:
            raise DomainError("invalid_settings", "Give settings or a settings patch, not both.")
        if not isinstance(settings_patch, dict):
            raise DomainError("invalid_settings", "Project settings must be a JSON object.")
        fields["settings"] = merge_patch(project.settings or {}, settings_patch)
    if expected_updated_at is not None and project.updated_at != expected_updated_at:
        raise DomainError(
            "stale_update",
            "Someone else changed this project after you opened it. "
            "Reload to see their change, then try again.",
            status_code=409,
        )
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        if not fields["name"]:
            raise DomainError("invalid_name", "A project needs a name.")
        clash = Project.objects.filter(organisation_id=project.organisation_id, name=fields["name"]).exclude(
            pk=project.pk
        )
        if clash.exists():
            raise DomainError(
                "name_taken",
                f"A project named {fields['name']!r} exists in this organisation.",
                status_code=409,
            )
    _validate_project_fields(fields)
    changes = diff_fields(project, fields)
    if not changes:
        return project
    for field in changes:
        setattr(project, field, fields[field])
    project.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="project.updated",
        target=project,
        changes=changes,
    )
    _announce(project, "project.updated", actor, fields=sorted(changes))
    # The annotation app keeps items in step with the overlap and the queue order (by task name: this
    # app imports no other domain app). Both jobs are idempotent.
    if "overlap" in changes:
        outbox_enqueue(task_name=ITEM_TARGETS_TASK, kwargs={"project_id": project.id})
    if "settings" in changes:
        old, new = (labeling_settings_from(value).ordering for value in changes["settings"])
        if old != new:
            outbox_enqueue(task_name=QUEUE_ORDER_TASK, kwargs={"project_id": project.id})
        old_cap, new_cap = (_escalation_cap(value) for value in changes["settings"])
        if new_cap < old_cap:  # escalation switched off or its limit lowered: raised targets come back
            outbox_enqueue(
                task_name=ITEM_TARGETS_TASK, kwargs={"project_id": project.id, "escalation_cap": new_cap}
            )
    return project


def _escalation_cap(project_settings: Any) -> int:
    """Extra annotators an open item may keep: 0 when automatic escalation is off
    (`quality.escalate_below` 0 or null), else the labeling setting `max_escalation`."""
    if not quality_settings_from(project_settings).escalate_below:
        return 0
    return labeling_settings_from(project_settings).max_escalation


@transaction.atomic
def project_archive(*, project: Project, actor) -> Project:
    """Archive: the project becomes read-only. Idempotent."""
    project = project_lock(project)
    if project.archived_at is None:
        project.archived_at = timezone.now()
        project.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            actor=actor,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="project.archived",
            target=project,
        )
        _announce(project, "project.archived", actor)
    return project


@transaction.atomic
def project_unarchive(*, project: Project, actor) -> Project:
    """Make an archived project writable again. Idempotent."""
    project = project_lock(project)
    if project.archived_at is not None:
        project.archived_at = None
        project.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            actor=actor,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="project.unarchived",
            target=project,
        )
        _announce(project, "project.unarchived", actor)
    return project


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
    _announce(project, "member.added", actor, username=user.username, role=role)
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
    _announce(project, "member.role_changed", actor, username=membership.user.username, role=role)
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
    _announce(project, "member.removed", actor, username=username)
    feed_evict_on_commit(membership.user_id, reason="member_removed")  # their open sockets close
    _schedule_stats(project)


# --- Versioned label schema and guidelines ------------------------------------------------------------


def _validate_schema_definition(definition: Any) -> None:
    if not isinstance(definition, dict):
        raise DomainError("invalid_schema", "A label schema must be a JSON object.")
    encoded = json.dumps(definition, ensure_ascii=False)
    if len(encoded.encode()) > settings.PROJECTS_SCHEMA_MAX_BYTES:
        raise DomainError(
            "schema_too_large", f"A label schema may be at most {settings.PROJECTS_SCHEMA_MAX_BYTES} bytes."
        )
    if "\\u0000" in encoded:
        raise DomainError("invalid_schema", "A label schema may not contain NUL characters.")
    issues = validate_schema(definition)
    if issues:
        raise DomainError(
            "invalid_schema",
            f"The label schema has {len(issues)} problem(s); the first: {issues[0].path or 'schema'}: "
            f"{issues[0].message}",
            extra={"errors": [{"path": i.path, "code": i.code, "message": i.message} for i in issues[:100]]},
        )


@transaction.atomic
def schema_version_create(*, project: Project, actor, definition: dict, note: str = "") -> LabelSchemaVersion:
    """Append a new schema version (max + 1). Earlier versions are never changed."""
    project = project_lock(project)
    project_ensure_active(project)
    _validate_schema_definition(definition)
    latest = LabelSchemaVersion.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    version = LabelSchemaVersion.objects.create(
        project=project, version=latest + 1, definition=definition, note=note, created_by=actor
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="schema.version_created",
        target=version,
        changes={"version": version.version, "note": note},
    )
    _announce(project, "schema.version_created", actor, version=version.version)
    _schedule_stats(project)
    return version


@transaction.atomic
def guideline_version_create(*, project: Project, actor, body: str, note: str = "") -> GuidelineVersion:
    """Append a new guideline version (max + 1). Earlier versions are never changed."""
    project = project_lock(project)
    project_ensure_active(project)
    if not body.strip():
        raise DomainError("empty_guidelines", "Guidelines cannot be empty.")
    if len(body) > settings.PROJECTS_GUIDELINE_MAX_CHARS:
        raise DomainError(
            "guidelines_too_long",
            f"Guidelines may be at most {settings.PROJECTS_GUIDELINE_MAX_CHARS} characters.",
        )
    if "\x00" in body:
        raise DomainError("invalid_guidelines", "Guidelines may not contain NUL characters.")
    latest = GuidelineVersion.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    version = GuidelineVersion.objects.create(
        project=project, version=latest + 1, body=body, note=note, created_by=actor
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="guideline.version_created",
        target=version,
        changes={"version": version.version, "note": note},
    )
    _announce(project, "guideline.version_created", actor, version=version.version)
    _schedule_stats(project)
    return version


# --- Background -------------------------------------------------------------------------------------


LABEL_MIGRATION_TASK = task_names.LABEL_MIGRATION_APPLY


@transaction.atomic
def schema_labels_migrate(*, project: Project, actor, operations: Any, note: str = "") -> LabelMigration:
    """Rename, merge, split or delete labels: a new schema version made from the newest one, recorded
    as a LabelMigration. Old annotations keep their version and stay readable; the annotation app
    sends items whose annotations used a split or deleted label back to review (after commit)."""
    project = project_lock(project)
    project_ensure_active(project)
    latest = LabelSchemaVersion.objects.filter(project=project).order_by("-version").first()
    if latest is None:
        raise DomainError("no_schema", "This project has no label schema to migrate.", status_code=409)
    plan = plan_label_migration(latest.definition, operations)
    if plan.issues:
        issue = plan.issues[0]
        raise DomainError(
            "invalid_migration",
            f"{issue.path}: {issue.message}",
            extra={"errors": [{"path": i.path, "code": i.code, "message": i.message} for i in plan.issues]},
        )
    note = note or "Label migration: " + "; ".join(describe_label_operation(op) for op in operations)
    version = schema_version_create(project=project, actor=actor, definition=plan.definition, note=note[:500])
    migration = LabelMigration.objects.create(
        project=project, from_version=latest, to_version=version, operations=operations, created_by=actor
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="schema.labels_migrated",
        target=migration,
        changes={
            "from_version": latest.version,
            "to_version": version.version,
            "operations": operations,
            "re_review": {name: sorted(labels) for name, labels in plan.re_review.items()},
        },
    )
    # Always: the job sends items with split/deleted labels back to review (when there are any) and
    # has the quality app re-read old answers under the new label names.
    outbox_enqueue(task_name=LABEL_MIGRATION_TASK, kwargs={"migration_id": migration.id})
    return migration


def describe_label_operation(operation: dict) -> str:
    """One label operation in words: "merge pos, very_pos -> positive in sentiment"."""

    def names(value) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    if operation["op"] == "delete":
        return f"delete {operation['label']} in {operation['control']}"
    return (
        f"{operation['op']} {names(operation['from'])} -> {names(operation['to'])} in {operation['control']}"
    )


@transaction.atomic
def guideline_acknowledge(*, project: Project, user, version: int) -> GuidelineAcknowledgement:
    """Record that `user` read guideline `version` (the newest; acknowledging an old one is refused).
    Idempotent."""
    if not GuidelineVersion.objects.filter(project=project, version=version).exists():
        raise DomainError("not_found", "Not found.", status_code=404)
    latest = GuidelineVersion.objects.filter(project=project).order_by("-version").first()
    if latest is None or latest.version != version:
        raise DomainError(
            "stale_guidelines",
            f"Guidelines version {version} is not the newest"
            + (f" (version {latest.version} is); read it first." if latest else "; there are none."),
            status_code=409,
        )
    ack, created = GuidelineAcknowledgement.objects.get_or_create(guideline_version=latest, user=user)
    if created:
        audit_record(
            actor=user,
            organisation_id=project.organisation_id,
            project_id=project.id,
            action="guideline.acknowledged",
            target=latest,
            changes={"version": latest.version},
        )
    return ack


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
    _announce(project, "member.paused", actor, username=membership.user.username)
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
    _announce(project, "member.resumed", actor, username=membership.user.username)
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


@transaction.atomic
def project_stats_refresh(*, project_id: int) -> ProjectStats | None:
    """Recount a project's members and versions into ProjectStats and announce them.

    Idempotent (reruns replace the same row); a project deleted meanwhile is skipped. Runs in the
    worker, scheduled through the outbox by every service that changes these counts.
    """
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return None
    roles = ProjectMembership.objects.filter(project=project).aggregate(
        members=Count("id"),
        managers=Count("id", filter=Q(role=ProjectMembership.Role.MANAGER)),
        reviewers=Count("id", filter=Q(role=ProjectMembership.Role.REVIEWER)),
        annotators=Count("id", filter=Q(role=ProjectMembership.Role.ANNOTATOR)),
    )
    stats, _ = ProjectStats.objects.update_or_create(
        project=project,
        defaults={
            **roles,
            "schema_versions": LabelSchemaVersion.objects.filter(project=project).count(),
            "guideline_versions": GuidelineVersion.objects.filter(project=project).count(),
            "computed_at": timezone.now(),
        },
    )
    broadcast_on_commit(
        project_group(project.id),
        "project.stats_updated",
        {"project_id": project.id, "stats": stats.as_dict()},
    )
    return stats


# --- Projects from a Label Studio labeling config ---------------------------------------------------


def labelstudio_schema_preview(*, labelstudio_config: str) -> tuple[dict, list[dict]]:
    """The label schema a Label Studio config becomes and what could not be translated (each with a
    reason), without writing anything. A config that cannot be read, or yields no control, is a 400
    `invalid_labelstudio_config` whose `reason` says why (docs/SCHEMA.md, "Label Studio configs")."""
    from .schema.labelstudio import LabelStudioConfigError, schema_from_labelstudio_config

    try:
        definition, untranslated = schema_from_labelstudio_config(labelstudio_config)
    except LabelStudioConfigError as error:
        raise DomainError(
            "invalid_labelstudio_config",
            error.message,
            extra={"reason": error.reason, "untranslated": error.untranslated[:1000]},
        ) from error
    _validate_schema_definition(definition)  # the size and NUL rules of every saved schema
    return definition, untranslated


@transaction.atomic
def project_create_from_labelstudio(
    *,
    organisation: Organisation,
    actor,
    name: str,
    labelstudio_config: str,
    description: str = "",
    overlap: int | None = None,
    settings_: dict | None = None,
) -> tuple[Project, LabelSchemaVersion, list[dict]]:
    """Create a project whose schema version 1 is translated from a Label Studio config. All or
    nothing: a config that cannot be translated creates no project. What was not translated is kept
    in the audit log (`schema.labelstudio_translated`) as well as returned."""
    definition, untranslated = labelstudio_schema_preview(labelstudio_config=labelstudio_config)
    project = project_create(
        organisation=organisation,
        actor=actor,
        name=name,
        description=description,
        overlap=overlap,
        settings_=settings_,
    )
    note = "Translated from a Label Studio config"
    note += f"; {len(untranslated)} element(s) not translated." if untranslated else "."
    version = schema_version_create(project=project, actor=actor, definition=definition, note=note)
    audit_record(
        actor=actor,
        organisation_id=organisation.id,
        project_id=project.id,
        action="schema.labelstudio_translated",
        target=version,
        changes={"version": version.version, "untranslated": untranslated[:1000]},
    )
    return project, version, untranslated
