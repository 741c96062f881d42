"""A Label Studio export imports with nothing lost: annotations, cancelled ones, predictions (issue #13)."""

import copy
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotation.imports.services.jobs import import_job_create
from annotation.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    ImportedAnnotator,
    ImportJob,
    Item,
    Prediction,
)
from projects import services as project_services
from projects.models import ProjectMembership
from quality.models import QualityRun

from .labelstudio_export import TESSERA_SCHEMA, export_bytes, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(people):
    return project_services.schema_version_create(
        project=people.project, actor=people.manager, definition=TESSERA_SCHEMA
    )


@pytest.fixture
def run_import(people, django_capture_on_commit_callbacks):
    def run(content: bytes, name: str = "project-3-at-2026-03-05.json", **options) -> ImportJob:
        upload = SimpleUploadedFile(name, content)
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_create(project=people.project, actor=people.manager, upload=upload, **options)
        job.refresh_from_db()
        return job

    return run


def _report(job: ImportJob) -> list[list[str]]:
    with job.error_report.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode())))[1:]


def _expected(all_tasks):
    annotations = [a for t in all_tasks for a in t["annotations"]]
    cancelled = sum(a["was_cancelled"] for a in annotations)
    predictions = sum(len(t["predictions"]) for t in all_tasks)
    return len(annotations) - cancelled, cancelled, predictions


def test_every_annotation_and_prediction_of_an_export_is_imported(run_import, people, schema):
    all_tasks = tasks()
    job = run_import(export_bytes())
    real, cancelled, predictions = _expected(all_tasks)
    assert (real, cancelled, predictions) == (55, 5, 27)

    assert job.format == "labelstudio"
    assert (job.status, job.received, job.created, job.rejected, job.error_count) == (
        "succeeded",
        50,
        50,
        0,
        0,
    )
    assert job.label_counts == {
        "annotations": {
            "received": real + cancelled,
            "imported": real,
            "cancelled": cancelled,
            "rejected": 0,
            "duplicates": 0,
        },
        "predictions": {"received": predictions, "imported": predictions, "rejected": 0, "duplicates": 0},
        "annotators": 4,
    }
    project = people.project
    assert Annotation.objects.filter(project=project).count() == real
    assert AnnotationRevision.objects.filter(annotation__project=project).count() == real
    skipped = Assignment.objects.filter(project=project, status=Assignment.Status.SKIPPED)
    assert skipped.count() == cancelled
    assert Prediction.objects.filter(project=project).count() == predictions

    # Imported annotators: pseudonymous, no login, marked, members of the project.
    imported = ImportedAnnotator.objects.filter(project=project).select_related("user")
    assert sorted(a.external_ref for a in imported) == ["11", "12", "13", "14"]
    for annotator in imported:
        user = annotator.user
        assert user.username == f"imported-ls-p{project.id}-u{annotator.external_ref}"
        assert not user.has_usable_password() and not user.is_active and user.email == ""
        assert ProjectMembership.objects.get(project=project, user=user).role == "annotator"

    # One task in detail: the first one (user 11, rich regions on an 800x600 image).
    item = Item.objects.get(project=project, external_id="1000")
    source = all_tasks[0]
    assert item.data == {**source["data"], "width": 800, "height": 600}  # original keys kept
    assert item.meta == source["meta"]
    annotation = Annotation.objects.get(item=item)
    assert annotation.annotator.username.endswith("-u11")
    assert annotation.lead_ms == 12500
    assert annotation.created_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    result = annotation.result
    box = next(r for r in source["annotations"][0]["result"] if r.get("from_name") == "box")["value"]
    assert result["box"] == [
        {
            "x": box["x"] * 8,
            "y": box["y"] * 6,
            "width": 200,
            "height": 75,
            "label": box["rectanglelabels"][0],
        }
    ]
    assert result["outline"] == [{"points": [[80, 60], [400, 75], [240, 375]], "label": "cat"}]
    assert result["joints"] == [
        {
            "points": [
                {"name": "nose", "x": 200, "y": 300, "visibility": 2},
                {"name": "tail", "x": 600, "y": 300, "visibility": 2},
            ]
        }
    ]
    text = item.data["text"]
    assert [(s["label"], text[s["start"] : s["end"]]) for s in result["ner"]] == [
        ("PER", "Ada Lovelace"),
        ("ORG", "Acme Corp"),
        ("LOC", "London"),
    ]  # UTF-16 offsets (the emoji) became code points
    assert result["relations"] == [{"from": "e0-0", "to": "e0-1", "label": "works_for"}]
    assert result["summary"] == "About Ada Lovelace" and result["quality"] == 1

    # Items reached the right state: one slot each (overlap 1), two for tasks with two people.
    for task in all_tasks:
        item = Item.objects.get(project=project, external_id=str(task["id"]))
        done = sum(not a["was_cancelled"] for a in task["annotations"])
        assert item.done == done and item.leased == 0
        # Quality may escalate a disagreement on a doubly annotated item (one more annotator).
        assert item.target == max(project.overlap, done) + item.extra
        # Finished items follow the project's review policy (default: a 10% sample goes to review).
        finished = {"completed", "in_review"}
        assert item.state in (finished if done and not item.extra else {"open"}), item.state

    # Predictions keep model version and score.
    prediction = Prediction.objects.get(item__external_id="1001")
    assert (prediction.model_name, prediction.model_version, prediction.score) == (
        "labelstudio",
        "detector-v2",
        0.6,
    )
    assert set(prediction.result) == {"sentiment", "ner", "box"}

    # Quality recomputed over them (scheduled the normal way, run after commit), and its annotator
    # table shows who was imported.
    run = QualityRun.objects.filter(project=project, status="done").latest("id")
    listed = {row["username"] for row in run.report["annotators"]}
    assert listed == {f"imported-ls-p{project.id}-u{n}" for n in (11, 12, 13, 14)}


