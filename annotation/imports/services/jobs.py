"""Import jobs: an upload becomes items, all or nothing by default, idempotent, in bulk."""

import hashlib
import io
import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from annotation import events
from core import egress, task_names
from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast, broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import Project

from ...items.metadata_indexes import metadata_indexes_schedule
from ...items.search_index import search_index_suspend
from ...models import ImportJob, MetadataField
from ...neardup.services import near_duplicates_detect_schedule
from ...pii.services import pii_detect_schedule
from ...provenance import services as provenance_services
from ...workflow.services.queue import queue_order_schedule
from .. import archive, blocking, formats, media, normalise
from ..loader import NO_MEDIA, ItemLoader, loading_transaction
from ..metadata import MetadataProfiler
from ..records import FileError, Record, RowError
from .labelstudio import LabelStudioLabels, created_lines
from .media_store import _MediaReferences, _MediaStore
from .reports import _CountingReader, _ErrorReport

logger = logging.getLogger(__name__)

RUN_TASK = task_names.IMPORT_JOB_RUN
IMPORT_FORMATS = (*formats.FORMATS, *media.MEDIA_FORMATS)
_TOO_LARGE_CODES = frozenset({"media_too_large", "archive_too_large", "archive_member_too_large"})


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
    provenance_source_id: int | None = None,
) -> ImportJob:
    """Store an uploaded file and queue its import. The file is checked for size and format here;
    its records are checked by the worker (import_job_run).

    Media files and ZIP archives (format "media" / "zip", detected by extension and magic bytes) get
    the checks that need no decoding here, so a disguised file, an SVG, an image with too many
    pixels or an archive with unsafe paths or bomb-like sizes is refused before anything is stored.

    `provenance_source_id`: the project's provenance source every item of the import is attributed to
    (#18; annotation/provenance/); another project's or a missing one is 400 `invalid_provenance_source`.
    """
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
        format = format or media.detect_format(upload.name, head) or formats.detect_format(upload.name, head)
    except media.MediaError as error:
        raise DomainError(error.code, error.message) from error
    except FileError as error:
        message = error.message
        if error.code == "unknown_format":
            message = media.unknown_format_message(upload.name)
        raise DomainError(error.code, message) from error
    if format not in IMPORT_FORMATS:
        raise DomainError(
            "unknown_format", f"Unknown format {format!r}; use one of {', '.join(IMPORT_FORMATS)}."
        )
    _check_media_upload(format, upload)
    provenance_source = provenance_services.provenance_source_for_project(
        project=project, source_id=provenance_source_id
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
        provenance_source=provenance_source,
    )
    job.file.save(f"p{project.id}-{upload.name[-100:]}", upload, save=False)
    job.save()
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="import.created",
        target=job,
        changes={
            "file": job.original_name,
            "format": format,
            "mode": mode,
            "bytes": job.size_bytes,
            **({"provenance_source": provenance_source_id} if provenance_source_id is not None else {}),
        },
    )
    outbox_enqueue(task_name=RUN_TASK, kwargs={"job_id": job.id})
    return job


def _check_media_upload(format: str, upload) -> None:
    try:
        if format == "media":
            media.check_upload(upload, upload.name, _media_limits())
        elif format == "zip":
            archive.Archive(upload, _archive_limits()).close()
    except (media.MediaError, FileError) as error:
        status_code = 413 if error.code in _TOO_LARGE_CODES else None
        raise DomainError(error.code, error.message, status_code=status_code) from error
    finally:
        upload.seek(0)


def _media_limits() -> media.MediaLimits:
    return media.MediaLimits(
        max_bytes=settings.ANNOTATION_MEDIA_MAX_BYTES,
        max_image_pixels=settings.ANNOTATION_MEDIA_MAX_IMAGE_PIXELS,
        max_text_bytes=settings.ANNOTATION_IMPORT_MAX_RECORD_BYTES,
    )


def _archive_limits() -> archive.ArchiveLimits:
    return archive.ArchiveLimits(
        max_members=settings.ANNOTATION_ZIP_MAX_MEMBERS,
        max_total_bytes=settings.ANNOTATION_ZIP_MAX_TOTAL_BYTES,
        max_member_bytes=settings.ANNOTATION_MEDIA_MAX_BYTES,
        max_ratio=settings.ANNOTATION_ZIP_MAX_RATIO,
    )


class _Rejected(Exception):
    """All-or-nothing import with errors: roll back every item."""


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


def _row(
    record: Record,
    job: ImportJob,
    report: _ErrorReport,
    references: "_MediaReferences",
    labels: LabelStudioLabels | None = None,
) -> tuple | None:
    """Validate one record and turn it into a staging row, or report why not. A Label Studio task's
    annotations and predictions are converted and validated first (`labels`); they are kept only if
    the row is."""
    if labels is None or not (record.annotations or record.predictions):
        return _item_row(record, job, report, references)
    pending = labels.check(record, report.add)
    if pending is None:
        return None
    row = _item_row(record, job, report, references)
    if row is None:
        labels.reject(record)
    else:
        labels.keep(pending)
    return row


