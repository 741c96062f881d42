# ruff: noqa: F811 - the shared fixture is imported from test_release_worker
"""Erasure against a release build in a real Celery worker (docs/GOVERNANCE.md#erasure):

1. an erasure committed while the worker builds a release never reaches its published files (the build
   finds the item gone before publishing and builds again);
2. an erasure after publication withdraws the release, the worker builds the successor, and
   `tessera pull` then `tessera pull --verify` accept it; no file holds a byte of the erased content."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from annotation.models import Item, MetadataField
from exports.itemset import decode_ids
from exports.models import Release
from projects import services as project_services
from quality.models import GoldStandard
from tessera_client.__main__ import main as tessera
from tests.factories import label_schema, make_items

from .conftest import wait_for
from .test_release_worker import shared, worker  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 200  # ten chunks of 20 a pass
FIRST = "qx-first-subject-5521"  # erased during the build
SECOND = "qx-second-subject-9034"  # erased after publication


def _grep(root, needle: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_erasure_during_a_worker_build_and_the_successor_verifies(
    people, shared, redis_url, isolated_names, tmp_path, live_server, capsys
):
    env, media_root = shared
    project = people.project
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    MetadataField.objects.create(project=project, name="customer", type="string")
    rows = [{"text": f"review {i}", "split": "train", "meta": {"customer": f"c-{i}"}} for i in range(ITEMS)]
    rows[3] = {"text": f"my email {FIRST}", "split": "train", "meta": {"customer": "first"}}
    rows[150] = {"text": f"my phone {SECOND}", "split": "train", "meta": {"customer": "second"}}
    items = make_items(project, *rows, is_gold=True)
    # Gold reference answers are the labels: the full quality recompute an erasure asks for (the worker
    # runs it alongside the successor's build) keeps them, where it would drop hand-made consensus rows
    # that no annotation supports.
    schema = project.schema_versions.get()
    GoldStandard.objects.bulk_create(
        GoldStandard(
            project=project,
            item=item,
            result={"sentiment": "positive"},
            source="manual",
            schema_version=schema,
        )
        for item in items
    )
    admin = APIClient()
    admin.force_authenticate(people.org_admin)
    erasures = f"/api/projects/{project.id}/erasures/"

    slow = {**env, "EXPORTS_BUILD_CHUNK_DELAY": "0.3", "EXPORTS_BUILD_CHUNK": "20"}
    with worker(slow, isolated_names, redis_url, tmp_path / "worker.log"):
        created = admin.post(
            f"/api/projects/{project.id}/releases/", {"name": "v1", "formats": ["jsonl"]}, format="json"
        )
        assert created.status_code == 202, created.content
        release = Release.objects.get(project=project, number=1)
        first_attempt = media_root / f"releases/{project.id}/1/a1"
        # The build has started and read the item (in its first chunk; a pass takes 3 s): erase it now.
        wait_for(
            lambda: Release.objects.get(pk=release.pk).started_at is not None,
            timeout=30,
            what="the build to start",
        )
        time.sleep(1.0)
        assert Release.objects.get(pk=release.pk).status == Release.Status.BUILDING
        erased = admin.post(
            erasures,
            {"scope": "subject", "key": "customer", "value": "first", "reason": "GDPR art. 17"},
            format="json",
        )
        assert erased.status_code == 200, erased.content
        assert erased.json()["items"] == 1 and erased.json()["releases"] == []  # not published yet
        wait_for(
            lambda: Release.objects.get(pk=release.pk).status == Release.Status.PUBLISHED,
            timeout=90,
            what="the build to publish",
        )
        release.refresh_from_db()
        assert release.attempts == 2  # the first attempt was discarded, not published
        assert items[3].id not in decode_ids(release.item_ids)
        assert release.manifest["counts"]["records"] == ITEMS - 1
        assert _grep(media_root / release.storage_prefix, FIRST) == []
        assert not first_attempt.exists()

        # After publication: the release is withdrawn and the worker builds its successor.
        erased = admin.post(
            erasures,
            {"scope": "subject", "key": "customer", "value": "second", "reason": "GDPR art. 17"},
            format="json",
        )
        assert erased.status_code == 200, erased.content
        assert erased.json()["releases"] == [{"number": 1, "name": "v1", "erased_items": 1, "successor": 2}]
        successor = wait_for(
            lambda: Release.objects.filter(
                project=project, number=2, status=Release.Status.PUBLISHED
            ).first(),
            timeout=90,
            what="the successor release",
        )

    assert successor.manifest["supersedes"] == [
        {"number": 1, "name": "v1", "reason": "erasure", "erased_items": 1}
    ]
    assert successor.manifest["counts"]["records"] == ITEMS - 2
    assert not Item.objects.filter(id__in=[items[3].id, items[150].id]).exists()
    root = media_root / successor.storage_prefix
    for needle in (FIRST, SECOND):
        assert _grep(root, needle) == []
    assert not (media_root / release.storage_prefix).exists()  # the withdrawn release's files

    token = api_token_create(user=people.reviewer, name="pull")[1]
    out = tmp_path / "pulled"
    common = [str(project.id), "2", "--out", str(out), "--url", live_server.url, "--token", token]
    assert tessera(["pull", *common]) == 0
    assert tessera(["pull", *common, "--verify"]) == 0
    assert "OK: " in capsys.readouterr().out
    for needle in (FIRST, SECOND, 'customer": "first', 'customer": "second'):
        assert _grep(out, needle) == []
    withdrawn = admin.get(f"/api/projects/{project.id}/releases/1/files/manifest.json")
    assert withdrawn.status_code == 410 and withdrawn.json()["code"] == "release_erased"
