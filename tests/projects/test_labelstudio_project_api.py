"""New project from a Label Studio config: POST /api/projects/from-labelstudio/ and its preview."""

import json

import pytest

from core.models import AuditEvent
from projects.models import LabelSchemaVersion, Project
from projects.schema import validate_schema

pytestmark = pytest.mark.django_db

CONFIG = """<View>
  <Text name="text" value="$review"/>
  <Choices name="sentiment" toName="text" required="true">
    <Choice value="Positive" hotkey="1"/><Choice value="Negative" hotkey="2"/>
  </Choices>
  <Labels name="ner" toName="text"><Label value="PER" background="red"/></Labels>
  <BrushLabels name="mask" toName="text"><Label value="x"/></BrushLabels>
</View>"""

CREATE = "/api/projects/from-labelstudio/"
PREVIEW = "/api/projects/from-labelstudio/preview/"


def snapshot():
    return (
        list(Project.objects.values_list("id", "name")),
        list(LabelSchemaVersion.objects.values_list("id")),
        AuditEvent.objects.count(),
    )


def test_preview_returns_schema_and_untranslated_and_writes_nothing(people, client_for):
    client = client_for(people.org_admin)
    before = snapshot()

    response = client.post(
        PREVIEW, {"organisation": people.organisation.id, "labelstudio_config": CONFIG}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert validate_schema(body["schema"]) == []
    assert [c["name"] for c in body["schema"]["controls"]] == ["sentiment", "ner"]
    assert body["schema"]["fields"] == [{"name": "text", "type": "text", "source": "review"}]
    assert body["untranslated"] == [
        {"tag": "BrushLabels", "name": "mask", "reason": "Tessera has no brush (mask) control."}
    ]
    assert snapshot() == before


def test_create_makes_project_and_schema_v1_and_audits_the_untranslated(people, client_for):
    response = client_for(people.org_admin).post(
        CREATE,
        {"organisation": people.organisation.id, "name": "Migrated reviews", "labelstudio_config": CONFIG},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(name="Migrated reviews")
    assert body["project"]["id"] == project.id
    assert body["schema_version"] == 1
    version = LabelSchemaVersion.objects.get(project=project)
    assert version.definition == body["schema"]
    assert version.note == "Translated from a Label Studio config; 1 element(s) not translated."
    assert body["untranslated"][0]["tag"] == "BrushLabels"
    event = AuditEvent.objects.get(project_id=project.id, action="schema.labelstudio_translated")
    assert event.changes == {"version": 1, "untranslated": body["untranslated"]}
    assert project.memberships.get().user == people.org_admin


HOSTILE = '<?xml version="1.0"?><!DOCTYPE View [<!ENTITY x SYSTEM "file:///etc/passwd">]><View>&x;</View>'


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (HOSTILE, "dtd_forbidden"),
        ("<View><Text", "syntax"),
        ('<View><Text name="t" value="$t"/></View>', "nothing_translatable"),
        ("<View>" + " " * 300_000 + "</View>", "too_large"),
    ],
)
@pytest.mark.parametrize("url", [CREATE, PREVIEW])
def test_bad_config_is_400_with_a_code_and_creates_nothing(people, client_for, url, config, reason):
    client = client_for(people.org_admin)
    before = snapshot()

    payload = {"organisation": people.organisation.id, "labelstudio_config": config}
    if url == CREATE:
        payload["name"] = "Nope"
    response = client.post(url, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_labelstudio_config"
    assert body["reason"] == reason
    assert body["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("url", [CREATE, PREVIEW])
def test_a_lone_surrogate_is_a_400_too(people, client_for, url):
    client = client_for(people.org_admin)
    before = snapshot()
    payload = {"organisation": people.organisation.id, "name": "Nope", "labelstudio_config": "<View>\ud800"}
    if url == PREVIEW:
        del payload["name"]

    # json.dumps escapes it as \ud800, as any JSON client may send it.
    response = client.post(url, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "invalid_labelstudio_config", "invalid_character")
    assert snapshot() == before


def test_taken_name_rolls_back_everything(people, client_for):
    client = client_for(people.org_admin)
    before = snapshot()

    response = client.post(
        CREATE,
        {"organisation": people.organisation.id, "name": people.project.name, "labelstudio_config": CONFIG},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "name_taken"
    assert snapshot() == before


def test_unknown_field_is_refused(people, client_for):
    response = client_for(people.org_admin).post(
        PREVIEW,
        {"organisation": people.organisation.id, "labelstudio_config": CONFIG, "schema": {}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"
