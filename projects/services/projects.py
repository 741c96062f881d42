"""Writes on organisations and projects (create, update, archive, stats, from Label Studio). Each
function is one rule; each write is audited and announced on the project's websocket feed after commit."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.services import user_create, user_credentials_revoke
from core.audit import audit_record, diff_fields
from core.exceptions import DomainError
from core.realtime import broadcast_on_commit, feed_evict_on_commit, project_group
from core.services import outbox_enqueue

from .. import events
from ..labeling import labeling_settings_from, labeling_settings_issues
from ..models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
    ProjectStats,
)
from ..privacy_settings import privacy_settings_issues
from ..project_settings import merge_patch, unknown_setting_keys
from ..quality_settings import quality_settings_from, quality_settings_issues
from ..release_policy import release_policy_issues
from ..retention_settings import retention_settings_issues
from .common import (
    ITEM_TARGETS_TASK,
    QUEUE_ORDER_TASK,
    _announce,
    _schedule_stats,
    project_ensure_active,
    project_lock,
)
from .label_schema import _validate_schema_definition, schema_version_create

User = get_user_model()


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


# Each settings section's checker and the error code of a refusal, in the order they are checked.
_SECTION_CHECKS = (
    ("labeling", labeling_settings_issues, "invalid_settings"),
    ("quality", quality_settings_issues, "invalid_settings"),
    ("privacy", privacy_settings_issues, "invalid_settings"),
    ("release", release_policy_issues, "invalid_release_policy"),
    ("retention", retention_settings_issues, "invalid_retention"),
)


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
        for section, issues_of, code in _SECTION_CHECKS:
            if section in fields["settings"]:
                issues = issues_of(fields["settings"][section])
                if issues:
                    raise DomainError(code, " ".join(issues))


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
    _announce(project, events.PROJECT_UPDATED, actor, fields=sorted(changes))
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
        _announce(project, events.PROJECT_ARCHIVED, actor)
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
        _announce(project, events.PROJECT_UNARCHIVED, actor)
    return project


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
        events.PROJECT_STATS_UPDATED,
        {"project_id": project.id, "stats": stats.as_dict()},
    )
    return stats


# --- Projects from a Label Studio labeling config ---------------------------------------------------


def labelstudio_schema_preview(*, labelstudio_config: str) -> tuple[dict, list[dict]]:
    """The label schema a Label Studio config becomes and what could not be translated (each with a
    reason), without writing anything. A config that cannot be read, or yields no control, is a 400
    `invalid_labelstudio_config` whose `reason` says why (docs/SCHEMA.md, "Label Studio configs")."""
    from ..schema.labelstudio import LabelStudioConfigError, schema_from_labelstudio_config

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