def test_the_job_api_and_page_count_the_labels(run_import, people, schema, page_for):
    job = run_import(export_bytes(10))
    client = APIClient()
    client.force_authenticate(people.manager)
    body = client.get(f"/api/projects/{people.project.id}/imports/{job.id}/").json()
    assert body["label_counts"]["annotations"]["imported"] == 11
    assert body["label_counts"]["predictions"]["imported"] == job.label_counts["predictions"]["imported"]
    html = (
        page_for(people.manager).get(f"/projects/{people.project.id}/data/imports/{job.id}/").content.decode()
    )
    assert 'id="job-label-counts"' in html and "imported annotators" in html


def test_reimporting_the_same_export_counts_its_labels_as_duplicates(run_import, people, schema):
    run_import(export_bytes())
    again = run_import(export_bytes())
    assert (again.status, again.created, again.duplicates) == ("succeeded", 0, 50)
    assert again.label_counts["annotations"] == {
        "received": 60,
        "imported": 0,
        "cancelled": 0,
        "rejected": 0,
        "duplicates": 60,
    }
    assert again.label_counts["predictions"]["duplicates"] == 27
    assert Annotation.objects.filter(project=people.project).count() == 55


def _broken_tasks():
    all_tasks = tasks(10)
    bad = copy.deepcopy(all_tasks)
    first = bad[0]["annotations"][0]["result"]
    first.append(
        {"id": "z", "from_name": "mask", "to_name": "image", "type": "brushlabels", "value": {"rle": [1]}}
    )
    bad[1]["annotations"][0]["result"][0]["value"]["choices"] = ["ecstatic"]  # not a label
    box = next(r for r in bad[2]["annotations"][0]["result"] if r["type"] == "rectanglelabels")
    box["value"]["x"] = 90.0  # 90% + 25% wide: outside the image
    bad[3]["predictions"] = [
        {
            "model_version": "m",
            "result": [{"from_name": "nope", "type": "choices", "value": {"choices": ["a"]}}],
        }
    ]
    bad[4]["annotations"][0]["result"].append(
        {
            "id": "d",
            "from_name": "when",
            "to_name": "text",
            "type": "datetime",
            "value": {"datetime": "2026-01-01"},
        }
    )
    return bad


