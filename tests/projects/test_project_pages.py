"""Server-rendered project, organisation and token pages, signed in with Django's test client."""

import json

import pytest

from accounts.models import ApiToken
from core.models import AuditEvent
from projects import services
from projects.models import GuidelineVersion, LabelSchemaVersion, Project, ProjectMembership
from tests.factories import PASSWORD, ProjectFactory, label_schema

pytestmark = pytest.mark.django_db


def project_row(project) -> dict:
    return Project.objects.filter(pk=project.pk).values().get()


def settings_form(project, **values) -> dict:
    """The settings form as the page renders it: current values, the hidden updated_at, then `values`."""
    project = Project.objects.get(pk=project.pk)
    return {
        "name": project.name,
        "description": project.description,
        "overlap": project.overlap,
        "expected_updated_at": project.updated_at.isoformat(),
        **values,
    }


def memberships(project) -> list[tuple]:
    return list(
        ProjectMembership.objects.filter(project=project)
        .order_by("user__username")
        .values_list("user__username", "role")
    )


# --- Project list and detail ----------------------------------------------------------------------


def test_project_list_shows_visible_projects_only(people, page_for):
    hidden = ProjectFactory(organisation=people.organisation, name="Not yours either")

    response = page_for(people.annotator).get("/projects/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/projects/{people.project.id}/"' in html
    assert "Reviews" in html
    assert "Globex secrets" not in html
    assert f'href="/projects/{people.other_project.id}/"' not in html
    assert hidden.name not in html


def test_project_list_for_org_admin_shows_every_project_of_the_organisation(people, page_for):
    ProjectFactory(organisation=people.organisation, name="Admin sees me")

    response = page_for(people.org_admin).get("/projects/")

    html = response.content.decode()
    assert "Admin sees me" in html
    assert "Reviews" in html
    assert "Globex secrets" not in html


def test_project_list_hides_archived_projects_unless_asked(people, page_for):
    services.project_archive(project=people.project, actor=people.manager)
    client = page_for(people.manager)

    default = client.get("/projects/")
    with_archived = client.get("/projects/?archived=1")

    assert f'href="/projects/{people.project.id}/"' not in default.content.decode()
    assert f'href="/projects/{people.project.id}/"' in with_archived.content.decode()


@pytest.mark.parametrize("role", ["org_admin", "manager", "reviewer", "annotator"])
def test_project_detail_renders_for_members(people, page_for, role):
    response = page_for(people.by_role(role)).get(f"/projects/{people.project.id}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<div id="project-live"></div>' in html
    assert (
        '<script id="project-config" type="application/json">'
        f'{{"project_id": {people.project.id}, "ws_path": "/ws/projects/{people.project.id}/"}}</script>'
    ) in html


@pytest.mark.parametrize("role", ["org_member", "outsider"])
def test_project_detail_is_not_found_for_non_members(people, page_for, role):
    response = page_for(people.by_role(role)).get(f"/projects/{people.project.id}/")

    assert response.status_code == 404
    assert "Reviews" not in response.content.decode()


def test_page_of_another_organisations_project_is_not_found(people, page_for):
    response = page_for(people.org_admin).get(f"/projects/{people.other_project.id}/")

    assert response.status_code == 404
    assert "Globex secrets" not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "shows_settings"),
    [("manager", True), ("org_admin", True), ("reviewer", False), ("annotator", False)],
)
def test_settings_form_is_shown_to_managers_only(people, page_for, role, shows_settings):
    response = page_for(people.by_role(role)).get(f"/projects/{people.project.id}/")

    assert ('id="settings-title"' in response.content.decode()) is shows_settings


def test_manager_updates_settings_through_the_form(people, page_for):
    client = page_for(people.manager)

    response = client.post(
        f"/projects/{people.project.id}/",
        settings_form(people.project, name="Product reviews", description="Stars and words.", overlap=2),
    )

    assert response.status_code == 302
    assert response.url == f"/projects/{people.project.id}/"
    row = project_row(people.project)
    assert (row["name"], row["description"], row["overlap"]) == ("Product reviews", "Stars and words.", 2)
    assert AuditEvent.objects.get(action="project.updated").changes == {
        "name": ["Reviews", "Product reviews"],
        "description": ["Sentiment of product reviews.", "Stars and words."],
        "overlap": [1, 2],
    }


