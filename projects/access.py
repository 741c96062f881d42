"""Who may see or do what. The API, the pages and the websocket consumers all ask this module.

Rules:
- Outside your organisation, or in a project you are not a member of (and not an organisation
  admin), everything answers 404: nobody learns what exists elsewhere.
- A role that may see but not act gets 403.
Both rules come from the two tables below, which the role-by-action matrix test walks in full.
"""

from enum import StrEnum

from django.db.models import Q

from core.exceptions import Forbidden, NotFound

from .models import Organisation, OrganisationMembership, Project, ProjectMembership

ORG_ADMIN = "org_admin"  # an organisation admin acts as a manager in every project of the organisation
MANAGER = ProjectMembership.Role.MANAGER.value
REVIEWER = ProjectMembership.Role.REVIEWER.value
ANNOTATOR = ProjectMembership.Role.ANNOTATOR.value
ORG_MEMBER = OrganisationMembership.Role.MEMBER.value


class ProjectAction(StrEnum):
    VIEW = "view"
    UPDATE = "update"
    ARCHIVE = "archive"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    VIEW_SCHEMA = "view_schema"
    EDIT_SCHEMA = "edit_schema"
    VIEW_GUIDELINES = "view_guidelines"
    EDIT_GUIDELINES = "edit_guidelines"
    JOIN_FEED = "join_feed"
    VIEW_ITEMS = "view_items"  # the item list, metadata, import jobs and splits
    IMPORT_DATA = "import_data"  # upload, split, edit metadata types
    ANNOTATE = "annotate"  # take items from the queue, save drafts, submit, skip
    REVIEW = "review"  # the review queue: accept, reject, fix
    VIEW_ANNOTATIONS = "view_annotations"  # everyone's annotations (annotators see their own)
    MANAGE_WORKFLOW = "manage_workflow"  # priorities, pools, gold, escalation, pausing, predictions
    VIEW_QUALITY = "view_quality"  # agreement, consensus, gold scores, annotator performance
    VIEW_MEMBER_EMAILS = "view_member_emails"  # members' email addresses (others see names only)
    # Personal data found in items: raw values regardless of the masking setting, the findings list,
    # confirm/dismiss and detection runs (settings.privacy masks the others: annotation/pii).
    MANAGE_PERSONAL_DATA = "manage_personal_data"
    MANAGE_CONSENT = "manage_consent"  # change items' consent and licence, the release policy
    ERASE = "erase"  # erase items, a data subject or a source; withdraws releases (docs/GOVERNANCE.md)


class OrgAction(StrEnum):
    VIEW = "view"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    CREATE_PROJECT = "create_project"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_RECORD_OF_PROCESSING = "view_record_of_processing"  # the Art. 30-style record (#18)
    VIEW_MEMBER_EMAILS = "view_member_emails"  # members' email addresses (others see names only)
    DELETE_ACCOUNTS = "delete_accounts"  # delete a member's account (docs/GOVERNANCE.md#deleting-accounts)


_EVERY_PROJECT_ROLE = frozenset({ORG_ADMIN, MANAGER, REVIEWER, ANNOTATOR})
_MANAGERS = frozenset({ORG_ADMIN, MANAGER})

PROJECT_PERMISSIONS: dict[ProjectAction, frozenset[str]] = {
    ProjectAction.VIEW: _EVERY_PROJECT_ROLE,
    ProjectAction.UPDATE: _MANAGERS,
    ProjectAction.ARCHIVE: _MANAGERS,
    ProjectAction.VIEW_MEMBERS: _EVERY_PROJECT_ROLE,
    ProjectAction.MANAGE_MEMBERS: _MANAGERS,
    ProjectAction.VIEW_SCHEMA: _EVERY_PROJECT_ROLE,
    ProjectAction.EDIT_SCHEMA: _MANAGERS,
    ProjectAction.VIEW_GUIDELINES: _EVERY_PROJECT_ROLE,
    ProjectAction.EDIT_GUIDELINES: _MANAGERS,
    ProjectAction.JOIN_FEED: _EVERY_PROJECT_ROLE,
    # Annotators see items only through their labeling queue (blind labeling), not the whole list.
    ProjectAction.VIEW_ITEMS: frozenset({ORG_ADMIN, MANAGER, REVIEWER}),
    ProjectAction.IMPORT_DATA: _MANAGERS,
    ProjectAction.ANNOTATE: frozenset({ORG_ADMIN, MANAGER, ANNOTATOR}),
    ProjectAction.REVIEW: frozenset({ORG_ADMIN, MANAGER, REVIEWER}),
    ProjectAction.VIEW_ANNOTATIONS: frozenset({ORG_ADMIN, MANAGER, REVIEWER}),
    ProjectAction.MANAGE_WORKFLOW: _MANAGERS,
    ProjectAction.VIEW_QUALITY: frozenset({ORG_ADMIN, MANAGER, REVIEWER}),
    ProjectAction.VIEW_MEMBER_EMAILS: _MANAGERS,
    ProjectAction.MANAGE_PERSONAL_DATA: _MANAGERS,
    ProjectAction.MANAGE_CONSENT: _MANAGERS,
    # Organisation admins only: an erasure cannot be undone, withdraws published releases, and answers
    # a legal request the organisation (the controller) owns. Managers ask an admin.
    ProjectAction.ERASE: frozenset({ORG_ADMIN}),
}

