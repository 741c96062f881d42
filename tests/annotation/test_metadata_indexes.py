"""Sorted metadata ranges on PostgreSQL: a per-key expression index, built after the import, that the
item list's query uses (EXPLAIN with sequential scans off), with the same results as without it."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from annotation.items.metadata_indexes import metadata_index_name, metadata_indexes_ensure
from annotation.items.selectors.items import item_list
from annotation.items.services import metadata_field_update
from annotation.models import MetadataField

pytestmark = pytest.mark.django_db(transaction=True)  # the import runs after a real commit
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL indexes")


def _import(client, project, n: int) -> None:
    lines = "".join(
        json.dumps({"text": f"item {i}", "meta": {"stars": i % 5, "day": f"2024-01-{1 + i % 28:02d}"}}) + "\n"
        for i in range(n)
    )
    response = client.post(
        f"/api/projects/{project.id}/imports/",
        {"file": SimpleUploadedFile("items.jsonl", lines.encode())},
        format="multipart",
    )
    assert response.json()["status"] == "succeeded"


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'annotation_item'")
        return {row[0] for row in cursor.fetchall()}


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")


def test_sorted_range_both_directions_same_results_ties_by_id(people):
    """Without any index (SQLite, or before the build): descending sorts break ties by id descending."""
    from annotation.models import Item

    Item.objects.bulk_create(
        [
            Item(
                project=people.project,
                data={"text": str(i)},
                meta={"n": i % 3},
                content_hash=str(i),
                checksum="",
            )
            for i in range(9)
        ]
    )
    MetadataField.objects.create(project=people.project, name="n", type="number")
    ids = list(Item.objects.filter(project=people.project).order_by("id").values_list("id", flat=True))

    down = list(item_list(project=people.project, params={"meta.n__gte": "1", "ordering": "-meta.n"}))
    up = list(item_list(project=people.project, params={"meta.n__lte": "1", "ordering": "meta.n"}))

    assert [i.id for i in down] == [ids[8], ids[5], ids[2], ids[7], ids[4], ids[1]]
    assert [i.id for i in up] == [ids[0], ids[3], ids[6], ids[1], ids[4], ids[7]]


@postgres_only
def test_import_builds_range_indexes_the_list_uses(people, client_for, settings):
    settings.ANNOTATION_METADATA_INDEXES = True
    client = client_for(people.manager)
    _import(client, people.project, 40)
    with connection.cursor() as cursor:  # statistics of these rows, not of an earlier test's project
        cursor.execute("ANALYZE annotation_item")
    types = dict(MetadataField.objects.filter(project=people.project).values_list("name", "type"))
    stars = metadata_index_name(project_id=people.project.id, key="stars")
    day = metadata_index_name(project_id=people.project.id, key="day")
    assert types["stars"] == "number"
    try:
        assert stars in _index_names()  # built after the import's commit (outbox task, eager here)
        if types["day"] == "date":
            assert day in _index_names()

        for ordering in ("-meta.stars", "meta.stars"):
            items = item_list(project=people.project, params={"meta.stars__gte": "3", "ordering": ordering})[
                :5
            ]
            assert stars in _plan(items)
            values = [(i.meta["stars"], i.id) for i in items]
            assert values == sorted(values, reverse=ordering.startswith("-"))
            assert all(value >= 3 for value, _ in values)

        # A key that is no longer a number loses its index; idempotent otherwise.
        field = MetadataField.objects.get(project=people.project, name="stars")
        metadata_field_update(project=people.project, actor=people.manager, field_id=field.id, type="string")
        assert stars not in _index_names()
        assert metadata_indexes_ensure(project_id=people.project.id)["created"] == []
    finally:
        MetadataField.objects.filter(project=people.project).update(type="string")
        metadata_indexes_ensure(project_id=people.project.id)  # drop what this test built
    assert not {stars, day} & _index_names()