def test_settings_form_shows_rule_errors_and_changes_nothing(people, page_for):
    ProjectFactory(organisation=people.organisation, name="Taken")
    before = project_row(people.project)

    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/", settings_form(people.project, name="Taken")
    )

    assert response.status_code == 400
    assert "A project named &#x27;Taken&#x27; exists in this organisation." in response.content.decode()
    assert project_row(people.project) == before


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_non_manager_posting_settings_is_forbidden_and_nothing_changes(people, page_for, role):
    before = project_row(people.project)

    response = page_for(people.by_role(role)).post(
        f"/projects/{people.project.id}/", settings_form(people.project, name="Hijacked", overlap=9)
    )

    assert response.status_code == 403
    assert "permission_denied" in response.content.decode()
    assert project_row(people.project) == before
    assert AuditEvent.objects.exists() is False


def test_outsider_posting_settings_is_not_found_and_nothing_changes(people, page_for):
    before = project_row(people.project)

    response = page_for(people.outsider).post(
        f"/projects/{people.project.id}/", settings_form(people.project, name="Hijacked", overlap=9)
    )

    assert response.status_code == 404
    assert project_row(people.project) == before


def test_archive_and_unarchive_through_the_form(people, page_for):
    client = page_for(people.manager)

    archived = client.post(f"/projects/{people.project.id}/archive/", {"archived": "1"})
    archived_at = project_row(people.project)["archived_at"]
    unarchived = client.post(f"/projects/{people.project.id}/archive/", {"archived": "0"})

    assert (archived.status_code, unarchived.status_code) == (302, 302)
    assert archived_at is not None
    assert project_row(people.project)["archived_at"] is None


def test_annotator_cannot_archive(people, page_for):
    response = page_for(people.annotator).post(f"/projects/{people.project.id}/archive/", {"archived": "1"})

    assert response.status_code == 403
    assert project_row(people.project)["archived_at"] is None


def test_project_name_is_escaped(people, page_for):
    services.project_update(project=people.project, actor=people.manager, name="<script>alert(1)</script>")
    client = page_for(people.org_admin)

    pages = [
        client.get("/projects/"),
        client.get(f"/projects/{people.project.id}/"),
        client.get(f"/projects/{people.project.id}/members/"),
        client.get(f"/organisations/{people.organisation.id}/audit/"),  # the name is in the audited diff
    ]

    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" not in html


def test_org_admin_creates_a_project_through_the_list_page(people, page_for):
    response = page_for(people.org_admin).post(
        "/projects/",
        {"organisation": people.organisation.id, "name": "Support tickets", "description": "", "overlap": 2},
    )

    project = Project.objects.get(name="Support tickets")
    assert response.status_code == 302
    assert response.url == f"/projects/{project.id}/"
    assert (project.organisation_id, project.overlap) == (people.organisation.id, 2)
    assert list(project.memberships.values_list("user__username", "role")) == [("org_admin", "manager")]


def test_member_who_manages_nothing_cannot_create_a_project_through_the_list_page(people, page_for):
    before = Project.objects.count()

    response = page_for(people.reviewer).post(
        "/projects/",
        {"organisation": people.organisation.id, "name": "Support tickets", "description": "", "overlap": 1},
    )

    assert response.status_code == 400  # the organisation is not among the choices offered to them
    assert Project.objects.count() == before


# --- Members page ---------------------------------------------------------------------------------


def test_members_page_lists_members(people, page_for):
    response = page_for(people.reviewer).get(f"/projects/{people.project.id}/members/")

    html = response.content.decode()
    assert response.status_code == 200
    for username in ("annotator", "manager", "reviewer"):
        assert f"<td>{username}</td>" in html
    assert "Add a member" not in html  # reviewers only look


