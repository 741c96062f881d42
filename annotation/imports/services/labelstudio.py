"""Label Studio tasks with their annotations and predictions: converted, validated, stored.

Used by the import job (annotation.imports.services.jobs) for the `labelstudio` format, inside the
import's transaction, so the job's mode holds for annotations too: all or nothing by default, or
the valid tasks (a task whose annotations or predictions cannot all be converted is rejected whole,
with one reason per problem in the error report).

- Each distinct `completed_by` becomes a pseudonymous imported annotator of the project
  (ImportedAnnotator): an inactive account with an unusable password, a username that says it was
  imported (`imported-ls-p<project>-u<id>`), a project membership as annotator. The Label Studio
  email is never stored.
- An annotation becomes an Assignment (submitted) + Annotation + its first AnnotationRevision,
  validated exactly like a submission (labeling.validate_result); `created_at` and `lead_time` are
  kept. A cancelled annotation (`was_cancelled`) becomes a skipped assignment.
- The item's counters follow (done, target = max(overlap, done): the check constraint
  item_slots_within_target holds), and an item with all its slots done goes to review (sampled by the
  project's review fraction) or completed, like after a submission. Quality is scheduled once.
- Predictions become Prediction rows (model `labelstudio`, the task's `model_version`, `score`), which
  the queue offers as pre-annotations (queue.prediction_for).
"""

import hashlib
import json
import re
import tempfile
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone

from core.audit import audit_record
from core.exceptions import DomainError
from projects.labeling import labeling_settings
from projects.models import LabelSchemaVersion, ProjectMembership
from quality.scheduling import quality_schedule

from ...models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    ImportedAnnotator,
    ImportJob,
    Item,
    Prediction,
)
from ...workflow import states
from ...workflow.services.labeling import validate_result
from ..labelstudio import convert as ls
from ..records import Record

CANCELLED_REASON = "cancelled in Label Studio (imported)"
STORE_BATCH = 1000  # tasks stored per set of statements
_USERNAME_SAFE = re.compile(r"^[0-9A-Za-z]{1,40}$")


def _zero_counts() -> dict:
    return {
        "annotations": {"received": 0, "imported": 0, "cancelled": 0, "rejected": 0, "duplicates": 0},
        "predictions": {"received": 0, "imported": 0, "rejected": 0, "duplicates": 0},
        "annotators": 0,
    }


