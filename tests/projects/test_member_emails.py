"""Who sees whose email address (issue #14): organisation admins and project managers do; annotators,
reviewers and plain members see usernames and names only.

The class of leak is "an endpoint that returns user objects shows emails to everyone". Besides the
member lists, a walk over every GET route of the API (and the pages that list people) checks that
nobody without the right sees another person's address anywhere in a response.
"""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from projects import access, services
from projects.models import OrganisationMembership, ProjectMembership
from tests.conftest import ROLES
from tests.core.test_openapi import _api_routes
from tests.factories import label_schema

pytestmark = pytest.mark.django_db

EMAIL = re.compile(r"[A-Za-z0-9._+-]+@example\.org")
SEES_EMAILS = {"org_admin": True, "manager": True, "reviewer": False, "annotator": False, "org_member": False}


@pytest.fixture
def world(people):
    for user in [people.org_admin, people.manager, people.reviewer, people.annotator, people.org_member]:
        user.first_name, user.last_name = user.username.title(), "Example"
        user.save()
    services.schema_version_create(
        project=people.project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    services.guideline_version_create(project=people.project, actor=people.manager, body="# Label it")
    return people


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", list(SEES_EMAILS))
def test_organisation_member_list_shows_emails_to_admins_and_managers_only(world, role):
    user = world.by_role(role)

    body = api(user).get(f"/api/organisations/{world.organisation.id}/members/").json()

    by_name = {row["username"]: row for row in body["results"]}
    annotator = by_name["annotator"]
    assert annotator["name"] == "Annotator Example"
    assert annotator["email"] == ("annotator@example.org" if SEES_EMAILS[role] else None)


@pytest.mark.parametrize("role", ["org_admin", "manager", "reviewer", "annotator"])
def test_project_member_list_shows_emails_to_managers_only(world, role):
    body = api(world.by_role(role)).get(f"/api/projects/{world.project.id}/members/").json()

    emails = {row["username"]: row["email"] for row in body["results"]}
    names = {row["username"]: row["name"] for row in body["results"]}
    expected = role in {"org_admin", "manager"}
    assert emails["reviewer"] == ("reviewer@example.org" if expected else None)
    assert names["reviewer"] == "Reviewer Example"


@pytest.mark.parametrize("role", list(SEES_EMAILS))
def test_organisation_members_page_shows_emails_to_admins_and_managers_only(world, role):
    client = Client()
    client.force_login(world.by_role(role))

    page = client.get(f"/organisations/{world.organisation.id}/members/").content.decode()

    others = set(EMAIL.findall(page)) - {world.by_role(role).email}
    assert ("annotator@example.org" in others) is SEES_EMAILS[role]
    assert "Annotator Example" in page


def test_can_see_member_emails_follows_the_roles(world):
    seen = {
        role: access.can_see_member_emails(user=world.by_role(role), organisation_id=world.organisation.id)
        for role in ROLES
    }

    assert seen == {**SEES_EMAILS, "outsider": False}


def _fill(route: str, people) -> list[str]:
    """Concrete URLs for a route pattern: ids of this world's organisation, project and memberships."""
    org_member = OrganisationMembership.objects.get(organisation=people.organisation, user=people.annotator)
    project_member = ProjectMembership.objects.get(project=people.project, user=people.annotator)
    route = (
        route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.(?P<format>[a-z0-9]+)/?", "")
    )
    parts = re.split(r"(\(\?P<[^>]+>[^)]*\)|<[^>]+>)", route)
    url, previous = "", ""
    for part in parts:
        if part.startswith(("(?P<", "<")):
            name = re.search(r"<(?:\w+:)?(\w+)>", part).group(1)
            if "organisations/" in previous and name in {"pk", "organisation_pk"}:
                value = people.organisation.id
            elif "projects/" in previous and name in {"pk", "project_pk"}:
                value = people.project.id
            elif previous.endswith("members/") and "organisations/" in url:
                value = org_member.id
            elif previous.endswith("members/"):
                value = project_member.id
            elif name == "table":
                value = "annotators"
            elif name == "path":
                value = "manifest.json"
            else:
                value = 1
            url += str(value)
        else:
            url += part
        previous = part if not part.startswith(("(?P<", "<")) else previous
    return ["/" + url]


def _body(response) -> str:
    """The whole body, streamed ones (the item export) included."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


@pytest.mark.parametrize("role", ["reviewer", "annotator", "org_member"])
def test_no_get_route_of_the_api_shows_another_persons_email(world, role):
    """Every GET route, including those added later: the viewer's own email only (/api/me/)."""
    user = world.by_role(role)
    client = api(user)
    leaks, answered = [], 0
    for route in sorted(set(_api_routes(__import__("django.urls").urls.get_resolver().url_patterns))):
        for url in _fill(route, world):
            response = client.get(url)
            if response.status_code == 405:
                continue
            answered += response.status_code == 200
            found = set(EMAIL.findall(_body(response))) - {user.email}
            if found:
                leaks.append((url, sorted(found)))

    assert leaks == []
    assert answered >= (5 if role == "org_member" else 10)  # the walk really reached endpoints


def test_the_walk_finds_emails_where_they_are_allowed(world):
    """The walk above is not vacuous: an admin does see addresses on the member lists."""
    client = api(world.org_admin)
    seen = set()
    for route in sorted(set(_api_routes(__import__("django.urls").urls.get_resolver().url_patterns))):
        for url in _fill(route, world):
            seen |= set(EMAIL.findall(_body(client.get(url))))

    assert {"annotator@example.org", "reviewer@example.org"} <= seen
