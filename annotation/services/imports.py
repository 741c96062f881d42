"""Import jobs: an upload becomes items, all or nothing by default, idempotent, in bulk."""

import csv
import hashlib
import io
import logging
import tempfile
import time

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast, broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import Project

from ..imports import formats, normalise
from ..imports.loader import ItemLoader
from ..imports.metadata import MetadataProfiler
from ..imports.records import FileError, Record, RowError
from ..models import ImportJob, MetadataField

logger = logging.getLogger(__name__)

RUN_TASK = "annotation.tasks.import_job_run_task"
MAX_EXTERNAL_ID = 255


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


@transaction.atomic
def import_job_create(
    *,
    project: Project,
    actor,
    upload,
    format: str = "",
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    defaults: dict | None = None,
) -> ImportJob:
    """Store an uploaded file and queue its import. The file is checked for size and format here;
    its records are checked by the worker (import_job_run)."""
    if project.archived_at is not None:
        raise DomainError(
            "project_archived", "This project is archived; unarchive it to import data.", status_code=409
        )
    limit = settings.ANNOTATION_IMPORT_MAX_BYTES
    if upload.size > limit:
        raise DomainError(
            "file_too_large",
            f"The file is {upload.size:,} bytes; the limit is {limit:,} bytes.",
            status_code=413,
        )
    if upload.size == 0:
        raise DomainError("empty_file", "The file is empty.")
    head = upload.read(64 * 1024)
    upload.seek(0)
    try:
        format = format or formats.detect_format(upload.name, head)
    except FileError as error:
        raise DomainError(error.code, error.message) from error
    if format not in formats.FORMATS:
        raise DomainError(
            "unknown_format", f"Unknown format {format!r}; use one of {', '.join(formats.FORMATS)}."
        )
    clean_defaults, errors = normalise.coerce_provenance(defaults or {})
    if errors:
        field, reason = errors[0]
        raise DomainError("invalid_defaults", f"{field}: {reason}")

    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    job = ImportJob(
        project=project,
        created_by=actor,
        mode=mode,
        format=format,
        original_name=upload.name[:255],
        size_bytes=upload.size,
        sha256=digest.hexdigest(),
        defaults=clean_defaults,
    )
    job.file.save(f"p{project.id}-{upload.name[-100:]}", upload, save=False)
    job.save()
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="import.created",
        target=job,
        changes={"file": job.original_name, "format": format, "mode": mode, "bytes": job.size_bytes},
    )
    outbox_enqueue(task_name=RUN_TASK, kwargs={"job_id": job.id})
    return job


class _Rejected(Exception):
    """All-or-nothing import with errors: roll back every item."""


class _ErrorReport:
    """Collects row errors into a CSV (spooled to disk when large) plus a small sample for the API."""

    def __init__(self) -> None:
        # Closed in _finish, after the report is stored.
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=1024 * 1024, mode="w+", newline="", encoding="utf-8"
        )
        self.writer = csv.writer(self.file)
        self.writer.writerow(["line", "field", "reason"])
        self.count = 0
        self.lines: set[int] = set()
        self.sample: list[dict] = []

    def add(self, line: int, field: str, reason: str) -> None:
        self.count += 1
        if len(self.lines) < 10_000_000:
            self.lines.add(line)
        self.writer.writerow([line, field, reason])
        if len(self.sample) < settings.ANNOTATION_IMPORT_ERROR_SAMPLE:
            self.sample.append({"line": line, "field": field, "reason": reason})


class _CountingReader(io.RawIOBase):
    """Counts bytes read from the stored file, for the progress bar."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        return size


def _claim(job_id: int) -> ImportJob | None:
    """Mark the job running. A job that finished is never run again (tasks are at-least-once)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("project").filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at", "updated_at"])
    return job


def _row(record: Record, job: ImportJob, report: _ErrorReport) -> tuple | None:
    """Validate one record and turn it into a staging row, or report why not."""
    if not record.data:
        report.add(record.line, "data", "the item has no data")
        return None
    for value, path in ((record.data, "data"), (record.meta, "meta"), (record.external_id, "external_id")):
        problem = normalise.find_invalid_text(value, path)
        if problem:
            report.add(record.line, *problem)
            return None
    if record.external_id is not None and len(record.external_id) > MAX_EXTERNAL_ID:
        report.add(record.line, "external_id", f"longer than {MAX_EXTERNAL_ID} characters")
        return None
    provenance, errors = normalise.coerce_provenance({**job.defaults, **record.provenance})
    if errors:
        for field, reason in errors:
            report.add(record.line, field, reason)
        return None
    digest = normalise.item_digest(record.data)
    return (
        record.line,
        record.external_id,
        digest.data_json,
        normalise.canonical_json(record.meta),
        digest.content_hash,
        digest.checksum,
        digest.search_text,
        provenance.get("licence", ""),
        provenance.get("consent", "unknown"),
        provenance.get("synthetic", False),
        provenance.get("generator", ""),
        normalise.canonical_json(record.predictions),
        f"{job.original_name}:{record.line}"[:500],
    )


