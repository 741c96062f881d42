"""release_create, release_build, release_retry, release_verify, release_reproduce, release_diff."""

import json
import re

import pytest
from django.utils import timezone

from annotation.models import Annotation, Assignment, Item
from core.exceptions import DomainError
from core.models import OutboxMessage
from exports import services
from exports.datasheet import md
from exports.formats import FORMATS
from exports.manifest import MANIFEST_NAME, public_key_from_pem, verify_release
from exports.models import Release, ReleaseFile
from exports.services import build, writer
from projects import services as project_services
from quality.models import ConsensusResult
from tests.factories import UserFactory, label_schema, make_items

pytestmark = pytest.mark.django_db

LABELS = ["positive", "negative", "neutral"]


@pytest.fixture
def release_storage(settings, tmp_path):
    """default_storage on a temporary directory, and a signing key generated there on first use."""
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.EXPORTS_SIGNING_KEY_PATH = str(tmp_path / "keys" / "release.pem")
    settings.EXPORTS_BUILD_CHUNK = 2  # several chunks even in small tests: the merge crosses their bounds
    return root


def set_consensus(project, item, label, *, confidence=0.9, agreement=0.8, method="majority_vote"):
    ConsensusResult.objects.update_or_create(
        item=item,
        control="sentiment",
        defaults={
            "project": project,
            "method": method,
            "method_version": "1",
            "answer": label,
            "confidence": confidence,
            "agreement": agreement,
            "annotations": 2,
        },
    )


def annotate(project, item, user, label, review=Annotation.Review.NOT_REQUIRED):
    schema = project.schema_versions.order_by("-version").first()
    assignment = Assignment.objects.create(
        project=project, item=item, annotator=user, status="submitted", leased_at=timezone.now()
    )
    return Annotation.objects.create(
        project=project,
        item=item,
        assignment=assignment,
        annotator=user,
        result={"sentiment": label},
        schema_version=schema,
        review=review,
    )


@pytest.fixture
def lab(people, release_storage):
    """Six items: four with consensus (splits train/train/test/none, one gold, one reviewed), one
    without any answer, one excluded near-duplicate (with consensus, never released)."""
    project = people.project
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema(*LABELS)
    )
    items = make_items(
        project,
        {"text": "good phone", "split": "train"},
        {"text": "bad battery", "split": "train", "is_gold": True},
        {"text": "it is a phone", "split": "test"},
        {"text": "unsplit <b>html</b> \u00e9"},
        {"text": "nobody answered"},
        {"text": "duplicate", "excluded": True},
    )
    second = UserFactory(username="annotator2")
    for item, label, agreement in [
        (items[0], "positive", 1.0),
        (items[1], "negative", 0.5),
        (items[2], "neutral", None),
        (items[3], "positive", 0.25),
        (items[5], "positive", 1.0),
    ]:
        set_consensus(project, item, label, agreement=agreement)
    annotate(project, items[0], people.annotator, "positive", review=Annotation.Review.ACCEPTED)
    annotate(project, items[0], second, "positive")
    annotate(project, items[1], people.annotator, "negative")
    return project, items


@pytest.fixture
def create_release(people, django_capture_on_commit_callbacks):
    """Create a release as the manager; the build runs after commit (Celery is eager in tests)."""

    def create(name="v1", formats=("jsonl",), **options) -> Release:
        with django_capture_on_commit_callbacks(execute=True):
            release = services.release_create(
                project=people.project, actor=people.manager, name=name, formats=list(formats), **options
            )
        release.refresh_from_db()
        return release

    return create


