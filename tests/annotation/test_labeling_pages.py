"""The labeling and review pages (/projects/<id>/label/, /review/): who may open them, and that the
schema reaches the browser app as an escaped json_script."""

import json
import re

import pytest

from projects import services
from tests.factories import label_schema

pytestmark = pytest.mark.django_db


def label_url(project) -> str:
    return f"/projects/{project.id}/label/"


def review_url(project) -> str:
    return f"/projects/{project.id}/review/"


def page_config(response) -> dict:
    body = response.content.decode()
    match = re.search(r'<script id="labeling-config" type="application/json">(.*?)</script>', body, re.S)
    assert match, "the page has no labeling-config json_script"
    return json.loads(match.group(1))


@pytest.mark.parametrize("role", ["org_admin", "manager", "annotator"])
def test_people_who_annotate_get_the_label_page(people, page_for, role):
    response = page_for(people.by_role(role)).get(label_url(people.project))

    assert response.status_code == 200
    assert 'id="labeling-root"' in response.content.decode()
    assert page_config(response)["projectId"] == people.project.id


@pytest.mark.parametrize("role", ["org_admin", "manager", "reviewer"])
def test_people_who_review_get_the_review_page(people, page_for, role):
    response = page_for(people.by_role(role)).get(review_url(people.project))

    assert response.status_code == 200
    assert 'id="review-root"' in response.content.decode()


def test_a_reviewer_may_not_open_the_label_page_nor_an_annotator_the_review_page(people, page_for):
    assert page_for(people.reviewer).get(label_url(people.project)).status_code == 403
    assert page_for(people.annotator).get(review_url(people.project)).status_code == 403


@pytest.mark.parametrize("role", ["org_member", "outsider"])
def test_the_pages_are_404_outside_the_project(people, page_for, role):
    client = page_for(people.by_role(role))
    assert client.get(label_url(people.project)).status_code == 404
    assert client.get(review_url(people.project)).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(people, client):
    response = client.get(label_url(people.project))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_nav_links_label_and_review_by_role(people, page_for):
    annotator_nav = page_for(people.annotator).get(label_url(people.project)).content.decode()
    reviewer_nav = page_for(people.reviewer).get(review_url(people.project)).content.decode()
    manager_nav = page_for(people.manager).get(label_url(people.project)).content.decode()

    assert f'href="{label_url(people.project)}"' in annotator_nav
    assert f'href="{review_url(people.project)}"' not in annotator_nav
    assert f'href="{review_url(people.project)}"' in reviewer_nav
    assert f'href="{label_url(people.project)}"' not in reviewer_nav
    assert (
        f'href="{label_url(people.project)}"' in manager_nav
        and f'href="{review_url(people.project)}"' in manager_nav
    )


def test_the_schema_and_settings_reach_the_app_escaped(people, page_for):
    definition = label_schema("positive", "negative")
    definition["controls"][0]["title"] = "</script><script>window.pwned=1</script>"
    definition["controls"][0]["description"] = "<img src=x onerror=alert(1)> & \u2028"
    services.schema_version_create(project=people.project, actor=people.manager, definition=definition)
    services.project_update(
        project=people.project,
        actor=people.manager,
        settings={"labeling": {"reject_reasons": ["wrong_label", "typo"], "lease_seconds": 120}},
    )

    response = page_for(people.annotator).get(label_url(people.project))
    body = response.content.decode()

    assert "</script><script>window.pwned" not in body
    assert "<img src=x" not in body
    config = page_config(response)
    assert config["schema"]["definition"]["controls"][0]["title"] == definition["controls"][0]["title"]
    assert config["schema"]["version"] == 1
    assert config["rejectReasons"] == ["wrong_label", "typo"]
    assert config["leaseSeconds"] == 120
    assert config["feedPath"] == f"/ws/projects/{people.project.id}/"


def test_the_guidelines_are_rendered_sanitised_in_the_panel(people, page_for):
    services.guideline_version_create(
        project=people.project,
        actor=people.manager,
        body="# Rules\n\n<script>window.pwned=1</script> **bold**",
    )

    response = page_for(people.annotator).get(label_url(people.project))
    body = response.content.decode()

    assert 'id="guidelines-panel"' in body
    assert "<strong>bold</strong>" in body
    assert "<script>window.pwned" not in body
    assert page_config(response)["guidelines"] == {"version": 1, "acknowledged": False}


def test_a_project_without_schema_still_renders(people, page_for):
    response = page_for(people.annotator).get(label_url(people.project))
    assert page_config(response)["schema"] is None
    assert page_config(response)["guidelines"] is None
