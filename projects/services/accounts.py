"""Deleting an account (docs/GOVERNANCE.md#deleting-accounts): an organisation admin deletes a member's
account, or a person deletes their own. Personal fields are scrubbed (accounts.services.user_account_scrub),
memberships end, and the user row stays: release lineage pseudonyms are an HMAC of the project and the
user id (exports.services.reading._Pseudonyms), so a release rebuilt afterwards names the same annotator
with the same pseudonym, and audit rows keep their actor id (pages show "deleted user").
"""

from django.db import transaction

from accounts.services import user_account_scrub
from core.audit import audit_record
from core.exceptions import DomainError, NotFound
from core.realtime import feed_evict_on_commit

from .. import access
from ..access import OrgAction
from ..models import Organisation, OrganisationMembership, ProjectMembership
from .common import _schedule_stats


@transaction.atomic
def account_delete(*, actor, user, organisation: Organisation | None = None) -> dict:
    """Delete `user`'s account. Themselves: `organisation` is None. An admin: `organisation` is where
    they hold DELETE_ACCOUNTS and `user` is a member; an account that belongs to other organisations
    too is refused (409 `member_of_other_organisations`: those organisations' admins must agree).
    The last admin of an organisation cannot be deleted (409 `last_admin`). Idempotent."""
    from accounts.models import User

    user = User.objects.select_for_update().get(pk=user.pk)
    self_service = actor.pk == user.pk
    if not self_service:
        if organisation is None:
            raise NotFound()
        access.organisation_get_for_user(
            user=actor, organisation_id=organisation.id, action=OrgAction.DELETE_ACCOUNTS
        )
        if user.deleted_at is not None:
            return {"user_id": user.pk, "already_deleted": True}
        memberships = OrganisationMembership.objects.filter(user=user)
        if not memberships.filter(organisation=organisation).exists():
            raise NotFound()
        others = memberships.exclude(organisation=organisation).count()
        if others:
            raise DomainError(
                "member_of_other_organisations",
                f"This account belongs to {others} other organisation(s): remove them from this one "
                "instead, or ask them to delete their own account.",
                status_code=409,
            )
    elif user.deleted_at is not None:
        return {"user_id": user.pk, "already_deleted": True}
    memberships = list(
        OrganisationMembership.objects.select_for_update().filter(user=user).select_related("organisation")
    )
    for membership in memberships:
        if membership.role == OrganisationMembership.Role.ADMIN:
            admins = OrganisationMembership.objects.filter(
                organisation=membership.organisation, role=OrganisationMembership.Role.ADMIN
            ).count()
            if admins <= 1:
                raise DomainError(
                    "last_admin",
                    f"The only admin of {membership.organisation.name} cannot be deleted: make someone "
                    "else an admin first.",
                    status_code=409,
                )
    project_rows = list(ProjectMembership.objects.filter(user=user).select_related("project"))
    scrub = user_account_scrub(user=user)
    if self_service:
        user.refresh_from_db()
        actor = user  # the audit row names them by their new, scrubbed name
    ProjectMembership.objects.filter(user=user).delete()
    OrganisationMembership.objects.filter(user=user).delete()
    result = {
        "user_id": user.pk,
        "already_deleted": False,
        "by": "self" if self_service else "organisation_admin",
        "memberships_ended": len(memberships) + len(project_rows),
        "tokens_revoked": scrub["tokens_revoked"],
    }
    organisations = {m.organisation_id for m in memberships} or {None}
    for organisation_id in sorted(organisations, key=lambda value: value or 0):
        audit_record(
            actor=actor,
            organisation_id=organisation_id,
            action="user.account_deleted",
            target=user,
            changes={
                **result,
                "projects": sorted(
                    m.project_id for m in project_rows if m.project.organisation_id == organisation_id
                ),
            },
        )
    feed_evict_on_commit(user.pk, reason="account_deleted")
    for row in project_rows:
        _schedule_stats(row.project)
    return result
