"""Organisation settings: who may create projects (`Organisation.project_creators`)."""

from django.db import transaction

from core.audit import audit_record
from core.exceptions import DomainError

from ..models import Organisation


@transaction.atomic
def organisation_settings_update(*, organisation: Organisation, actor, project_creators: str) -> Organisation:
    """Set who may create projects: "admins" (organisation admins only) or "managers" (also whoever
    manages a project of the organisation). Audited; a no-op change writes nothing."""
    if project_creators not in Organisation.ProjectCreators.values:
        raise DomainError(
            "invalid_project_creators",
            f"project_creators is one of {', '.join(Organisation.ProjectCreators.values)}.",
        )
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.project_creators == project_creators:
        return organisation
    before = organisation.project_creators
    organisation.project_creators = project_creators
    organisation.save(update_fields=["project_creators", "updated_at"])
    audit_record(
        actor=actor,
        organisation_id=organisation.id,
        action="organisation.settings_changed",
        target=organisation,
        changes={"project_creators": [before, project_creators]},
    )
    return organisation