def test_manager_adds_changes_and_removes_a_member_through_forms(people, page_for):
    client = page_for(people.manager)
    base = f"/projects/{people.project.id}/members/"

    added = client.post(base, {"username": "org_member", "role": "annotator"})
    membership = ProjectMembership.objects.get(project=people.project, user=people.org_member)
    changed = client.post(f"{base}{membership.id}/", {"role": "reviewer"})
    role_after_change = ProjectMembership.objects.get(pk=membership.id).role
    removed = client.post(f"{base}{membership.id}/", {"remove": "1"})

    assert [r.status_code for r in (added, changed, removed)] == [302, 302, 302]
    assert {r.url for r in (added, changed, removed)} == {base}
    assert role_after_change == "reviewer"
    assert ProjectMembership.objects.filter(pk=membership.id).exists() is False
    assert list(
        AuditEvent.objects.filter(project_id=people.project.id)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["project_member.added", "project_member.role_changed", "project_member.removed"]


def test_adding_someone_outside_the_organisation_shows_the_error(people, page_for):
    before = memberships(people.project)

    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/members/", {"username": "outsider", "role": "annotator"}
    )

    assert response.status_code == 400
    assert "No member of this organisation is named &#x27;outsider&#x27;." in response.content.decode()
    assert memberships(people.project) == before


def test_annotator_cannot_add_members(people, page_for):
    before = memberships(people.project)

    response = page_for(people.annotator).post(
        f"/projects/{people.project.id}/members/", {"username": "org_member", "role": "manager"}
    )

    assert response.status_code == 403
    assert memberships(people.project) == before


def test_annotator_cannot_change_or_remove_members(people, page_for):
    target = ProjectMembership.objects.get(project=people.project, user=people.reviewer)
    client = page_for(people.annotator)
    before = memberships(people.project)

    changed = client.post(f"/projects/{people.project.id}/members/{target.id}/", {"role": "annotator"})
    removed = client.post(f"/projects/{people.project.id}/members/{target.id}/", {"remove": "1"})

    assert (changed.status_code, removed.status_code) == (403, 403)
    assert memberships(people.project) == before


def test_invalid_role_in_the_change_form_is_refused(people, page_for):
    target = ProjectMembership.objects.get(project=people.project, user=people.reviewer)
    before = memberships(people.project)

    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/members/{target.id}/", {"role": "boss"}
    )

    assert response.status_code == 400
    assert "Choose manager, reviewer or annotator." in response.content.decode()
    assert memberships(people.project) == before


# --- Schema and guidelines pages ------------------------------------------------------------------


def test_schema_page_with_invalid_json_shows_the_error_and_creates_nothing(people, page_for):
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/schema/", {"definition": '{"labels": [', "note": ""}
    )

    assert response.status_code == 400
    assert "Not valid JSON: Expecting value (line 1, column 13)." in response.content.decode()
    assert LabelSchemaVersion.objects.exists() is False


def test_schema_page_with_a_json_list_shows_the_rule_error(people, page_for):
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/schema/", {"definition": "[1, 2]"}
    )

    assert response.status_code == 400
    assert "A label schema must be a JSON object." in response.content.decode()
    assert LabelSchemaVersion.objects.exists() is False


def test_schema_page_saves_a_version(people, page_for):
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/schema/",
        {"definition": json.dumps(label_schema("pos", "neg")), "note": "first"},
    )

    assert response.status_code == 302
    assert response.url == f"/projects/{people.project.id}/schema/"
    assert list(LabelSchemaVersion.objects.values_list("project_id", "version", "definition", "note")) == [
        (people.project.id, 1, label_schema("pos", "neg"), "first")
    ]


def test_guidelines_page_creates_version_1(people, page_for):
    client = page_for(people.manager)

    response = client.post(
        f"/projects/{people.project.id}/guidelines/", {"body": "# Rules\n\nBe consistent.", "note": ""}
    )

    assert response.status_code == 302
    assert list(GuidelineVersion.objects.values_list("project_id", "version", "body", "created_by")) == [
        (people.project.id, 1, "# Rules\n\nBe consistent.", people.manager.id)
    ]
    page = client.get(response.url).content.decode()
    assert "Guidelines v1 saved." in page


def test_annotator_reads_guidelines_but_cannot_post(people, page_for):
    client = page_for(people.annotator)

    read = client.get(f"/projects/{people.project.id}/guidelines/")
    posted = client.post(f"/projects/{people.project.id}/guidelines/", {"body": "# Mine"})

    assert (read.status_code, posted.status_code) == (200, 403)
    assert GuidelineVersion.objects.exists() is False