_ORG_ADMIN_ROLE = OrganisationMembership.Role.ADMIN.value
ORG_PERMISSIONS: dict[OrgAction, frozenset[str]] = {
    OrgAction.VIEW: frozenset({_ORG_ADMIN_ROLE, ORG_MEMBER}),
    OrgAction.VIEW_MEMBERS: frozenset({_ORG_ADMIN_ROLE, ORG_MEMBER}),
    OrgAction.MANAGE_MEMBERS: frozenset({_ORG_ADMIN_ROLE}),
    # Plus, when the organisation's `project_creators` is "managers" (the default), whoever manages
    # a project of the organisation: project_creation_refusal below.
    OrgAction.CREATE_PROJECT: frozenset({_ORG_ADMIN_ROLE}),
    OrgAction.VIEW_AUDIT_LOG: frozenset({_ORG_ADMIN_ROLE}),
    OrgAction.VIEW_RECORD_OF_PROCESSING: frozenset({_ORG_ADMIN_ROLE}),
    # Plus the managers of any project of the organisation: can_see_member_emails below.
    OrgAction.VIEW_MEMBER_EMAILS: frozenset({_ORG_ADMIN_ROLE}),
    # A person deletes their own account without any role (projects.services.accounts.account_delete).
    OrgAction.DELETE_ACCOUNTS: frozenset({_ORG_ADMIN_ROLE}),
}


