"""Saving a schema that renames, merges or drops labels offers the label migration and applies it
(issue #16 item 6)."""

import json

from core.models import AuditEvent
from projects.models import LabelMigration, LabelSchemaVersion
from projects.services import schema_version_create
from projects.settings_pages.label_changes import operations_from, vanished_labels


def _schema(*labels):
    return {
        "version": 1,
        "fields": [{"name": "text", "type": "text", "source": "text"}],
        "controls": [
            {
                "name": "sentiment",
                "type": "single_choice",
                "field": "text",
                "labels": [{"value": v} for v in labels],
            }
        ],
    }


def test_a_single_replaced_label_is_guessed_as_a_rename():
    changes = vanished_labels(_schema("pos", "neg"), _schema("positive", "neg"))
    assert changes == [
        {
            "control": "sentiment",
            "label": "pos",
            "added": ["positive"],
            "kept": ["neg"],
            "guess": "rename:positive",
        }
    ]
    assert operations_from(changes, {}) == [
        {"op": "rename", "control": "sentiment", "from": "pos", "to": "positive"}
    ]


def test_merges_into_one_label_become_one_operation():
    changes = vanished_labels(_schema("a", "b", "c"), _schema("c"))
    post = {"migrate.sentiment.a": "merge:c", "migrate.sentiment.b": "merge:c"}
    assert operations_from(changes, post) == [
        {"op": "merge", "control": "sentiment", "from": ["a", "b", "c"], "to": "c"}
    ]
    assert operations_from(changes, {"migrate.sentiment.a": "delete"}) == [
        {"op": "delete", "control": "sentiment", "label": "a"}
    ]


def test_schema_page_asks_before_saving_and_then_migrates(people, page_for):
    project = people.project
    schema_version_create(project=project, actor=people.manager, definition=_schema("pos", "neg", "meh"))
    client = page_for(people.manager)
    url = f"/projects/{project.id}/schema/"
    new = json.dumps(_schema("positive", "neg"))

    first = client.post(url, {"definition": new, "note": "tidy labels"})
    html = first.content.decode()
    assert 'id="label-migration"' in html and "rename to positive" in html
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1  # nothing saved yet

    response = client.post(
        url,
        {
            "definition": new,
            "note": "tidy labels",
            "migration_confirmed": "1",
            "migrate.sentiment.pos": "rename:positive",
            "migrate.sentiment.meh": "merge:neg",
        },
    )
    assert response.status_code == 302
    migration = LabelMigration.objects.get(project=project)
    assert migration.operations == [
        {"op": "rename", "control": "sentiment", "from": "pos", "to": "positive"},
        {"op": "merge", "control": "sentiment", "from": ["meh", "neg"], "to": "neg"},
    ]
    latest = LabelSchemaVersion.objects.filter(project=project).order_by("-version").first()
    assert [label["value"] for label in latest.definition["controls"][0]["labels"]] == ["positive", "neg"]
    assert latest.version == 2  # the migrated version is the submitted one: no extra version
    assert AuditEvent.objects.filter(project_id=project.id, action="schema.labels_migrated").exists()


def test_keep_saves_without_a_migration(people, page_for):
    project = people.project
    schema_version_create(project=project, actor=people.manager, definition=_schema("pos", "neg"))
    response = page_for(people.manager).post(
        f"/projects/{project.id}/schema/",
        {
            "definition": json.dumps(_schema("neg")),
            "migration_confirmed": "1",
            "migrate.sentiment.pos": "keep",
        },
    )
    assert response.status_code == 302
    assert not LabelMigration.objects.filter(project=project).exists()
    assert LabelSchemaVersion.objects.filter(project=project).count() == 2


def test_adding_labels_saves_at_once(people, page_for):
    project = people.project
    schema_version_create(project=project, actor=people.manager, definition=_schema("pos"))
    response = page_for(people.manager).post(
        f"/projects/{project.id}/schema/", {"definition": json.dumps(_schema("pos", "neg"))}
    )
    assert response.status_code == 302
