"""import_job_create + import_job_run: all or nothing, idempotent, in bulk (PostgreSQL COPY)."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.imports.services.jobs import import_job_create
from annotation.models import ImportJob, Item, MetadataField
from core.exceptions import DomainError
from core.models import AuditEvent, OutboxMessage

pytestmark = pytest.mark.django_db


def _jsonl(*rows) -> bytes:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows).encode()


@pytest.fixture
def run_import(people, django_capture_on_commit_callbacks):
    """Upload `content` as the manager; the job runs after commit (Celery is eager in tests)."""

    def run(content: bytes, name: str = "items.jsonl", **options) -> ImportJob:
        upload = SimpleUploadedFile(name, content)
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_create(project=people.project, actor=people.manager, upload=upload, **options)
        job.refresh_from_db()
        return job

    return run


def _report(job: ImportJob) -> list[list[str]]:
    with job.error_report.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode())))


def test_jsonl_creates_items_in_file_order_with_provenance(run_import, people):
    job = run_import(
        _jsonl(
            {"text": "The service was quick.", "meta": {"language": "en", "stars": 5}, "id": "r1"},
            {
                "text": "Le service était lent.",
                "meta": {"language": "fr", "stars": 2},
                "id": "r2",
                "synthetic": True,
                "generator": "gpt-x",
            },
        ),
        defaults={"licence": "CC-BY-4.0", "consent": "granted"},
    )

    assert (job.status, job.received, job.created, job.duplicates, job.rejected) == ("succeeded", 2, 2, 0, 0)
    items = list(Item.objects.filter(project=people.project).order_by("id"))
    assert [(i.external_id, i.data, i.meta) for i in items] == [
        ("r1", {"text": "The service was quick."}, {"language": "en", "stars": 5}),
        ("r2", {"text": "Le service était lent."}, {"language": "fr", "stars": 2}),
    ]
    first, second = items
    assert (first.licence, first.consent, first.synthetic, first.generator) == (
        "CC-BY-4.0",
        "granted",
        False,
        "",
    )
    assert (second.synthetic, second.generator) == (True, "gpt-x")
    assert first.source == "upload" and first.source_ref == "items.jsonl:1" and first.import_job_id == job.id
    assert first.search_text == "the service was quick."
    assert len(first.checksum) == 64 and len(first.content_hash) == 64
    fields = {f.name: (f.type, f.categories) for f in MetadataField.objects.filter(project=people.project)}
    assert fields == {"language": ("string", []), "stars": ("number", [])}


def test_reimporting_the_same_file_creates_nothing(run_import, people):
    content = _jsonl({"text": "one"}, {"text": "two"}, {"text": "three"})
    run_import(content)

    again = run_import(content)

    assert (again.status, again.received, again.created, again.duplicates) == ("succeeded", 3, 0, 3)
    assert Item.objects.filter(project=people.project).count() == 3


def test_normalised_duplicates_inside_a_file_are_skipped_and_counted(run_import, people):
    job = run_import(_jsonl({"text": "Hello  world"}, {"text": "Hello world\n"}, {"text": "hello world"}))

    assert (job.created, job.duplicates) == (2, 1)
    assert sorted(Item.objects.filter(project=people.project).values_list("data__text", flat=True)) == [
        "Hello  world",
        "hello world",
    ]


def test_all_or_nothing_fails_with_complete_report_and_creates_nothing(run_import, people):
    job = run_import(
        _jsonl(
            {"text": "fine"},
            '{"text": "broken',
            {"text": "a\u0000b"},
            {"text": "\ud800"},
            [1, 2],
            {"text": "ok"},
        )
    )

    assert job.status == "failed"
    assert job.detail == (
        "4 problem(s) found; nothing was imported. Fix them and upload again, or import the valid rows."
    )
    assert (job.received, job.created, job.rejected, job.error_count) == (6, 0, 4, 4)
    assert Item.objects.filter(project=people.project).count() == 0
    report = _report(job)
    assert report[0] == ["line", "field", "reason"]
    assert [row[:2] for row in report[1:]] == [["2", ""], ["3", "data.text"], ["4", "data.text"], ["5", ""]]
    assert job.error_sample[1] == {"line": 3, "field": "data.text", "reason": report[2][2]}
    assert MetadataField.objects.filter(project=people.project).count() == 0


def test_valid_rows_mode_imports_the_rest(run_import, people):
    job = run_import(_jsonl({"text": "fine"}, "not json", {"text": "also fine"}), mode="valid_rows")

    assert (job.status, job.received, job.created, job.rejected) == ("succeeded", 3, 2, 1)
    assert [row[0] for row in _report(job)[1:]] == ["2"]


def test_duplicate_external_id_inside_a_file_is_an_error(run_import, people):
    job = run_import(_jsonl({"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}))

    assert job.status == "failed"
    assert _report(job)[1] == ["3", "external_id", "external_id 'a' is already used on line 1"]
    assert Item.objects.filter(project=people.project).count() == 0


def test_duplicate_external_id_in_valid_rows_mode_keeps_the_first(run_import, people):
    job = run_import(
        _jsonl({"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}),
        mode="valid_rows",
    )

    assert (job.created, job.rejected) == (2, 1)
    assert dict(Item.objects.filter(project=people.project).values_list("external_id", "data__text")) == {
        "a": "x",
        "b": "y",
    }


def test_existing_external_id_is_a_duplicate_not_an_error(run_import, people):
    run_import(_jsonl({"id": "a", "text": "first version"}))

    job = run_import(_jsonl({"id": "a", "text": "edited version"}, {"id": "b", "text": "new"}))

    assert (job.status, job.created, job.duplicates) == ("succeeded", 1, 1)
    assert Item.objects.get(project=people.project, external_id="a").data == {"text": "first version"}


def test_existing_content_and_external_ids_skipped_in_one_later_import(run_import, people):
    """PostgreSQL: a later import deletes what the project has from staging (anti-joins) and inserts the
    rest with a plain INSERT; file order, in-file duplicates and counts are as before."""
    run_import(_jsonl({"id": "a", "text": "alpha"}, {"text": "beta"}))

    job = run_import(
        _jsonl(
            {"id": "a", "text": "changed"},  # existing external id
            {"text": "beta "},  # existing content (normalised)
            {"text": "gamma"},
            {"text": "gamma"},  # in-file duplicate
            {"id": "d", "text": "delta"},
        )
    )

    assert (job.status, job.received, job.created, job.duplicates) == ("succeeded", 5, 2, 3)
    texts = list(
        Item.objects.filter(project=people.project).order_by("id").values_list("data__text", flat=True)
    )
    assert texts == ["alpha", "beta", "gamma", "delta"]


def test_a_conflict_the_anti_joins_missed_falls_back_to_skipping(run_import, people, monkeypatch):
    """A writer outside the import lock (an item created through the API) can add the same content
    between the anti-joins and the INSERT: the INSERT's unique violation is rolled back to a savepoint
    and the rows go in with ON CONFLICT DO NOTHING instead; nothing fails, the counts stay exact."""
    from django.db import connection

    from annotation.imports import loader

    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL insert path")
    run_import(_jsonl({"id": "a", "text": "alpha"}, {"text": "beta"}))
    monkeypatch.setattr(loader, "_PG_PROJECT_HAS_ITEMS", "SELECT false AND %s > 0")  # anti-joins skipped

    job = run_import(_jsonl({"id": "a", "text": "other"}, {"text": "beta"}, {"text": "new"}))

    assert (job.status, job.created, job.duplicates) == ("succeeded", 1, 2)
    assert Item.objects.filter(project=people.project).count() == 3


def test_csv_with_meta_columns_and_bom(run_import, people):
    content = '\ufeffid,text,meta.language,licence\n1,Great phone,en,MIT\n2,"Bad, broken",en,MIT\n'.encode()

    job = run_import(content, name="reviews.csv")

    assert (job.status, job.format, job.created) == ("succeeded", "csv", 2)
    assert list(
        Item.objects.filter(project=people.project)
        .order_by("id")
        .values_list("external_id", "data", "meta", "licence")
    ) == [
        ("1", {"text": "Great phone"}, {"language": "en"}, "MIT"),
        ("2", {"text": "Bad, broken"}, {"language": "en"}, "MIT"),
    ]
    assert MetadataField.objects.get(project=people.project, name="language").type == "category"


def test_label_studio_tasks_keep_predictions(run_import, people):
    from annotation.models import Prediction
    from projects.services import schema_version_create
    from tests.factories import label_schema

    schema_version_create(project=people.project, actor=people.manager, definition=label_schema("LOC", "PER"))
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["LOC"]}}]
    tasks = [
        {
            "id": 7,
            "data": {"text": "Paris is nice"},
            "meta": {"batch": "b1"},
            "predictions": [{"model_version": "v1", "score": 0.8, "result": result}],
        },
    ]

    job = run_import(json.dumps(tasks).encode(), name="export.json")

    assert (job.status, job.format, job.created) == ("succeeded", "labelstudio", 1)
    item = Item.objects.get(project=people.project)
    assert (item.external_id, item.data, item.meta) == ("7", {"text": "Paris is nice"}, {"batch": "b1"})
    assert item.predictions == tasks[0]["predictions"]  # the raw form, as received
    prediction = Prediction.objects.get(item=item)  # and the converted one the queue offers
    assert (prediction.model_version, prediction.score, prediction.result) == (
        "v1",
        0.8,
        {"sentiment": "LOC"},
    )


def test_wrong_encoding_is_reported_per_line(run_import, people):
    job = run_import("ok line\ncaf\xe9 latin-1\n".encode("latin-1"), name="lines.txt")

    assert job.status == "failed"
    assert _report(job)[1][0] == "2"
    assert Item.objects.filter(project=people.project).count() == 0


def test_file_over_the_limit_is_refused_before_storing(people, settings):
    settings.ANNOTATION_IMPORT_MAX_BYTES = 10

    with pytest.raises(DomainError) as error:
        import_job_create(
            project=people.project,
            actor=people.manager,
            upload=SimpleUploadedFile("a.jsonl", b'{"text": "eleven!"}\n'),
        )

    assert (error.value.code, error.value.status_code) == ("file_too_large", 413)
    assert ImportJob.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_unknown_format_and_archived_project_are_refused(people):
    with pytest.raises(DomainError) as error:
        import_job_create(
            project=people.project, actor=people.manager, upload=SimpleUploadedFile("a.xlsx", b"PK")
        )
    assert error.value.code == "unknown_format"

    people.project.archived_at = people.project.created_at
    people.project.save()
    with pytest.raises(DomainError) as error:
        import_job_create(
            project=people.project, actor=people.manager, upload=SimpleUploadedFile("a.txt", b"x\n")
        )
    assert error.value.code == "project_archived"
    assert ImportJob.objects.count() == 0


def test_a_finished_job_is_not_run_twice(run_import, people):
    from annotation.imports.services.jobs import import_job_run

    job = run_import(_jsonl({"text": "once"}))

    again = import_job_run(job_id=job.id)

    assert again.created == 1
    assert Item.objects.filter(project=people.project).count() == 1


def test_import_is_audited(run_import, people):
    job = run_import(_jsonl({"text": "x"}))

    actions = list(
        AuditEvent.objects.filter(target_id=str(job.id), target_type="annotation.importjob")
        .order_by("id")
        .values_list("action", "changes")
    )
    assert actions == [
        ("import.created", {"file": "items.jsonl", "format": "jsonl", "mode": "all_or_nothing", "bytes": 14}),
        ("import.succeeded", {"received": 1, "created": 1, "duplicates": 0, "rejected": 0}),
    ]