def _is_person(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def org_role_of(*, user, organisation_id: int) -> str | None:
    if not _is_person(user):
        return None
    return (
        OrganisationMembership.objects.filter(organisation_id=organisation_id, user=user)
        .values_list("role", flat=True)
        .first()
    )


def project_role_of(*, user, project: Project) -> str | None:
    """The role that decides `user`'s rights in `project`: org_admin, manager, reviewer, annotator or None.
    No query when `project` came from project_get_for_user for this user (it carries the role)."""
    if not _is_person(user):
        return None
    if getattr(project, "_role_user_id", None) == user.pk:
        return project._role
    if org_role_of(user=user, organisation_id=project.organisation_id) == _ORG_ADMIN_ROLE:
        return ORG_ADMIN
    return ProjectMembership.objects.filter(project=project, user=user).values_list("role", flat=True).first()


_PROJECT_WITH_ROLES = """
SELECT p.*,
       (SELECT m.role FROM projects_organisationmembership m
         WHERE m.organisation_id = p.organisation_id AND m.user_id = %s) AS _org_role,
       (SELECT m.role FROM projects_projectmembership m
         WHERE m.project_id = p.id AND m.user_id = %s) AS _project_role
FROM projects_project p WHERE p.id = %s
"""


def project_get_for_user(*, user, project_id: int, action: ProjectAction = ProjectAction.VIEW) -> Project:
    """The project, if `user` may do `action` in it. 404 if they cannot see it, 403 if they cannot act.
    One query: the project with the user's organisation and project roles (this runs on every request)."""
    if not _is_person(user):
        raise NotFound()
    # Raw SQL: this runs on every API request, and the ORM's compilation of two correlated
    # subqueries cost more than the query itself. Values are parameters.
    rows = Project.objects.raw(_PROJECT_WITH_ROLES, [user.pk, user.pk, project_id])
    project = next(iter(rows), None)
    role = None
    if project is not None:
        role = ORG_ADMIN if project._org_role == _ORG_ADMIN_ROLE else project._project_role
    if role is None:
        raise NotFound()
    if role not in PROJECT_PERMISSIONS[action]:
        raise Forbidden()
    project._role, project._role_user_id = role, user.pk  # project_role_of needs no second query
    return project


def organisation_get_for_user(
    *, user, organisation_id: int, action: OrgAction = OrgAction.VIEW
) -> Organisation:
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    role = org_role_of(user=user, organisation_id=organisation_id) if organisation is not None else None
    if role is None:
        raise NotFound()
    if action == OrgAction.CREATE_PROJECT:
        refusal = project_creation_refusal(user=user, organisation=organisation, role=role)
        if refusal is not None:
            raise Forbidden(refusal)
    elif role not in ORG_PERMISSIONS[action]:
        raise Forbidden()
    return organisation


def project_creation_refusal(*, user, organisation: Organisation, role: str | None = None) -> str | None:
    """Why `user` may not create a project in `organisation` (a sentence for them), or None if they
    may. Organisation admins always may; with the organisation setting `project_creators` =
    "managers" (the default) so may whoever manages one of its projects."""
    if role is None:
        role = org_role_of(user=user, organisation_id=organisation.id)
    if role is None:
        return "You are not a member of this organisation."
    if role in ORG_PERMISSIONS[OrgAction.CREATE_PROJECT]:
        return None
    admins = ", ".join(
        OrganisationMembership.objects.filter(organisation=organisation, role=_ORG_ADMIN_ROLE)
        .order_by("user__username")
        .values_list("user__username", flat=True)[:5]
    )
    ask = f" Ask an organisation admin ({admins})" if admins else " Ask an organisation admin"
    if organisation.project_creators == Organisation.ProjectCreators.MANAGERS:
        if ProjectMembership.objects.filter(
            user=user, project__organisation=organisation, role=MANAGER
        ).exists():
            return None
        return (
            f"In {organisation.name}, organisation admins and the managers of a project create projects, "
            f"and you manage none.{ask} to create it or to make you a manager of a project."
        )
    return (
        f"In {organisation.name}, only organisation admins create projects (an organisation setting)."
        f"{ask} to create it, or to let project managers create projects."
    )


def can_see_member_emails(*, user, organisation_id: int) -> bool:
    """Email addresses of an organisation's members: its admins, and whoever manages one of its projects
    (they add people and need to reach them). Everyone else sees usernames and names only."""
    role = org_role_of(user=user, organisation_id=organisation_id)
    if role is None:
        return False
    if role in ORG_PERMISSIONS[OrgAction.VIEW_MEMBER_EMAILS]:
        return True
    project_roles = {r for r in PROJECT_PERMISSIONS[ProjectAction.VIEW_MEMBER_EMAILS] if r != ORG_ADMIN}
    return ProjectMembership.objects.filter(
        user=user, project__organisation_id=organisation_id, role__in=project_roles
    ).exists()


def can_do_in_project(*, user, project: Project, action: ProjectAction) -> bool:
    return project_role_of(user=user, project=project) in PROJECT_PERMISSIONS[action]


class ProjectCapabilities(dict):
    """What one user may do in one project: {action: bool} for every ProjectAction, and their `role`.

    Templates read `can.view_items`, `can.manage_workflow`; Python reads `can[ProjectAction.REVIEW]`.
    Permissions only: whether an archived project still accepts the action is the page's concern.
    """

    def __init__(self, role: str | None):
        super().__init__({action.value: role in roles for action, roles in PROJECT_PERMISSIONS.items()})
        self.role = role


def project_capabilities(*, user, project: Project) -> ProjectCapabilities:
    """Everything `user` may do in `project`, computed once from the permission table (no query when
    `project` came from project_get_for_user, one otherwise). Every project page's context has it."""
    return ProjectCapabilities(project_role_of(user=user, project=project))


def can_do_in_organisation(*, user, organisation_id: int, action: OrgAction) -> bool:
    return org_role_of(user=user, organisation_id=organisation_id) in ORG_PERMISSIONS[action]


def can_view_project(*, user, project_id: int) -> bool:
    try:
        project_get_for_user(user=user, project_id=project_id, action=ProjectAction.JOIN_FEED)
    except (NotFound, Forbidden):
        return False
    return True


def projects_visible_filter(*, user) -> Q:
    """A Q over Project: projects of organisations `user` administers, plus those they are a member of."""
    if not _is_person(user):
        return Q(pk__in=[])
    admin_orgs = OrganisationMembership.objects.filter(user=user, role=_ORG_ADMIN_ROLE).values(
        "organisation_id"
    )
    member_projects = ProjectMembership.objects.filter(user=user).values("project_id")
    return Q(organisation_id__in=admin_orgs) | Q(pk__in=member_projects)


def organisations_visible_filter(*, user) -> Q:
    if not _is_person(user):
        return Q(pk__in=[])
    return Q(pk__in=OrganisationMembership.objects.filter(user=user).values("organisation_id"))


# --- The websocket feed: which role hears which event --------------------------------------------
# Every event a service broadcasts to a project's feed, with the action a role needs to receive it.
# An event missing here reaches only roles that see everything (VIEW_ANNOTATIONS) and is logged;
# tests/projects/test_feed_consumer.py fails for any event sent in the code but not listed.
_EVERY_MEMBER = ProjectAction.JOIN_FEED
FEED_EVENT_AUDIENCE: dict[str, ProjectAction] = {
    # the project, its people and versions: every member
    "project.updated": _EVERY_MEMBER,
    "project.archived": _EVERY_MEMBER,
    "project.unarchived": _EVERY_MEMBER,
    "member.added": _EVERY_MEMBER,
    "member.removed": _EVERY_MEMBER,
    "member.role_changed": _EVERY_MEMBER,
    "schema.version_created": _EVERY_MEMBER,
    "guideline.version_created": _EVERY_MEMBER,
    "project.stats_updated": _EVERY_MEMBER,
    # the labeling page notices a lost lease from these: every member
    "item.leased": _EVERY_MEMBER,
    "lease.expired": _EVERY_MEMBER,
    # the item list and data management: those who see the item list
    "import.progress": ProjectAction.VIEW_ITEMS,
    "import.finished": ProjectAction.VIEW_ITEMS,
    "split.assigned": ProjectAction.VIEW_ITEMS,
    "split.failed": ProjectAction.VIEW_ITEMS,
    "near_duplicates.detected": ProjectAction.VIEW_ITEMS,
    "near_duplicates.resolved": ProjectAction.VIEW_ITEMS,
    "bucket_source.sync_progress": ProjectAction.VIEW_ITEMS,
    "bucket_source.synced": ProjectAction.VIEW_ITEMS,
    "bucket_source.sync_failed": ProjectAction.VIEW_ITEMS,
    "items.workflow_changed": ProjectAction.VIEW_ITEMS,
    "items.sent_to_review": ProjectAction.VIEW_ITEMS,
    "item.state_changed": ProjectAction.VIEW_ITEMS,
    "item.skipped": ProjectAction.VIEW_ITEMS,
    "review.leased": ProjectAction.VIEW_ITEMS,
    # everyone's annotations and what is built from them
    "annotation.submitted": ProjectAction.VIEW_ANNOTATIONS,
    "review.decided": ProjectAction.VIEW_ANNOTATIONS,
    "release.created": ProjectAction.VIEW_ANNOTATIONS,
    "release.progress": ProjectAction.VIEW_ANNOTATIONS,
    "release.published": ProjectAction.VIEW_ANNOTATIONS,
    "release.failed": ProjectAction.VIEW_ANNOTATIONS,
    "release.reproduced": ProjectAction.UPDATE,  # rebuild results: those who may build (exports.api)
    "quality.updated": ProjectAction.VIEW_QUALITY,
    "member.paused": ProjectAction.VIEW_QUALITY,  # quality measures pause people; their queue says so
    "member.resumed": ProjectAction.VIEW_QUALITY,
}
_UNLISTED_EVENT_AUDIENCE = ProjectAction.VIEW_ANNOTATIONS


def feed_role(*, user, project_id: int) -> str | None:
    """The role `user` holds on `project_id`'s feed, or None if they may not join it."""
    try:
        project = project_get_for_user(user=user, project_id=project_id, action=ProjectAction.JOIN_FEED)
    except (NotFound, Forbidden):
        return None
    return ORG_ADMIN if project._org_role == _ORG_ADMIN_ROLE else project._project_role


def feed_event_visible(*, role: str | None, event_type: str) -> bool:
    action = FEED_EVENT_AUDIENCE.get(event_type, _UNLISTED_EVENT_AUDIENCE)
    return role is not None and role in PROJECT_PERMISSIONS[action]


def project_creation_options(*, user) -> tuple[list[Organisation], list[tuple[Organisation, str]]]:
    """The organisations `user` may create projects in, and the others with the reason why not (for
    the new-project page and the project list)."""
    allowed, refused = [], []
    if not _is_person(user):
        return allowed, refused
    memberships = OrganisationMembership.objects.filter(user=user).select_related("organisation")
    for membership in memberships.order_by("organisation__name"):
        refusal = project_creation_refusal(
            user=user, organisation=membership.organisation, role=membership.role
        )
        if refusal is None:
            allowed.append(membership.organisation)
        else:
            refused.append((membership.organisation, refusal))
    return allowed, refused
