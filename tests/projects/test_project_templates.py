"""Project templates (issue #16 item 4) and who may create projects (Organisation.project_creators)."""

import re

import pytest

from core.models import AuditEvent
from projects.models import GuidelineVersion, LabelSchemaVersion, Project
from projects.project_templates.catalogue import templates
from projects.schema.validate import validate_schema

EXPECTED = {
    "text_classification",
    "ner_relations",
    "llm_preference",
    "response_rating",
    "chat_evaluation",
    "image_boxes",
    "image_polygons",
    "image_keypoints",
    "audio_transcription",
    "video_segments",
}


def test_the_gallery_has_every_template():
    assert {t["key"] for t in templates()} == EXPECTED


@pytest.mark.parametrize("template", templates(), ids=lambda t: t["key"])
def test_every_template_schema_validates(template):
    assert validate_schema(template["schema"]) == []
    assert template["guidelines"].startswith("# ")
    assert template["settings"]["labeling"]["review_fraction"] > 0


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_a_project_from_each_template_serves_its_labeling_page(people, client_for, page_for, key):
    response = client_for(people.manager).post(
        "/api/projects/from-template/",
        {"organisation": people.organisation.id, "template": key, "name": f"From {key}"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    project = Project.objects.get(pk=response.json()["id"])
    template = next(t for t in templates() if t["key"] == key)
    assert project.overlap == template["overlap"]
    assert LabelSchemaVersion.objects.get(project=project).definition == template["schema"]
    assert GuidelineVersion.objects.get(project=project).body == template["guidelines"]
    assert AuditEvent.objects.filter(project_id=project.id, action="project.created_from_template").exists()
    page = page_for(people.manager).get(f"/projects/{project.id}/label/")
    assert page.status_code == 200


def test_template_list_api(people, client_for):
    body = client_for(people.annotator).get("/api/project-templates/").json()
    assert [t["key"] for t in body][:3] == ["text_classification", "ner_relations", "llm_preference"]
    assert {"schema", "guidelines", "settings", "overlap", "summary"} <= set(body[0])


def test_unknown_template_is_400_and_creates_nothing(people, client_for):
    before = Project.objects.count()
    response = client_for(people.manager).post(
        "/api/projects/from-template/",
        {"organisation": people.organisation.id, "template": "nope", "name": "X"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "unknown_template"
    assert Project.objects.count() == before


def test_admins_only_setting_refuses_managers_with_a_reason(people, client_for):
    admin = client_for(people.org_admin)
    url = f"/api/organisations/{people.organisation.id}/settings/"
    assert admin.patch(url, {"project_creators": "admins"}, format="json").status_code == 200
    response = client_for(people.manager).post(
        "/api/projects/from-template/",
        {"organisation": people.organisation.id, "template": "llm_preference", "name": "X"},
        format="json",
    )
    assert response.status_code == 403
    assert "only organisation admins create projects" in response.json()["detail"]
    settings = client_for(people.manager).get(url).json()
    assert settings["can_create_projects"] is False and "org_admin" in settings["why_not"]
    assert AuditEvent.objects.filter(action="organisation.settings_changed").exists()


def test_only_admins_change_who_may_create(people, client_for):
    url = f"/api/organisations/{people.organisation.id}/settings/"
    assert (
        client_for(people.manager).patch(url, {"project_creators": "admins"}, format="json").status_code
        == 403
    )
    bad = client_for(people.org_admin).patch(url, {"project_creators": "all"}, format="json")
    assert bad.status_code == 400
    assert client_for(people.outsider).get(url).status_code == 404


def test_a_member_who_manages_nothing_is_told_why(people, page_for):
    html = page_for(people.reviewer).get("/projects/new/").content.decode()
    assert 'id="creation-refused"' in html and "you manage none" in html
    listing = page_for(people.reviewer).get("/projects/").content.decode()
    assert "you manage none" in listing


def test_new_project_page_previews_and_creates(people, page_for):
    client = page_for(people.manager)
    page = client.get("/projects/new/?template=llm_preference")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="template-preview"' in html and 'id="schema-preview"' in html and "pairwise" in html
    assert re.findall(r"<input(?![^>]*\btype=)[^>]*>", html) == []  # styled as text inputs
    response = client.post(
        "/projects/new/",
        {"template": "llm_preference", "organisation": str(people.organisation.id), "name": "Preferences"},
    )
    assert response.status_code == 302
    project = Project.objects.get(name="Preferences")
    assert project.settings == {"labeling": {"review_fraction": 0.1}} and project.overlap == 2


def test_new_project_page_shows_errors(people, page_for):
    response = page_for(people.manager).post(
        "/projects/new/",
        {"template": "llm_preference", "organisation": str(people.organisation.id), "name": "Reviews"},
    )
    assert response.status_code == 400
    assert 'id="create-error"' in response.content.decode()


def test_organisation_page_setting_form(people, page_for):
    client = page_for(people.org_admin)
    html = client.get(f"/organisations/{people.organisation.id}/members/").content.decode()
    assert 'id="project-creators"' in html
    client.post(f"/organisations/{people.organisation.id}/settings/", {"project_creators": "admins"})
    people.organisation.refresh_from_db()
    assert people.organisation.project_creators == "admins"
    forbidden = page_for(people.manager).post(
        f"/organisations/{people.organisation.id}/settings/", {"project_creators": "managers"}
    )
    assert forbidden.status_code == 403