def test_what_cannot_be_converted_is_reported_per_task_and_nothing_is_imported(run_import, people, schema):
    job = run_import(json.dumps(_broken_tasks()).encode())
    assert job.status == "failed" and job.created == 0
    rows = _report(job)
    by_line = {}
    for line, field, reason in rows:
        by_line.setdefault(int(line), []).append((field, reason))
    assert set(by_line) == {1, 2, 3, 4, 5}
    assert by_line[1][0][0].startswith("annotations[0].result[") and "mask" in by_line[1][0][1]
    assert by_line[2] == [("annotations[0].result.sentiment", "'ecstatic' is not a label of 'sentiment'.")]
    assert "outside the image" in by_line[3][0][1]
    assert by_line[4][0][0] == "predictions[0].result[0].from_name" and "'nope'" in by_line[4][0][1]
    assert "'when'" in by_line[5][0][1]
    counts = job.label_counts
    # A rejected task takes all its labels with it: 5 tasks with one annotation, 2 with a prediction.
    assert counts["annotations"]["rejected"] == 5 and counts["predictions"]["rejected"] == 2
    total = sum(len(t["annotations"]) for t in _broken_tasks())
    assert counts["annotations"] == {
        "received": total,
        "imported": 0,
        "cancelled": 0,
        "rejected": 5,
        "duplicates": 0,
        "not_imported": total - 5,
    }
    assert not Annotation.objects.filter(project=people.project).exists()
    assert not Prediction.objects.filter(project=people.project).exists()
    assert not ImportedAnnotator.objects.filter(project=people.project).exists()


def test_valid_rows_mode_imports_the_convertible_tasks_and_reports_the_rest(run_import, people, schema):
    bad = _broken_tasks()
    job = run_import(json.dumps(bad).encode(), mode="valid_rows")
    assert (job.status, job.created, job.rejected) == ("succeeded", 5, 5)
    good = bad[5:]
    real, _, predictions = _expected(good)
    assert job.label_counts["annotations"]["imported"] == real
    assert job.label_counts["predictions"]["imported"] == predictions
    assert Annotation.objects.filter(project=people.project).count() == real


def test_without_a_schema_annotations_are_refused_not_dropped(run_import, people):
    job = run_import(export_bytes(3))
    assert job.status == "failed"
    assert "no label schema" in _report(job)[0][2]


def test_imported_predictions_are_offered_by_the_queue(run_import, people, schema):
    only_predictions = [t for t in tasks() if not t["annotations"]]
    job = run_import(json.dumps(only_predictions).encode())
    assert job.status == "succeeded" and job.label_counts["predictions"]["imported"] == 5
    client = APIClient()
    client.force_authenticate(people.annotator)
    body = client.post(f"/api/projects/{people.project.id}/queue/next/").json()
    offered = body["assignment"]["prediction"]
    assert offered is not None
    assert offered["model_version"] == "detector-v2"
    assert {"sentiment", "ner", "box"} <= set(offered["result"])


def test_imported_items_go_to_review_when_the_project_samples_them(run_import, people, schema):
    project = people.project
    settings_ = dict(project.settings)
    settings_["labeling"] = {**settings_.get("labeling", {}), "review_fraction": 1.0}
    project_services.project_update(project=project, actor=people.manager, settings=settings_)
    only_one_each = [t for t in tasks(10) if len(t["annotations"]) == 1]

    job = run_import(json.dumps(only_one_each).encode())

    assert job.status == "succeeded"
    items = Item.objects.filter(project=project)
    assert {i.state for i in items} == {"in_review"}
    assert set(Annotation.objects.filter(project=project).values_list("review", flat=True)) == {"pending"}
    client = APIClient()
    client.force_authenticate(people.reviewer)
    task = client.post(f"/api/projects/{project.id}/review/next/").json()
    assert task["item"] is not None and task["annotations"][0]["annotator"].startswith("imported-ls-")
