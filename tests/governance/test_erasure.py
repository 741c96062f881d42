"""Erasure (docs/GOVERNANCE.md#erasure): the cascade, tombstones, idempotency, releases withdrawn with
a successor that `tessera pull --verify` accepts and that holds no byte of the erased item."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models

from annotation.models import (
    ImportJob,
    Item,
    ItemBulkAction,
    MetadataField,
    NearDuplicateGroup,
    Prediction,
)
from core.audit import AuditEvent
from core.exceptions import DomainError
from core.models import OutboxMessage
from exports import services as export_services
from exports.itemset import decode_ids
from exports.models import Release
from governance.erasure import keys, services
from governance.erasure.selectors import erased_content_keys
from governance.models import Erasure, ErasureTombstone
from tests.exports.test_release_service import LABELS, annotate, set_consensus
from tests.factories import label_schema, make_items

pytestmark = pytest.mark.django_db

SECRET = "zq-unique-erasable-7731"  # the erased item's unique content, grepped for in the successor


@pytest.fixture
def subject_lab(people, release_storage):
    """Four labelled items; two belong to data subject customer=c-42 (one carries SECRET and a media
    file, a prediction, a review decision, a gold answer and a near-duplicate group)."""
    from projects import services as project_services

    project = people.project
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema(*LABELS)
    )
    MetadataField.objects.create(project=project, name="customer", type="string")
    job = ImportJob.objects.create(project=project, format="jsonl", original_name="upload.jsonl")
    job.file.save("upload.jsonl", ContentFile(f'{{"text": "{SECRET}"}}\n'.encode()), save=True)
    group = NearDuplicateGroup.objects.create(project=project, kind="text", similarity=0.9)
    items = make_items(
        project,
        {"text": f"my account {SECRET}", "meta": {"customer": "c-42"}, "external_id": "ext-secret"},
        {"text": "second of c-42", "meta": {"customer": "c-42"}},
        {"text": "someone else", "meta": {"customer": "c-7"}},
        {"text": "another one", "meta": {"customer": "c-8"}},
        import_job=job,
    )
    items[0].media.save("secret.txt", ContentFile(SECRET.encode()), save=True)
    Item.objects.filter(id__in=[items[0].id, items[2].id]).update(near_duplicate_group=group)
    for item in items:
        set_consensus(project, item, "positive")
        annotate(project, item, people.annotator, "positive")
    Prediction.objects.create(
        project=project,
        item=items[0],
        model_name="m",
        model_version="1",
        result={"sentiment": "positive"},
        schema_version=project.schema_versions.first(),
    )
    ItemBulkAction.objects.create(
        project=project, action="priority", value=3, item_ids=[items[0].id, items[3].id], status="succeeded"
    )
    OutboxMessage.objects.create(
        task_name="annotation.tasks.item_targets_sync_task",
        kwargs={"item_id": items[0].id},
        next_attempt_at="2026-01-01T00:00:00Z",
    )
    return project, items, job


def _references(item_id: int) -> list[str]:
    """Every row of every table that still references `item_id` through a foreign key to Item."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            is_item_key = isinstance(field, models.ForeignKey) and field.related_model is Item
            if is_item_key and model.objects.filter(**{field.attname: item_id}).exists():
                found.append(f"{model._meta.label}.{field.name}")
    return found


def test_erasing_an_item_deletes_everything_that_holds_it(
    people, subject_lab, django_capture_on_commit_callbacks
):
    project, items, job = subject_lab
    secret = items[0]
    media_name = secret.media.name
    assert default_storage.exists(media_name)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.erase_items(
            project=project, item_ids=[secret.id], reason="GDPR art. 17 request #12", actor=people.org_admin
        )

    assert result.items == 1 and result.already_erased == 0
    assert result.deleted["items"] == 1
    assert result.deleted["annotations"] == 1 and result.deleted["predictions"] == 1
    assert result.deleted["consensus_results"] == 1
    assert result.deleted["media_files"] == 1 and result.deleted["import_files"] == 1
    assert result.deleted["bulk_action_references"] == 1 and result.deleted["outbox_messages"] == 1
    assert result.deleted["near_duplicate_groups"] == 1
    assert not Item.objects.filter(id=secret.id).exists()
    assert _references(secret.id) == []
    assert not default_storage.exists(media_name)
    job.refresh_from_db()
    assert not job.file  # the upload held the content: deleted, and the counts say so
    assert ItemBulkAction.objects.get().item_ids == [items[3].id]
    assert not NearDuplicateGroup.objects.exists()
    assert Item.objects.get(id=items[2].id).near_duplicate_group_id is None
    # The tombstone: no content, keyed hashes only.
    tombstone = ErasureTombstone.objects.get(item_id=secret.id)
    assert tombstone.external_id_hash == keys.external_id_hash(project.id, "ext-secret")
    assert "ext-secret" not in str(tombstone.__dict__) and SECRET not in str(tombstone.__dict__)
    erasure = Erasure.objects.get()
    assert erasure.reason == "GDPR art. 17 request #12" and erasure.items == 1
    event = AuditEvent.objects.get(action="governance.erasure")
    assert event.changes["items"] == 1 and SECRET not in str(event.changes)
    # Re-importing the same content is blocked.
    assert erased_content_keys(project_id=project.id, content_hashes=[secret.content_hash, "x"]) == {
        secret.content_hash
    }