def _publish_progress(job: ImportJob, *, phase: str, received: int, bytes_read: int) -> None:
    state = {
        "job_id": job.id,
        "phase": phase,
        "received": received,
        "bytes_read": bytes_read,
        "size_bytes": job.size_bytes,
    }
    cache.set(progress_key(job.id), state, timeout=3600)
    # Sent now, not on commit: the import's own transaction commits only at the end.
    broadcast(project_group(job.project_id), "import.progress", state)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Parse the stored file, validate every record and load the items in one transaction.

    All or nothing (the default): any error fails the job with the complete error report and no
    item is created. Valid-rows mode: valid records are imported, the rest reported. Records whose
    content (normalised) or external id already exists in the project are skipped and counted as
    duplicates, so importing the same file twice creates nothing the second time. Idempotent: a
    finished job is not run again; a run killed midway rolled back and runs again from the start.
    """
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    report = _ErrorReport()
    profiler = MetadataProfiler()
    received = created = staged = 0
    detail = ""
    status = ImportJob.Status.SUCCEEDED
    try:
        with transaction.atomic(), ItemLoader(project_id=job.project_id, import_job_id=job.id) as loader:
            with job.file.open("rb") as stored:
                reader = _CountingReader(stored)
                buffered = io.BufferedReader(reader, buffer_size=256 * 1024)
                every = settings.ANNOTATION_IMPORT_PROGRESS_EVERY
                last_event = time.monotonic()
                for parsed in formats.parse(
                    buffered, job.format, max_record_bytes=settings.ANNOTATION_IMPORT_MAX_RECORD_BYTES
                ):
                    received += 1
                    if isinstance(parsed, RowError):
                        report.add(parsed.line, parsed.field, parsed.reason)
                    else:
                        row = _row(parsed, job, report)
                        if row is not None:
                            loader.add(row)
                            profiler.add(parsed.meta)
                    if received % every == 0 and time.monotonic() - last_event > 0.25:
                        _publish_progress(
                            job, phase="reading", received=received, bytes_read=reader.bytes_read
                        )
                        last_event = time.monotonic()
            _publish_progress(job, phase="loading", received=received, bytes_read=job.size_bytes)
            duplicates = loader.duplicate_external_ids()
            for external_id, line, first in duplicates:
                report.add(
                    line, "external_id", f"external_id {external_id!r} is already used on line {first}"
                )
            if report.count and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
                raise _Rejected()
            if duplicates:
                loader.drop_lines([line for _, line, _ in duplicates])
            staged = loader.staged
            created = loader.insert()
            _record_metadata_types(job.project_id, profiler)
    except _Rejected:
        status = ImportJob.Status.FAILED
        detail = (
            f"{report.count:,} problem(s) found; nothing was imported. "
            "Fix them and upload again, or import the valid rows."
        )
        created = staged = 0
    except FileError as error:
        status = ImportJob.Status.FAILED
        detail = error.message
        created = staged = 0
    except Exception:
        logger.exception("import job %s failed", job.id)
        status = ImportJob.Status.FAILED
        detail = "The import failed unexpectedly; nothing was imported. The error was logged."
        created = staged = 0
    return _finish(
        job, status=status, detail=detail, received=received, created=created, staged=staged, report=report
    )


def _record_metadata_types(project_id: int, profiler: MetadataProfiler) -> None:
    """Create MetadataField rows for keys seen for the first time. A type a manager set is kept."""
    existing = set(MetadataField.objects.filter(project_id=project_id).values_list("name", flat=True))
    MetadataField.objects.bulk_create(
        [
            MetadataField(
                project_id=project_id, name=name[:100], type=kind, categories=categories, inferred=True
            )
            for name, (kind, categories) in profiler.types().items()
            if name not in existing
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def _finish(job, *, status, detail, received, created, staged, report) -> ImportJob:
    job = ImportJob.objects.select_for_update().select_related("project").get(pk=job.pk)
    job.status = status
    job.detail = detail[:500]
    job.received = received
    job.created = created
    job.duplicates = max(staged - created, 0)
    job.rejected = len(report.lines)
    job.error_count = report.count
    job.error_sample = report.sample
    job.finished_at = timezone.now()
    if report.count:
        report.file.seek(0)
        job.error_report.save(f"import-{job.id}-errors.csv", File(report.file), save=False)
    job.save()
    report.file.close()
    cache.delete(progress_key(job.id))
    project = job.project
    audit_record(
        actor=None,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action=f"import.{status}",
        target=job,
        changes={
            "received": received,
            "created": created,
            "duplicates": job.duplicates,
            "rejected": job.rejected,
        },
    )
    broadcast_on_commit(project_group(project.id), "import.finished", import_job_summary(job))
    return job


def import_job_summary(job: ImportJob) -> dict:
    return {
        "project_id": job.project_id,
        "job_id": job.id,
        "status": job.status,
        "received": job.received,
        "created": job.created,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
        "detail": job.detail,
    }