class LabelStudioLabels:
    """Per import job: converts and validates each task's labels while the file is read, keeps the
    converted ones on disk (memory stays flat), and stores them once the items exist."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.project = job.project
        self.schema = LabelSchemaVersion.objects.filter(project=self.project).order_by("-version").first()
        self.counts = _zero_counts()
        # One JSON line per task with labels: [line, annotations, predictions]. Closed in store()/close().
        self._kept = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024, mode="w+", encoding="utf-8")  # noqa: SIM115
        self._lines: dict[int, tuple[int, int]] = {}  # line -> (annotations, predictions) kept

    def check(self, record: Record, add_error) -> list | None:
        """Convert and validate `record`'s labels; report every problem with `add_error(line, field,
        reason)` and return None (the task is rejected), or what keep() stores. May add the image
        size the regions give to the record's data."""
        self.counts["annotations"]["received"] += len(record.annotations)
        self.counts["predictions"]["received"] += len(record.predictions)
        definition = self.schema.definition if self.schema is not None else None
        converted = ls.convert_task(record.annotations, record.predictions, definition, record.data)
        problems = list(converted.problems)
        if converted.image_size and not ("width" in record.data or "height" in record.data):
            # Kept with the item so the labeling page, validation and releases know the pixel size.
            record.data = {**record.data, "width": converted.image_size[0], "height": converted.image_size[1]}
        item = Item(data=record.data, meta=record.meta)
        for what, entries in (("annotations", converted.annotations), ("predictions", converted.predictions)):
            for entry in entries:
                if getattr(entry, "cancelled", False):
                    continue
                try:
                    validate_result(self.schema, item, entry.result)
                except DomainError as error:
                    found = error.extra.get("errors") or [{"path": "", "message": error.message}]
                    for issue in found:
                        path = f"{what}[{entry.index}].result" + (
                            f".{issue['path']}" if issue["path"] else ""
                        )
                        problems.append((path, issue["message"]))
        if problems:
            for where, reason in problems:
                add_error(record.line, where, reason)
            self.reject(record)
            return None
        return [
            record.line,
            [[a.annotator, a.cancelled, a.result, a.lead_ms, a.created_at] for a in converted.annotations],
            [[p.model_version, p.score, p.result] for p in converted.predictions],
        ]

    def reject(self, record: Record) -> None:
        """The task is not imported: none of its annotations and predictions are."""
        self.counts["annotations"]["rejected"] += len(record.annotations)
        self.counts["predictions"]["rejected"] += len(record.predictions)

    def keep(self, pending: list) -> None:
        self._kept.write(json.dumps(pending, ensure_ascii=False) + "\n")
        self._lines[pending[0]] = (len(pending[1]), len(pending[2]))

    def reject_lines(self, lines) -> None:
        """Tasks that were valid alone but dropped later (an external id used twice)."""
        for line in lines:
            annotations, predictions = self._lines.pop(line, (0, 0))
            self.counts["annotations"]["rejected"] += annotations
            self.counts["predictions"]["rejected"] += predictions

    def close(self) -> None:
        self._kept.close()

    def store(self, created: dict[int, int], actor) -> None:
        """Create annotations and predictions for the tasks whose items were created (`created`:
        line -> item id). Tasks whose item existed already are counted as duplicates. Set-based: a
        few statements per batch of tasks, whatever the number of annotations."""
        self._kept.seek(0)
        self._annotators: dict[str, object] = {}
        batch: list[tuple[int, list, list]] = []
        for raw in self._kept:
            line, annotations, task_predictions = json.loads(raw)
            if line not in self._lines:
                continue
            item_id = created.get(line)
            if item_id is None:
                self.counts["annotations"]["duplicates"] += len(annotations)
                self.counts["predictions"]["duplicates"] += len(task_predictions)
                continue
            batch.append((item_id, annotations, task_predictions))
            if len(batch) >= STORE_BATCH:
                self._store_batch(batch, actor)
                batch = []
        if batch:
            self._store_batch(batch, actor)
        self._kept.close()
        self.counts["annotators"] = len(self._annotators)
        if self.counts["annotations"]["imported"] or self.counts["predictions"]["imported"]:
            audit_record(
                actor=actor,
                organisation_id=self.project.organisation_id,
                project_id=self.project.id,
                action="labelstudio.labels_imported",
                target=self.job,
                changes=self.counts,
            )
        if self.counts["annotations"]["imported"]:
            quality_schedule(project_id=self.project.id)  # agreement, consensus: after commit

    def _store_batch(self, batch: list[tuple[int, list, list]], actor) -> None:
        now = timezone.now()
        items = {
            item.pk: item
            for item in Item.objects.select_for_update(of=("self",))
            .filter(pk__in=[item_id for item_id, _, _ in batch])
            .order_by("pk")
        }
        for _, annotations, _ in batch:
            for key, *_ in annotations:
                if key not in self._annotators:
                    self._annotators[key] = self._annotator(key)
        assignments: list[Assignment] = []
        pending: list[tuple[Assignment, str, dict, int, str | None]] = []
        predictions: list[Prediction] = []
        done: dict[int, int] = {}
        for item_id, annotations, task_predictions in batch:
            for key, cancelled, result, lead_ms, created_at in annotations:
                at = _parse_time(created_at) or now
                assignment = Assignment(
                    project=self.project,
                    item_id=item_id,
                    annotator=self._annotators[key],
                    status=Assignment.Status.SKIPPED if cancelled else Assignment.Status.SUBMITTED,
                    leased_at=at - timedelta(milliseconds=lead_ms),
                    submitted_at=None if cancelled else at,
                    skip_reason=CANCELLED_REASON if cancelled else "",
                )
                assignments.append(assignment)
                if cancelled:
                    self.counts["annotations"]["cancelled"] += 1
                else:
                    pending.append((assignment, key, result, lead_ms, created_at))
                    done[item_id] = done.get(item_id, 0) + 1
            for version, score, result in task_predictions:
                predictions.append(
                    Prediction(
                        project=self.project,
                        item_id=item_id,
                        model_name=ls.MODEL_NAME,
                        model_version=version,
                        score=score,
                        result=result,
                        schema_version=self.schema,
                    )
                )
        Assignment.objects.bulk_create(assignments)
        annotations = Annotation.objects.bulk_create(
            [
                Annotation(
                    project=self.project,
                    item_id=assignment.item_id,
                    assignment=assignment,
                    annotator=self._annotators[key],
                    result=result,
                    revision=1,
                    schema_version=self.schema,
                    lead_ms=lead_ms,
                )
                for assignment, key, result, lead_ms, _ in pending
            ]
        )
        AnnotationRevision.objects.bulk_create(
            [
                AnnotationRevision(
                    annotation=annotation,
                    number=1,
                    kind=AnnotationRevision.Kind.SUBMIT,
                    author=annotation.annotator,
                    result=annotation.result,
                    schema_version=self.schema,
                    request_hash=hashlib.sha256(
                        f"labelstudio-import:{self.job.id}:{annotation.assignment_id}".encode()
                    ).hexdigest(),
                )
                for annotation in annotations
            ]
        )
        # When each was made in Label Studio (updated_at stays now: quality's incremental run reads it).
        dated = {
            annotation.pk: _parse_time(entry[4])
            for annotation, entry in zip(annotations, pending, strict=True)
            if entry[4]
        }
        if dated:
            whens = [When(pk=pk, then=Value(at)) for pk, at in dated.items()]
            Annotation.objects.filter(pk__in=list(dated)).update(
                created_at=Case(*whens, output_field=DateTimeField())
            )
        Prediction.objects.bulk_create(predictions)
        self.counts["annotations"]["imported"] += len(annotations)
        self.counts["predictions"]["imported"] += len(predictions)
        self._close(items, done, now, actor)

    def _close(self, items: dict[int, Item], done: dict[int, int], now, actor) -> None:
        """Counters and states: target = max(overlap, done) (item_slots_within_target holds); an item
        whose slots are all done goes to review (sampled by the review fraction) or is completed, as
        after a submission."""
        if not done:
            return
        fraction = labeling_settings(self.project).review_fraction
        moved: dict[str, list[int]] = {states.IN_REVIEW: [], states.COMPLETED: []}
        for item_id, count in done.items():
            item = items[item_id]
            item.done += count
            item.target = max(item.target, item.done)
            if item.state == Item.State.OPEN and item.done >= item.target:
                sampled = states.sampled_for_review(item.pk, fraction)
                moved[states.IN_REVIEW if sampled else states.COMPLETED].append(item.pk)
        Item.objects.bulk_update([items[i] for i in done], ["done", "target"])
        for state, ids in moved.items():
            if not ids:
                continue
            states.ensure_transition(states.OPEN, state)
            Item.objects.filter(pk__in=ids).update(state=state, state_changed_at=now)
            if state == states.IN_REVIEW:
                Annotation.objects.filter(
                    item_id__in=ids, is_gold=False, review=Annotation.Review.NOT_REQUIRED
                ).update(review=Annotation.Review.PENDING)
            audit_record(
                actor=actor,
                organisation_id=self.project.organisation_id,
                project_id=self.project.id,
                action="item.state_changed",
                target=self.job,
                changes={"state": ["open", state], "why": "imported from Label Studio", "items": ids[:1000]},
            )

    def _annotator(self, key: str):
        """The project's imported annotator for Label Studio user `key`, created on first sight."""
        found = (
            ImportedAnnotator.objects.select_related("user")
            .filter(project=self.project, source="labelstudio", external_ref=key)
            .first()
        )
        if found is not None:
            user = found.user
        else:
            suffix = (
                f"u{key}"
                if _USERNAME_SAFE.match(key)
                else "h" + hashlib.sha256(key.encode()).hexdigest()[:12]
            )
            user = get_user_model()(username=f"imported-ls-p{self.project.id}-{suffix}", is_active=False)
            user.set_unusable_password()
            user.save()
            ImportedAnnotator.objects.create(
                project=self.project, user=user, source="labelstudio", external_ref=key, import_job=self.job
            )
        ProjectMembership.objects.get_or_create(
            project=self.project, user=user, defaults={"role": ProjectMembership.Role.ANNOTATOR}
        )
        return user


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


def created_lines(project_id: int, job_id: int) -> dict[int, int]:
    """line -> id of the item a staged record created (the first record of each content hash)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT f.line, i.id FROM (
                SELECT min(line) AS line, content_hash FROM import_staging GROUP BY content_hash
            ) f JOIN annotation_item i ON i.content_hash = f.content_hash
            WHERE i.project_id = %s AND i.import_job_id = %s
            """,
            [project_id, job_id],
        )
        return dict(cursor.fetchall())