def test_erasure_is_idempotent(people, subject_lab):
    project, items, _ = subject_lab
    first = services.erase_items(project=project, item_ids=[items[0].id], reason="r", actor=people.org_admin)
    again = services.erase_items(project=project, item_ids=[items[0].id], reason="r", actor=people.org_admin)

    assert (first.items, first.already_erased) == (1, 0)
    assert (again.items, again.already_erased) == (0, 1)
    assert Erasure.objects.count() == 1
    assert ErasureTombstone.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"item_ids": [1], "reason": ""}, "erasure_reason_required"),
        ({"item_ids": [1], "reason": "   "}, "erasure_reason_required"),
        ({"item_ids": [], "reason": "r"}, "invalid_item_ids"),
        ({"item_ids": [999999], "reason": "r"}, "unknown_items"),
    ],
)
def test_bad_requests_change_nothing(people, subject_lab, kwargs, code):
    project, _, _ = subject_lab
    with pytest.raises(DomainError) as raised:
        services.erase_items(project=project, actor=people.org_admin, **kwargs)
    assert raised.value.code == code
    assert Item.objects.count() == 4 and not Erasure.objects.exists()


def test_an_item_of_another_project_is_unknown(people, subject_lab):
    project, _, _ = subject_lab
    (other,) = make_items(people.other_project, "theirs")
    with pytest.raises(DomainError) as raised:
        services.erase_items(project=project, item_ids=[other.id], reason="r", actor=people.org_admin)
    assert raised.value.code == "unknown_items"
    assert Item.objects.filter(id=other.id).exists()


def test_data_subject_dry_run_lists_then_erases(people, subject_lab):
    project, items, _ = subject_lab
    dry = services.erase_data_subject(
        project=project, key="customer", value="c-42", reason="request", actor=people.org_admin, dry_run=True
    )
    assert dry.dry_run and dry.items == 2 and dry.deleted["annotations"] == 2
    assert Item.objects.count() == 4 and not Erasure.objects.exists()

    done = services.erase_data_subject(
        project=project, key="customer", value="c-42", reason="request", actor=people.org_admin
    )
    assert done.items == 2
    assert set(Item.objects.values_list("id", flat=True)) == {items[2].id, items[3].id}
    erasure = Erasure.objects.get()
    assert erasure.detail["key"] == "customer" and "c-42" not in str(erasure.detail)

    nothing = services.erase_data_subject(
        project=project, key="customer", value="c-42", reason="request", actor=people.org_admin
    )
    assert nothing.items == 0  # already gone: 200 with zero, no new request row
    with pytest.raises(DomainError) as raised:
        services.erase_data_subject(
            project=project, key="nope", value="x", reason="r", actor=people.org_admin
        )
    assert raised.value.code == "unknown_key"


def test_source_erasure_takes_the_import_jobs_items(people, subject_lab):
    project, _, job = subject_lab
    result = services.erase_source(project=project, import_job_id=job.id, reason="licence ended", actor=None)
    assert result.items == 4 and not Item.objects.filter(project=project).exists()
    with pytest.raises(DomainError) as raised:
        services.erase_source(project=project, reason="r", actor=None)
    assert raised.value.code == "invalid_source"