def read_jsonl(root, release, split):
    path = root / release.storage_prefix / "jsonl" / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_build_publishes_every_format_with_a_signed_manifest(lab, create_release, release_storage):
    release = create_release(formats=["csv", "parquet"])

    assert release.status == Release.Status.PUBLISHED
    assert (release.number, release.formats, release.records_done, release.error) == (
        1,
        ["csv", "jsonl", "parquet"],
        4,
        "",
    )
    root = release_storage / release.storage_prefix
    paths = sorted(ReleaseFile.objects.filter(release=release).values_list("path", flat=True))
    assert paths == [
        "AI_RMF.json",
        "DATASHEET.md",
        "croissant.json",
        "csv/test.csv",
        "csv/train.csv",
        "csv/unsplit.csv",
        "jsonl/test.jsonl",
        "jsonl/train.jsonl",
        "jsonl/unsplit.jsonl",
        MANIFEST_NAME,
        "parquet/test.parquet",
        "parquet/train.parquet",
        "parquet/unsplit.parquet",
    ]
    manifest = json.loads((root / MANIFEST_NAME).read_bytes())
    assert manifest == release.manifest
    public_key = public_key_from_pem(services.signing_public_key_info()["public_key_pem"].encode())
    assert verify_release(root, manifest, public_key) == []
    assert manifest["counts"]["records"] == 4
    assert manifest["counts"]["labels"] == {"sentiment": {"negative": 1, "neutral": 1, "positive": 2}}
    assert manifest["consensus"] == {"sentiment": {"method": "majority_vote", "version": "1"}}
    assert manifest["release"]["published"] == release.created_at.date().isoformat()


def test_records_carry_label_confidence_agreement_and_lineage(lab, create_release, release_storage):
    _project, items = lab

    release = create_release(include_raw=True)

    train = read_jsonl(release_storage, release, "train")
    assert [row["item_id"] for row in train] == [items[0].id, items[1].id]
    first = train[0]
    assert first["labels"] == {"sentiment": "positive"}
    assert (first["confidence"], first["agreement"]) == ({"sentiment": 0.9}, {"sentiment": 1.0})
    annotations = Annotation.objects.filter(item=items[0]).order_by("id")
    lineage = first["lineage"]
    assert lineage["annotation_ids"] == [a.id for a in annotations]
    assert lineage["review"] == "accepted"
    assert lineage["aggregation"] == {"sentiment": "majority_vote@1"}
    assert (lineage["source"], lineage["checksum"], lineage["schema_version"]) == (
        "upload",
        items[0].checksum,
        1,
    )
    assert len(lineage["annotators"]) == 2 and all(a.startswith("ann-") for a in lineage["annotators"])
    assert [a["result"] for a in first["annotations"]] == [{"sentiment": "positive"}] * 2
    assert re.fullmatch(r"ann-[0-9a-f]{8}", first["annotations"][0]["annotator"])
    assert sorted(a["annotator"] for a in first["annotations"]) == lineage["annotators"]
    assert read_jsonl(release_storage, release, "test")[0]["agreement"] == {"sentiment": None}
    unsplit = read_jsonl(release_storage, release, "unsplit")
    assert [row["item_id"] for row in unsplit] == [items[3].id]  # no answer, excluded: left out
    assert unsplit[0]["data"] == {"text": "unsplit <b>html</b> \u00e9"}


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"gold": True}, [1]),
        ({"split": "train"}, [0, 1]),
        ({"reviewed": True}, [0]),
        ({"min_agreement": 0.5}, [0, 1]),
        ({"created_from": "2000-01-01", "created_until": "2000-12-31"}, []),
    ],
)
def test_filter_selects_the_items(lab, create_release, release_storage, filter_, expected):
    _project, items = lab

    release = create_release(filter=filter_)

    ids = sorted(
        row["item_id"]
        for split in ("train", "test", "unsplit")
        if (release_storage / release.storage_prefix / "jsonl" / f"{split}.jsonl").exists()
        for row in read_jsonl(release_storage, release, split)
    )
    assert ids == sorted(items[i].id for i in expected)
    assert release.manifest["filter"] == filter_
    assert release.records_done == len(expected)


@pytest.mark.parametrize(
    "name", ["../etc", "a/b", "a\\b", ".hidden", "", "x" * 101, "v1 final", "r\u00e9sum\u00e9"]
)
def test_rejects_names_with_path_or_odd_characters(lab, people, name):
    with pytest.raises(DomainError) as error:
        services.release_create(project=people.project, actor=people.manager, name=name, formats=["jsonl"])

    assert error.value.code == "invalid_name"
    assert Release.objects.exists() is False
    assert OutboxMessage.objects.filter(task_name=services.BUILD_TASK).exists() is False


@pytest.mark.parametrize(
    ("formats", "code"),
    [(["jsonl", "xlsx"], "unknown_format"), (["coco"], "format_not_applicable"), ("jsonl", "unknown_format")],
)
def test_rejects_unknown_or_inapplicable_formats(lab, people, formats, code):
    with pytest.raises(DomainError) as error:
        services.release_create(project=people.project, actor=people.manager, name="v1", formats=formats)

    assert error.value.code == code
    assert Release.objects.exists() is False


