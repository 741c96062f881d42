"""Retention (docs/GOVERNANCE.md#retention): settings validation, a run that deletes exactly the old
media, never-released items and stale drafts, a dry run that changes nothing, an idempotent re-run,
the daily schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from annotation.models import Assignment, Item
from core.exceptions import DomainError
from exports.models import Release
from governance.models import ErasureTombstone, RetentionRun
from governance.retention import services
from projects import services as project_services
from projects.retention_settings import retention_settings_from
from tests.exports.test_release_service import LABELS, annotate, set_consensus
from tests.factories import label_schema, make_items

pytestmark = pytest.mark.django_db

RULES = {"raw_media_days": 30, "unreleased_items_days": 90, "drafts_days": 7}


def _set_rules(people, rules):
    return project_services.project_update(
        project=people.project, actor=people.manager, settings_patch={"retention": rules}
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"raw_media_days": 0},
        {"raw_media_days": -3},
        {"drafts_days": "7"},
        {"drafts_days": 2.5},
        {"unreleased_items_days": True},
        {"raw_media_days": 10**6},
        {"media_days": 3},
    ],
)
def test_bad_retention_settings_are_400_and_change_nothing(people, bad):
    before = dict(people.project.settings)
    with pytest.raises(DomainError) as caught:
        _set_rules(people, bad)
    assert caught.value.code in ("invalid_retention", "unknown_setting")
    assert caught.value.status_code == 400
    people.project.refresh_from_db()
    assert people.project.settings == before


def test_retention_settings_shape_and_null_keeps_forever(people):
    project = _set_rules(people, {"raw_media_days": 30})
    assert retention_settings_from(project.settings).as_dict() == {
        "raw_media_days": 30,
        "unreleased_items_days": None,
        "drafts_days": None,
    }
    project = _set_rules(people, {"raw_media_days": None})
    assert retention_settings_from(project.settings).as_dict() == {
        "raw_media_days": None,
        "unreleased_items_days": None,
        "drafts_days": None,
    }


def test_the_settings_api_answers_400_with_code(people, client):
    client.force_login(people.manager)
    response = client.patch(
        f"/api/projects/{people.project.id}/",
        {"settings": {"retention": {"drafts_days": 0}}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_retention"
    assert "settings.retention.drafts_days" in response.json()["detail"]


@pytest.fixture
def lab(people, release_storage, create_release):
    """Six items: two old with media (one released), two old without media and never released, two
    new; drafts old and new. A published release holds item 0 and item 1."""
    project = people.project
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema(*LABELS)
    )
    items = make_items(project, "old released", "old released 2", "old alone", "old alone 2", "new", "new 2")
    for item in items[:2]:
        set_consensus(project, item, "positive")
        annotate(project, item, people.annotator, "positive")
    release = create_release("v1")
    assert release.status == Release.Status.PUBLISHED
    now = timezone.now()
    old = now - timedelta(days=100)
    items[0].media.save("old.png", ContentFile(b"old media"), save=True)
    items[4].media.save("new.png", ContentFile(b"new media"), save=True)
    items[2].media.save("old2.png", ContentFile(b"old media 2"), save=True)
    Item.objects.filter(id__in=[i.id for i in items[:4]]).update(created_at=old)
    Item.objects.filter(id=items[4].id).update(created_at=now - timedelta(days=1))
    stale = Assignment.objects.create(
        project=project,
        item=items[5],
        annotator=people.reviewer,
        status="expired",
        leased_at=old,
        draft={"sentiment": "neg"},
        draft_saved_at=now - timedelta(days=8),
    )
    fresh = Assignment.objects.create(
        project=project,
        item=items[4],
        annotator=people.reviewer,
        status="expired",
        leased_at=old,
        draft={"sentiment": "pos"},
        draft_saved_at=now - timedelta(days=1),
    )
    _set_rules(people, RULES)
    people.project.refresh_from_db()
    return people.project, items, stale, fresh


def test_dry_run_counts_and_changes_nothing(lab, people):
    project, items, stale, _fresh = lab
    files = [items[0].media.name, items[2].media.name]
    run = services.retention_run(project=project, actor=people.manager, dry_run=True)
    assert run.status == "done" and run.dry_run
    assert run.counts == {"raw_media": 2, "unreleased_items": 2, "drafts": 1}
    assert all(default_storage.exists(name) for name in files)
    assert Item.objects.filter(project=project).count() == 6
    stale.refresh_from_db()
    assert stale.draft is not None
    assert services.retention_preview(project=project)["counts"] == run.counts


def test_run_deletes_exactly_the_right_things_and_a_rerun_deletes_nothing(lab, people):
    project, items, stale, fresh = lab
    old_file, new_file, alone_file = items[0].media.name, items[4].media.name, items[2].media.name
    run = services.retention_run(project=project)
    assert run.status == "done", run.errors
    assert run.counts == {"raw_media": 2, "unreleased_items": 2, "drafts": 1}
    assert run.errors == []
    # media: the old released item's file is gone, the item and its labels stay, marked removed
    assert not default_storage.exists(old_file)
    kept = Item.objects.get(id=items[0].id)
    assert kept.media_removed_at is not None and not kept.media
    assert kept.annotations.count() == 1
    assert default_storage.exists(new_file)
    assert Item.objects.get(id=items[4].id).media_removed_at is None
    # unreleased: items 2 and 3 (old, in no published release) erased with reason retention
    remaining = set(Item.objects.filter(project=project).values_list("id", flat=True))
    assert remaining == {items[0].id, items[1].id, items[4].id, items[5].id}
    tombstones = ErasureTombstone.objects.filter(project=project)
    assert {t.item_id for t in tombstones} == {items[2].id, items[3].id}
    assert all(t.erasure.scope == "retention" and "retention" in t.erasure.reason for t in tombstones)
    assert not default_storage.exists(alone_file)
    # drafts: only the stale one
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.draft is None and fresh.draft == {"sentiment": "pos"}
    # idempotent
    again = services.retention_run(project=project)
    assert again.counts == {"raw_media": 0, "unreleased_items": 0, "drafts": 0}
    assert again.errors == []


def test_a_building_release_holds_the_media_and_item_rules(lab, people):
    project, items, _stale, _fresh = lab
    Release.objects.create(project=project, number=9, name="building", formats=["jsonl"])
    run = services.retention_run(project=project)
    assert {e["code"] for e in run.errors} == {"release_building"}
    assert {e["rule"] for e in run.errors} == {"raw_media", "unreleased_items"}
    assert run.counts == {"drafts": 1}
    assert Item.objects.filter(project=project).count() == 6
    assert default_storage.exists(items[0].media.name)


def test_the_daily_schedule_runs_each_project_once_per_interval(lab, people):
    project = lab[0]
    first = services.retention_run_due()
    assert len(first) == 1 and RetentionRun.objects.get(pk=first[0]).project_id == project.id
    assert services.retention_run_due() == []  # within the interval: nothing
    later = timezone.now() + services.RETENTION_INTERVAL + timedelta(minutes=1)
    assert len(services.retention_run_due(now=later)) == 1


def test_beat_schedule_has_the_retention_entry():
    from core import task_names

    entries = [
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task_names.RETENTION_RUN_DUE
    ]
    assert len(entries) == 1 and entries[0]["schedule"] <= 24 * 3600
    assert django_settings.CORE_TASK_KINDS[task_names.RETENTION_RUN_DUE] == "imports"


def test_the_retention_api(lab, people, client):
    project = lab[0]
    base = f"/api/projects/{project.id}/retention-runs/"
    client.force_login(people.annotator)
    assert client.get(base).status_code == 403
    client.force_login(people.outsider)
    assert client.get(base).status_code == 404
    client.force_login(people.manager)
    preview = client.get(base + "preview/").json()
    assert preview["counts"] == {"raw_media": 2, "unreleased_items": 2, "drafts": 1}
    assert preview["rules"] == RULES
    dry = client.post(base, {}, content_type="application/json")
    assert dry.status_code == 201 and dry.json()["dry_run"] is True
    assert Item.objects.filter(project=project).count() == 6
    assert client.post(base, {"dry_run": "maybe"}, content_type="application/json").status_code == 400
    real = client.post(base, {"dry_run": False}, content_type="application/json").json()
    assert real["counts"] == {"raw_media": 2, "unreleased_items": 2, "drafts": 1}
    listed = client.get(base).json()["results"]
    assert [r["dry_run"] for r in listed] == [False, True]


def test_settings_page_shows_the_preview_and_the_retention_page_runs(lab, people, client):
    project = lab[0]
    client.force_login(people.manager)
    page = client.get(f"/projects/{project.id}/settings/").content.decode()
    assert 'id="settings-retention"' in page and 'id="retention-preview"' in page
    assert "The next run would delete" in page and "unsubmitted drafts" in page
    response = client.post(
        f"/projects/{project.id}/settings/",
        {"retention.drafts_days": "0", "overlap": str(project.overlap)},
    )
    assert response.status_code == 400 and "from 1 to 36500" in response.content.decode()
    response = client.post(f"/projects/{project.id}/retention/", {"dry_run": "1"})
    assert response.status_code == 302
    assert Item.objects.filter(project=project).count() == 6
    page = client.get(f"/projects/{project.id}/retention/").content.decode()
    assert "dry run" in page and 'id="retention-runs"' in page
    client.force_login(people.annotator)
    assert client.get(f"/projects/{project.id}/retention/").status_code in (403, 404)


def test_the_item_page_says_the_media_was_removed_and_a_release_still_builds(
    lab, people, client, create_release
):
    project, items, _stale, _fresh = lab
    services.retention_run(project=project)
    assert create_release("after-retention").status == Release.Status.PUBLISHED
    client.force_login(people.manager)
    page = client.get(f"/projects/{project.id}/items/{items[0].id}/").content.decode()
    assert 'id="media-removed"' in page and "retention rule" in page


def test_a_media_file_that_cannot_be_deleted_is_reported_and_kept(lab, monkeypatch):
    project, items, _stale, _fresh = lab

    from django.core.files.storage import FileSystemStorage

    def broken(self, name):
        raise OSError("storage is down")

    monkeypatch.setattr(FileSystemStorage, "delete", broken)
    run = services.retention_run(project=project)
    assert {e["code"] for e in run.errors} == {"media_delete_failed"}
    assert run.counts["raw_media"] == 0
    item = Item.objects.get(id=items[0].id)
    assert item.media and item.media_removed_at is None  # still a candidate for the next run


def test_a_run_that_died_does_not_block_the_schedule_for_ever(lab):
    project = lab[0]
    now = timezone.now()
    RetentionRun.objects.create(project=project, status="running", started_at=now - timedelta(hours=1))
    assert services.retention_run_due(now=now) == []  # a run in progress: wait
    RetentionRun.objects.filter(project=project).update(
        started_at=now - services.STALE_RUN - timedelta(minutes=1)
    )
    resumed = services.retention_run_due(now=now)
    assert len(resumed) == 1
    assert RetentionRun.objects.get(pk=resumed[0]).counts == {
        "raw_media": 2,
        "unreleased_items": 2,
        "drafts": 1,
    }


def test_preview_without_any_release_counts_in_the_database(people):
    items = make_items(people.project, "old", "new")
    Item.objects.filter(id=items[0].id).update(created_at=timezone.now() - timedelta(days=10))
    project = _set_rules(people, {"unreleased_items_days": 5})
    assert services.retention_preview(project=project)["counts"] == {"unreleased_items": 1}
    run = services.retention_run(project=project)
    assert run.counts == {"unreleased_items": 1}
    assert list(Item.objects.filter(project=project).values_list("id", flat=True)) == [items[1].id]