def test_published_release_is_withdrawn_and_a_successor_built(
    people, subject_lab, create_release, release_storage, django_capture_on_commit_callbacks, client_for
):
    project, items, _ = subject_lab
    first = create_release(formats=["jsonl", "csv"], licence="CC-BY-4.0")
    assert first.status == Release.Status.PUBLISHED
    assert set(decode_ids(first.item_ids)) == {i.id for i in items}
    assert _grep(release_storage / first.storage_prefix, SECRET)  # the secret was released

    with django_capture_on_commit_callbacks(execute=True):
        result = services.erase_data_subject(
            project=project, key="customer", value="c-42", reason="GDPR erasure", actor=people.org_admin
        )

    first.refresh_from_db()
    successor = Release.objects.get(number=2)
    assert result.releases == [{"number": 1, "name": "v1", "erased_items": 2, "successor": 2}]
    assert first.withdrawn_at is not None and first.erased_items == 2 and first.superseded_by == successor
    assert set(decode_ids(first.item_ids)) == {items[2].id, items[3].id}
    assert not first.files.exists()  # the file rows went with the files
    assert not (release_storage / first.storage_prefix).exists() or not any(
        (release_storage / first.storage_prefix).rglob("*.*")
    )
    assert successor.status == Release.Status.PUBLISHED
    assert successor.formats == first.formats and successor.licence == "CC-BY-4.0"
    assert successor.manifest["supersedes"] == [
        {"number": 1, "name": "v1", "reason": "erasure", "erased_items": 2}
    ]
    assert successor.manifest["counts"]["records"] == 2
    root = release_storage / successor.storage_prefix
    assert _grep(root, SECRET) == [] and _grep(root, "ext-secret") == [] and _grep(root, "c-42") == []
    assert export_services.release_verify(release=successor)["ok"]

    # Downloads of the withdrawn release answer 410 naming the successor.
    client = client_for(people.manager)
    response = client.get(f"/api/projects/{project.id}/releases/1/files/manifest.json")
    assert response.status_code == 410
    assert response.json()["code"] == "release_erased" and response.json()["superseded_by"] == 2
    listed = client.get(f"/api/projects/{project.id}/releases/").json()["results"]
    assert listed[1]["superseded_by"] == 2 and listed[1]["erased_items"] == 2


def _grep(root, needle: str) -> list[str]:
    """Files under `root` containing `needle` (bytes), like grep -rl."""
    if not root.exists():
        return []
    return [str(p) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_an_erasure_during_a_build_never_reaches_the_published_files(
    people, subject_lab, release_storage, monkeypatch, django_capture_on_commit_callbacks
):
    """The in-process half of the race (the real-worker test is tests/integration): the erasure
    commits after the build read the item and before it publishes; the build notices and rebuilds."""
    from exports.services import build

    project, items, _ = subject_lab
    real_publish = build._publish
    erased = []

    def publish_after_erasure(release, written):
        if not erased:
            erased.append(
                services.erase_items(project=project, item_ids=[items[0].id], reason="r", actor=None)
            )
        return real_publish(release, written)

    monkeypatch.setattr(build, "_publish", publish_after_erasure)
    with django_capture_on_commit_callbacks(execute=True):
        release = export_services.release_create(
            project=project, actor=people.manager, name="v1", formats=["jsonl"]
        )
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED and release.attempts == 2
    assert items[0].id not in decode_ids(release.item_ids)
    assert _grep(release_storage / release.storage_prefix, SECRET) == []
    assert release.manifest["counts"]["records"] == 3


def test_erased_content_is_reported_not_imported_again(
    people, release_storage, django_capture_on_commit_callbacks
):
    """The tombstone's keyed content hash blocks the same content on a later import: the row is in the
    error report with the code erased_content, the others are imported (all-or-nothing included)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotation.imports.services.jobs import import_job_create

    def run(rows) -> ImportJob:
        body = "".join(f'{{"text": "{text}"}}\n' for text in rows).encode()
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_create(
                project=people.project, actor=people.manager, upload=SimpleUploadedFile("a.jsonl", body)
            )
        job.refresh_from_db()
        return job

    first = run(["keep me", "forget me"])
    assert first.created == 2
    gone = Item.objects.get(project=people.project, data__text="forget me")
    services.erase_items(project=people.project, item_ids=[gone.id], reason="request", actor=people.org_admin)

    again = run(["forget me", "something new"])
    assert (again.status, again.created, again.rejected) == ("succeeded", 1, 1)
    assert again.error_sample[0]["line"] == 1 and again.error_sample[0]["reason"].startswith(
        "erased_content:"
    )
    assert not Item.objects.filter(project=people.project, data__text="forget me").exists()
