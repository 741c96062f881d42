"""Text search on PostgreSQL: a per-project trigram index (annotation.items.search_index), built after
the import, that the item list's `q` uses (EXPLAIN), with the same results as the scan without it."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from annotation.items.search_index import (
    search_index_drop,
    search_index_ensure,
    search_index_exists,
    search_index_name,
)
from annotation.items.selectors.items import item_list

pytestmark = pytest.mark.django_db(transaction=True)  # the import runs after a real commit; CONCURRENTLY
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL indexes")

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
QUERIES = ["Review 1234:", "review 77", "bravo", "bravo golf", "ECHO", "ch", "no-such-word", "ext-42"]
QUERIES += ["xyzzy"]


def _import(client, project, n: int) -> None:
    lines = "".join(
        json.dumps(
            {
                "id": f"ext-{i}",
                "text": f"Review {i}: {WORDS[i % 8]} {WORDS[(i * 7) % 8]} {'xyzzy' if i == 4321 else ''}",
            }
        )
        + "\n"
        for i in range(n)
    )
    response = client.post(
        f"/api/projects/{project.id}/imports/",
        {"file": SimpleUploadedFile("items.jsonl", lines.encode())},
        format="multipart",
    )
    assert response.json()["status"] == "succeeded", response.json()


def _ids(project, q: str) -> list[int]:
    return list(item_list(project=project, params={"q": q}).values_list("id", flat=True))


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_only
def test_search_index_same_results_and_used_for_a_rare_item(client_for, people):
    manager_client = client_for(people.manager)
    _import(manager_client, people.project, 5000)
    before = {q: _ids(people.project, q) for q in QUERIES}
    assert before["xyzzy"] and len(before["xyzzy"]) == 1
    assert before["ext-42"] and len(before["ext-42"]) == 1  # the exact external id
    assert not search_index_exists(project_id=people.project.id)

    assert search_index_ensure(project_id=people.project.id) is True
    try:
        assert search_index_exists(project_id=people.project.id)
        assert search_index_ensure(project_id=people.project.id) is False  # idempotent
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE annotation_item")
        after = {q: _ids(people.project, q) for q in QUERIES}
        assert after == before  # same items, same keyset order
        plan = _plan(item_list(project=people.project, params={"q": "xyzzy"}))
        assert search_index_name(project_id=people.project.id) in plan, plan
        # Later imports into the project maintain the index: a new item is found through it.
        _import(manager_client, people.project, 5001)
        assert len(_ids(people.project, "review 5000:")) == 1
    finally:
        search_index_drop(project_id=people.project.id)
    assert not search_index_exists(project_id=people.project.id)


@postgres_only
def test_import_schedules_the_search_index(client_for, people, settings):
    settings.ANNOTATION_SEARCH_INDEX = True
    _import(client_for(people.manager), people.project, 20)
    try:
        assert search_index_exists(project_id=people.project.id)  # the outbox ran the task after commit
    finally:
        search_index_drop(project_id=people.project.id)


def test_search_index_is_postgres_only_noop_elsewhere(people):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite behaviour")
    assert search_index_ensure(project_id=people.project.id) is False


def _import_lines(client, project, lines: list[dict], **extra) -> dict:
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    response = client.post(
        f"/api/projects/{project.id}/imports/",
        {"file": SimpleUploadedFile("more.jsonl", body), **extra},
        format="multipart",
    )
    return response.json()


@postgres_only
def test_big_import_drops_the_search_index_during_the_load_and_rebuilds_it(
    client_for, people, settings, monkeypatch
):
    """A big later import does not maintain the trigram index row by row: the index is dropped before
    the load (absent while the rows go in), rebuilt by the post-import task, and search results are the
    same as with the index maintained all along (and as the scan)."""
    from annotation.imports import loader

    settings.ANNOTATION_SEARCH_INDEX = True
    manager_client = client_for(people.manager)
    _import(manager_client, people.project, 3000)
    project_id = people.project.id
    assert search_index_exists(project_id=project_id)  # built after the first import
    seen_during_load = []
    insert = loader.ItemLoader.insert

    def spying_insert(self):
        seen_during_load.append(search_index_exists(project_id=project_id))
        return insert(self)

    monkeypatch.setattr(loader.ItemLoader, "insert", spying_insert)
    settings.ANNOTATION_IMPORT_SEARCH_INDEX_DROP_BYTES = 1  # every file counts as big here
    try:
        more = [{"id": f"more-{i}", "text": f"Later {i}: {WORDS[i % 8]} quux{i % 50}"} for i in range(2000)]
        assert _import_lines(manager_client, people.project, more)["created"] == 2000
        assert seen_during_load == [False]
        assert search_index_exists(project_id=project_id)  # rebuilt by the task after the commit
        queries = [*QUERIES, "quux7", "later 1999:", "more-5"]
        with_index = {q: _ids(people.project, q) for q in queries}
        search_index_drop(project_id=project_id)
        assert with_index == {q: _ids(people.project, q) for q in queries}  # same as the scan
        assert len(with_index["later 1999:"]) == 1 and len(with_index["quux7"]) == 40

        # A big import that fails (all or nothing, one bad row) gets the index back all the same.
        search_index_ensure(project_id=project_id)
        failed = manager_client.post(
            f"/api/projects/{project_id}/imports/",
            {"file": SimpleUploadedFile("bad.jsonl", b'{"text": "fine"}\nnot json\n')},
            format="multipart",
        ).json()
        assert failed["status"] == "failed", failed
        assert search_index_exists(project_id=project_id)
    finally:
        search_index_drop(project_id=project_id)


@postgres_only
def test_small_import_keeps_the_search_index(client_for, people, settings):
    settings.ANNOTATION_SEARCH_INDEX = True
    manager_client = client_for(people.manager)
    _import(manager_client, people.project, 200)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.oid FROM pg_class c WHERE c.relname = %s",
                [search_index_name(project_id=people.project.id)],
            )
            before = cursor.fetchone()
        _import_lines(manager_client, people.project, [{"text": "one more, small"}])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.oid FROM pg_class c WHERE c.relname = %s",
                [search_index_name(project_id=people.project.id)],
            )
            assert cursor.fetchone() == before  # the same index: neither dropped nor rebuilt
        assert len(_ids(people.project, "one more")) == 1
    finally:
        search_index_drop(project_id=people.project.id)