@pytest.mark.parametrize(
    "filter_",
    [
        {"colour": "red"},
        {"min_agreement": 1.5},
        {"min_agreement": "high"},
        {"split": "../train"},
        {"gold": "yes"},
        {"created_from": "yesterday"},
        {"created_from": "2026-02-01", "created_until": "2026-01-01"},
        ["gold"],
    ],
)
def test_rejects_bad_filters(lab, people, filter_):
    with pytest.raises(DomainError) as error:
        services.release_create(
            project=people.project, actor=people.manager, name="v1", formats=["jsonl"], filter=filter_
        )

    assert error.value.code == "bad_filter"
    assert Release.objects.exists() is False


def test_names_are_unique_and_numbers_increase(lab, create_release, people):
    create_release(name="v1")
    second = create_release(name="v2")

    with pytest.raises(DomainError) as error:
        services.release_create(project=people.project, actor=people.manager, name="v1", formats=["jsonl"])

    assert error.value.code == "name_taken"
    assert second.number == 2
    assert list(Release.objects.order_by("number").values_list("name", flat=True)) == ["v1", "v2"]


def test_project_without_schema_has_nothing_to_release(people, release_storage):
    with pytest.raises(DomainError) as error:
        services.release_create(project=people.project, actor=people.manager, name="v1", formats=["jsonl"])

    assert error.value.code == "no_schema"


def test_failed_build_leaves_no_files_and_a_retry_publishes(
    lab, create_release, people, release_storage, monkeypatch, django_capture_on_commit_callbacks
):
    real_write = FORMATS["csv"].write

    def broken(records, ctx, open_file, place_media=None):
        for _ in records:
            with open_file("csv/partial.csv") as handle:
                handle.write(b"half")
            raise OSError("disk full")

    monkeypatch.setattr(FORMATS["csv"], "write", broken)

    release = create_release(formats=["csv"])

    assert (release.status, release.error) == (
        Release.Status.FAILED,
        "The build failed (OSError); nothing was published.",
    )
    assert not (release_storage / release.storage_prefix).exists()
    assert ReleaseFile.objects.filter(release=release).exists() is False

    monkeypatch.setattr(FORMATS["csv"], "write", real_write)
    with django_capture_on_commit_callbacks(execute=True):
        services.release_retry(release=release, actor=people.manager)
    release.refresh_from_db()

    assert (release.status, release.attempts) == (Release.Status.PUBLISHED, 2)
    assert release.storage_prefix.endswith("/a2/")
    assert services.release_verify(release=release)["ok"] is True


def test_killed_build_leftovers_are_deleted_by_the_retry(
    lab, people, release_storage, django_capture_on_commit_callbacks
):
    release = services.release_create(
        project=people.project, actor=people.manager, name="v1", formats=["jsonl"]
    )
    # a worker that died midway: the row is building, its prefix holds a partial file
    Release.objects.filter(pk=release.pk).update(
        attempts=1, storage_prefix=f"releases/{people.project.id}/1/a1/"
    )
    leftover = release_storage / f"releases/{people.project.id}/1/a1/jsonl/train.jsonl"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b'{"item_id": 1')

    with django_capture_on_commit_callbacks(execute=True):
        services.release_retry(release=release, actor=people.manager)
    release.refresh_from_db()

    assert release.status == Release.Status.PUBLISHED
    assert not leftover.exists()
    assert release.storage_prefix == f"releases/{people.project.id}/1/a2/"


def test_published_release_cannot_be_retried_and_build_is_idempotent(lab, create_release, people):
    release = create_release()
    files = list(ReleaseFile.objects.filter(release=release).values_list("path", "sha256"))

    with pytest.raises(DomainError) as error:
        services.release_retry(release=release, actor=people.manager)
    services.release_build(release_id=release.id)  # a duplicate delivery of the task

    assert error.value.code == "release_published"
    release.refresh_from_db()
    assert release.attempts == 1
    assert list(ReleaseFile.objects.filter(release=release).values_list("path", "sha256")) == files