def _item_row(
    record: Record, job: ImportJob, report: _ErrorReport, references: "_MediaReferences"
) -> tuple | None:
    if not record.data:
        report.add(record.line, "data", "the item has no data")
        return None
    # The parser already bounds external ids; text that PostgreSQL jsonb cannot store is caught here.
    checked = [(record.data, "data"), (record.meta, "meta"), (record.external_id, "external_id")]
    if record.predictions:
        checked.append((record.predictions, "predictions"))
    if record.annotations:
        checked.append((record.annotations, "annotations"))
    for value, path in checked:
        problem = normalise.find_invalid_text(value, path)
        if problem:
            report.add(record.line, *problem)
            return None
    if record.provenance:
        provenance, errors = normalise.coerce_provenance({**job.defaults, **record.provenance})
        if errors:
            for field, reason in errors:
                report.add(record.line, field, reason)
            return None
    else:
        provenance = job.defaults  # cleaned once, when the job was created
    digest = normalise.item_digest(record.data)
    content_hash, checksum = digest.content_hash, digest.checksum
    source_ref = f"{job.original_name}:{record.line}"
    media_columns = NO_MEDIA
    data = record.data
    if record.media is not None:  # a stored file: its bytes are the item's identity
        stored = record.media
        content_hash = checksum = stored.sha256
        source_ref = stored.source_ref
        media_columns = (stored.name, "", stored.media_type, stored.size, stored.image_hash)
    elif "image" in data or "audio" in data or "video" in data:
        media_columns = references.columns(record, report)
        if media_columns is None:
            return None
    return (
        record.line,
        record.external_id,
        digest.data_json,
        normalise.canonical_json(record.meta),
        content_hash,
        checksum,
        digest.search_text,
        provenance.get("licence", ""),
        provenance.get("consent", "unknown"),
        provenance.get("synthetic", False),
        provenance.get("generator", ""),
        normalise.canonical_json(record.predictions),
        source_ref[:500],
        *media_columns,
    )


def _records(job: ImportJob, stored, reader: "_CountingReader", store: _MediaStore | None) -> Iterator:
    """Records and row errors of the stored upload, whatever its format."""
    if job.format == "media":
        return _media_file_records(job, stored)
    if job.format == "zip":
        assert store is not None
        return _archive_records(job, stored, store)
    buffered = io.BufferedReader(reader, buffer_size=256 * 1024)
    return formats.parse(buffered, job.format, max_record_bytes=settings.ANNOTATION_IMPORT_MAX_RECORD_BYTES)


def _media_file_records(job: ImportJob, stored) -> Iterator[Record | RowError]:
    try:
        yield media.file_record(stored, job.original_name, stored_name=job.file.name, limits=_media_limits())
    except media.MediaError as error:
        yield RowError(1, "file", error.message)


def _archive_records(job: ImportJob, stored, store: _MediaStore) -> Iterator[Record | RowError]:
    zip_archive = archive.Archive(stored, _archive_limits())
    try:
        yield from archive.read_records(
            zip_archive,
            archive_name=job.original_name,
            store=store.save,
            limits=_media_limits(),
            max_record_bytes=settings.ANNOTATION_IMPORT_MAX_RECORD_BYTES,
        )
    finally:
        zip_archive.close()


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
    broadcast(project_group(job.project_id), events.IMPORT_PROGRESS, state)