# --- Organisation pages ---------------------------------------------------------------------------


def test_org_audit_page_renders_for_the_org_admin(people, page_for):
    services.project_update(project=people.project, actor=people.manager, overlap=2)

    response = page_for(people.org_admin).get(f"/organisations/{people.organisation.id}/audit/")

    assert response.status_code == 200
    assert "project.updated" in response.content.decode()


@pytest.mark.parametrize(("role", "status"), [("org_member", 403), ("manager", 403), ("outsider", 404)])
def test_org_audit_page_is_refused_to_others(people, page_for, role, status):
    response = page_for(people.by_role(role)).get(f"/organisations/{people.organisation.id}/audit/")

    assert response.status_code == status


def test_org_members_page_lets_members_look_but_not_add(people, page_for):
    client = page_for(people.org_member)

    looked = client.get(f"/organisations/{people.organisation.id}/members/")
    posted = client.post(
        f"/organisations/{people.organisation.id}/members/", {"username": "outsider", "role": "member"}
    )

    assert (looked.status_code, posted.status_code) == (200, 403)
    assert people.outsider.org_memberships.count() == 1


def test_org_admin_creates_an_account_through_the_members_page(people, page_for):
    response = page_for(people.org_admin).post(
        f"/organisations/{people.organisation.id}/members/",
        {"username": "newcomer", "email": "", "password": "a-long-and-unusual-passphrase", "role": "member"},
    )

    assert response.status_code == 302
    assert people.organisation.memberships.filter(user__username="newcomer", role="member").exists() is True


def test_weak_password_on_the_members_page_creates_nothing(people, page_for):
    response = page_for(people.org_admin).post(
        f"/organisations/{people.organisation.id}/members/",
        {"username": "newcomer", "email": "", "password": "short", "role": "member"},
    )

    assert response.status_code == 400
    assert "This password is too short." in response.content.decode()
    assert people.organisation.memberships.filter(user__username="newcomer").exists() is False


# --- API token page -------------------------------------------------------------------------------


def test_token_page_shows_a_new_key_once(people, page_for):
    client = page_for(people.annotator)

    created = client.post("/account/tokens/", {"name": "notebook", "password": PASSWORD})
    later = client.get("/account/tokens/")

    token = ApiToken.objects.get(user=people.annotator)
    key = created.context["new_key"]
    assert created.status_code == 200
    assert key.startswith("tsr_")
    assert token.key_hash == ApiToken.hash_key(key)
    assert f"<code>{key}</code>" in created.content.decode()
    assert later.status_code == 200
    assert key not in later.content.decode()
    assert "notebook" in later.content.decode()


def test_token_page_duplicate_name_shows_the_error(people, page_for):
    client = page_for(people.annotator)
    client.post("/account/tokens/", {"name": "notebook", "password": PASSWORD})

    response = client.post("/account/tokens/", {"name": "notebook", "password": PASSWORD})

    assert response.status_code == 409
    assert "You already have an active token named &#x27;notebook&#x27;." in response.content.decode()
    assert ApiToken.objects.filter(user=people.annotator).count() == 1


def test_token_page_revokes_by_post(people, page_for):
    client = page_for(people.annotator)
    client.post("/account/tokens/", {"name": "notebook", "password": PASSWORD})
    token = ApiToken.objects.get(user=people.annotator)

    response = client.post(f"/account/tokens/{token.id}/revoke/")

    assert response.status_code == 302
    assert response.url == "/account/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_revoke_by_get_is_not_allowed(people, page_for):
    client = page_for(people.annotator)
    client.post("/account/tokens/", {"name": "notebook", "password": PASSWORD})
    token = ApiToken.objects.get(user=people.annotator)

    response = client.get(f"/account/tokens/{token.id}/revoke/")

    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_someone_elses_token_on_the_page_is_not_found(people, page_for):
    page_for(people.manager).post("/account/tokens/", {"name": "managers", "password": PASSWORD})
    token = ApiToken.objects.get(user=people.manager)

    response = page_for(people.annotator).post(f"/account/tokens/{token.id}/revoke/")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