def test_verify_names_the_tampered_file(lab, create_release, release_storage):
    release = create_release(formats=["csv"])
    root = release_storage / release.storage_prefix
    (root / "csv" / "train.csv").write_bytes((root / "csv" / "train.csv").read_bytes() + b"1,x\n")
    (root / "jsonl" / "extra.jsonl").write_bytes(b"{}\n")

    result = services.release_verify(release=release)

    assert result["ok"] is False
    assert result["problems"] == ["changed: csv/train.csv", "extra: jsonl/extra.jsonl"]


def test_verify_detects_an_edited_manifest(lab, create_release, release_storage):
    release = create_release()
    path = release_storage / release.storage_prefix / MANIFEST_NAME
    manifest = json.loads(path.read_bytes())
    manifest["counts"]["records"] = 1000
    path.write_text(json.dumps(manifest))

    result = services.release_verify(release=release)

    assert result["ok"] is False
    assert result["problems"][0] == "changed: manifest.json"
    assert any(problem.startswith("signature:") for problem in result["problems"])


def test_rebuild_from_the_database_is_byte_identical(lab, create_release, release_storage, tmp_path):
    release = create_release(formats=["csv", "parquet"], include_raw=True)

    problems = services.release_reproduce(release=release, directory=tmp_path / "again")

    assert problems == []
    for stored in ReleaseFile.objects.filter(release=release):
        assert (tmp_path / "again" / stored.path).read_bytes() == (
            release_storage / release.storage_prefix / stored.path
        ).read_bytes()


def test_the_transformations_before_the_release_are_stated(
    lab, people, create_release, release_storage, tmp_path, django_capture_on_commit_callbacks
):
    from annotation.models import ImportJob, NearDuplicateGroup, SplitOperation

    project, items = lab
    ImportJob.objects.create(
        project=project, status="succeeded", format="jsonl", original_name="a.jsonl", created=6, duplicates=2
    )
    ImportJob.objects.create(
        project=project, status="failed", format="jsonl", original_name="b.jsonl", duplicates=9
    )
    group = NearDuplicateGroup.objects.create(
        project=project, kind="text", similarity=0.93, resolution="kept_one", resolved_at=timezone.now()
    )
    Item.objects.filter(pk=items[5].pk).update(near_duplicate_group=group)
    SplitOperation.objects.create(
        project=project,
        ratios={"train": 0.8, "test": 0.2},
        seed=7,
        stratify_by="lang",
        counts={"train": 2, "test": 1},
    )
    with django_capture_on_commit_callbacks(execute=True):
        project_services.schema_labels_migrate(
            project=project,
            actor=people.manager,
            operations=[
                {"op": "merge", "control": "sentiment", "from": ["neutral", "negative"], "to": "negative"}
            ],
        )

    release = create_release(formats=["jsonl"])
    SplitOperation.objects.create(
        project=project, ratios={"train": 1.0}, seed=8, counts={"train": 3}
    )  # later

    today = timezone.now().date().isoformat()
    assert release.manifest["transformations"] == [
        {
            "type": "deduplication",
            "method": "exact: SHA-256 of the normalised content, and external id, at import",
            "duplicates_skipped": 2,
        },
        {
            "type": "near_duplicate_exclusion",
            "method": "MinHash/LSH for text, perceptual hash for images; reviewed by a manager",
            "groups": 1,
            "items_excluded": 1,
        },
        {
            "type": "split",
            "date": today,
            "ratios": "test 0.2, train 0.8",
            "seed": 7,
            "counts": "test 1, train 2",
            "stratify_by": "lang",
        },
        {
            "type": "label_migration",
            "date": today,
            "schema_versions": "1 -> 2",
            "operations": "merge neutral, negative -> negative in sentiment",
        },
    ]
    root = release_storage / release.storage_prefix
    datasheet = (root / "DATASHEET.md").read_text()
    assert md("merge neutral, negative -> negative in sentiment") in datasheet
    assert md("duplicates_skipped=2") in datasheet
    croissant = json.loads((root / "croissant.json").read_text())
    assert any("seed=7" in step for step in croissant["rai:dataPreprocessingProtocol"])
    # A split made after the release was requested is not in a rebuild either: byte-identical.
    assert services.release_reproduce(release=release, directory=tmp_path / "again") == []


def test_reproduce_reports_what_changed_in_the_database(lab, create_release, tmp_path):
    project, items = lab
    release = create_release()
    set_consensus(project, items[0], "negative")

    problems = services.release_reproduce(release=release, directory=tmp_path / "again")

    assert problems == [
        "changed: AI_RMF.json",
        "changed: DATASHEET.md",
        "changed: croissant.json",
        "changed: jsonl/train.jsonl",
        f"changed: {MANIFEST_NAME}",
    ]