def import_job_run(*, job_id: int, resolver: egress.Resolver | None = None) -> ImportJob | None:
    """Parse the stored file, validate every record and load the items in one transaction.

    All or nothing (the default): any error fails the job with the complete error report and no
    item is created. Valid-rows mode: valid records are imported, the rest reported. Records whose
    content (normalised) or external id already exists in the project are skipped and counted as
    duplicates, so importing the same file twice creates nothing the second time. Idempotent: a
    finished job is not run again; a run killed midway rolled back and runs again from the start.

    Media: a ZIP's files are stored as they are extracted and deleted again when the import fails
    (or their item turns out to be a duplicate); a media URL in a record is checked with the egress
    guard (`resolver` resolves host names for it; tests pass a fake one).
    """
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    report = _ErrorReport()
    profiler = MetadataProfiler()
    references = _MediaReferences(resolver)
    store = _MediaStore(job) if job.format == "zip" else None
    if store is not None:
        store.remove_leftovers()
    labels = LabelStudioLabels(job) if job.format == "labelstudio" else None
    received = created = staged = 0
    detail = ""
    status = ImportJob.Status.SUCCEEDED
    copy = job.format not in media.MEDIA_FORMATS  # media imports query while they stage
    rebuild_search_index = _suspend_search_index(job)
    try:
        with (
            loading_transaction(),
            ItemLoader(
                project_id=job.project_id,
                import_job_id=job.id,
                copy=copy,
                provenance_source_id=job.provenance_source_id,
            ) as loader,
        ):
            with job.file.open("rb") as stored:
                reader = _CountingReader(stored)
                every = settings.ANNOTATION_IMPORT_PROGRESS_EVERY
                last_event = time.monotonic()
                for parsed in _records(job, stored, reader, store):
                    received += 1
                    if isinstance(parsed, RowError):
                        report.add(parsed.line, parsed.field, parsed.reason)
                    else:
                        row = _row(parsed, job, report, references, labels)
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
                if labels is not None:
                    labels.reject_lines([line for _, line, _ in duplicates])
            if blocking.any_active(job.project_id):  # e.g. erased content (docs/GOVERNANCE.md#erasure)
                blocked = blocking.blocked_lines(job.project_id, loader.staged_content_hashes())
                for line, blocker in blocked:
                    report.add(line, "data", f"{blocker.code}: {blocker.reason}")
                if blocked:
                    loader.drop_lines([line for line, _ in blocked])
                    if labels is not None:
                        labels.reject_lines([line for line, _ in blocked])
            staged = loader.staged
            loader.drop_repeated_content()  # SQLite: before the write lock is taken, not inside it
            with transaction.atomic():  # SQLite: the only write transaction, as short as the insert
                created = loader.insert()
                if labels is not None:
                    labels.store(created_lines(job.project_id, job.id), job.created_by)
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
    if store is not None:
        store.discard(keep_used=status == ImportJob.Status.SUCCEEDED)
    label_counts = {}
    if labels is not None:
        labels.close()
        label_counts = labels.counts
        if status != ImportJob.Status.SUCCEEDED:  # rolled back: nothing of it was imported
            label_counts = _nothing_imported(label_counts)
    return _finish(
        job,
        status=status,
        detail=detail,
        received=received,
        created=created,
        staged=staged,
        report=report,
        label_counts=label_counts,
        rebuild_search_index=rebuild_search_index,
    )


def _suspend_search_index(job: ImportJob) -> bool:
    """A big file into a project with the trigram search index: drop the index before the load (its
    row-by-row maintenance would triple the import's time) and have _finish schedule its rebuild.
    Meanwhile a search scans (same results, slower). True when the rebuild must be scheduled."""
    if (
        not settings.ANNOTATION_SEARCH_INDEX
        or job.size_bytes < settings.ANNOTATION_IMPORT_SEARCH_INDEX_DROP_BYTES
    ):
        return False
    return search_index_suspend(project_id=job.project_id)


def _nothing_imported(counts: dict) -> dict:
    """After a rollback every annotation and prediction that was not rejected is counted as not imported."""
    out: dict = {"annotators": 0}
    for kind in ("annotations", "predictions"):
        found = counts[kind]
        out[kind] = {
            **{key: 0 for key in found},
            "received": found["received"],
            "rejected": found["rejected"],
            "not_imported": found["received"] - found["rejected"],
        }
    return out


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
def _finish(
    job, *, status, detail, received, created, staged, report, label_counts=None, rebuild_search_index=False
) -> ImportJob:
    job = ImportJob.objects.select_for_update().select_related("project").get(pk=job.pk)
    job.status = status
    job.detail = detail[:500]
    job.received = received
    job.created = created
    job.duplicates = max(staged - created, 0)
    job.rejected = len(report.lines)
    job.error_count = report.count
    job.error_sample = report.sample
    job.label_counts = label_counts or {}
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
            **({"labels": job.label_counts} if job.label_counts else {}),
        },
    )
    broadcast_on_commit(project_group(project.id), events.IMPORT_FINISHED, import_job_summary(job))
    if status == ImportJob.Status.SUCCEEDED and created and settings.ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT:
        near_duplicates_detect_schedule(project_id=project.id)  # through the outbox, after commit
    if status == ImportJob.Status.SUCCEEDED and created:
        queue_order_schedule(project=project, import_job_id=job.id)
        if settings.ANNOTATION_PII_AFTER_IMPORT:
            pii_detect_schedule(project_id=project.id)  # personal data: scanned in the worker, after commit
    if (status == ImportJob.Status.SUCCEEDED and created) or rebuild_search_index:
        # Built after the load, off the import's path; also when the search index was dropped for a
        # load that then failed or created nothing (it is rebuilt all the same).
        metadata_indexes_schedule(project_id=project.id)
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
        "label_counts": job.label_counts,
        "detail": job.detail,
    }