def test_diff_lists_added_removed_relabelled_and_label_counts(lab, create_release, people):
    project, items = lab
    old = create_release(name="v1")
    set_consensus(project, items[0], "negative", method="dawid_skene")
    ConsensusResult.objects.filter(item=items[3]).delete()
    set_consensus(project, items[4], "neutral")
    new = create_release(name="v2")

    diff = services.release_diff(old=old, new=new)

    assert diff["totals"] == {"added": 1, "removed": 1, "relabelled": 1, "unchanged": 2}

    def named(item):
        return {"item_id": item.id, "external_id": None, "key": f"sha256:{item.checksum[:10]}"}

    assert diff["added"] == [
        {**named(items[4]), "labels": {"sentiment": "neutral"}, "labels_text": {"sentiment": "neutral"}}
    ]
    assert diff["removed"] == [
        {**named(items[3]), "labels": {"sentiment": "positive"}, "labels_text": {"sentiment": "positive"}}
    ]
    assert diff["relabelled"] == [
        {
            **named(items[0]),
            "controls": ["sentiment"],
            "old": {"sentiment": "positive"},
            "new": {"sentiment": "negative"},
            "changes": [
                {
                    "control": "sentiment",
                    "old": "positive",
                    "new": "negative",
                    "old_text": "positive",
                    "new_text": "negative",
                }
            ],
            "reasons": ["consensus method changed"],
        }
    ]
    assert diff["label_counts"] == {
        "sentiment": {
            "negative": {"old": 1, "new": 2, "change": 1},
            "neutral": {"old": 1, "new": 2, "change": 1},
            "positive": {"old": 2, "new": 0, "change": -2},
        }
    }
    assert diff["truncated"] is False


def test_diff_needs_published_releases(lab, people, create_release):
    published = create_release(name="v1")
    building = services.release_create(
        project=people.project, actor=people.manager, name="v2", formats=["jsonl"]
    )

    with pytest.raises(DomainError) as error:
        services.release_diff(old=published, new=building)

    assert error.value.code == "release_not_published"


def test_item_rows_are_not_changed_by_a_build(lab, create_release):
    before = list(Item.objects.order_by("id").values_list("id", "state", "split"))

    create_release()

    assert list(Item.objects.order_by("id").values_list("id", "state", "split")) == before


def test_build_announces_progress_and_publication(lab, create_release, monkeypatch, people):
    events = []

    def record(group, event_type, data):
        events.append((group, event_type, data))

    monkeypatch.setattr("core.realtime.broadcast", record)  # what broadcast_on_commit calls after commit
    monkeypatch.setattr(build, "broadcast", record)  # progress, sent during the build

    release = create_release()

    group = f"project.{people.project.id}"
    kinds = [event_type for _, event_type, _ in events]
    assert kinds[0] == "release.created" and kinds[-1] == "release.published"
    assert "release.progress" in kinds
    assert {g for g, _, _ in events} == {group}
    final_progress = [d for _, t, d in events if t == "release.progress"][-1]
    assert (final_progress["records_done"], final_progress["records_total"]) == (5, 5)  # items read
    assert events[-1][2] == {
        "project_id": people.project.id,
        "release_id": release.id,
        "number": 1,
        "name": "v1",
        "status": "published",
        "records_done": 4,
        "records_total": 4,
    }


def test_failed_build_announces_the_failure(lab, create_release, monkeypatch, people):
    events = []
    monkeypatch.setattr("core.realtime.broadcast", lambda group, kind, data: events.append((kind, data)))
    monkeypatch.setattr(build, "broadcast", lambda group, kind, data: None)
    monkeypatch.setattr(writer, "signing_key", lambda: (_ for _ in ()).throw(PermissionError("key")))

    release = create_release()

    assert release.status == Release.Status.FAILED
    assert events[-1] == (
        "release.failed",
        {
            "project_id": people.project.id,
            "release_id": release.id,
            "number": 1,
            "name": "v1",
            "status": "failed",
            "records_done": 0,
            "records_total": 0,
            "error": "The build failed (PermissionError); nothing was published.",
        },
    )
