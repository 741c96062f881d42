"""Syncing a bucket source: list the prefix, create one item per new object, record the outcome."""

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from itertools import islice

from botocore.exceptions import BotoCoreError, ClientError
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from annotation import events
from core.audit import audit_record
from core.exceptions import DomainError
from core.realtime import broadcast, broadcast_on_commit, project_group
from projects.services import project_ensure_active

from ..imports import blocking, normalise
from ..imports.loader import STAGING_COLUMNS, ItemLoader
from ..models import BucketSource, Item
from ..pii.services import pii_detect_schedule
from ..workflow.services.queue import queue_order_schedule
from . import selectors as source_selectors
from .s3 import s3_client
from .services import SYNC_FAILED, SYNC_SUCCEEDED, _setting, sync_state_key

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5  # at most two progress events per second
MAX_EXTERNAL_ID = 255  # Item.external_id: the s3://bucket/key reference must fit
_LOCK_NAMESPACE = 0x42534E  # high half of the advisory-lock key: "bucket source sync"

MEDIA_TYPES = {
    "image": ("jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "avif", "heic", "heif"),
    "audio": ("wav", "mp3", "ogg", "oga", "flac", "m4a", "aac", "opus", "weba"),
    "video": ("mp4", "m4v", "webm", "mov", "mkv", "ogv"),
    "text": ("txt", "md", "csv", "tsv", "json", "jsonl"),
}  # no svg or html: a proxy serving them from Tessera's origin would run their scripts
_MEDIA_TYPE_BY_EXTENSION = {ext: kind for kind, extensions in MEDIA_TYPES.items() for ext in extensions}


@dataclass
class BucketSyncResult:
    """What one sync did. `existing`: listed objects that already are items (same s3:// reference,
    or same content by ETag); `skipped`: objects that never become items, by reason."""

    source_id: int
    status: str = "succeeded"  # or "failed"
    listed: int = 0
    created: int = 0
    existing: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(source_selectors.SKIP_REASONS, 0))
    code: str = ""
    detail: str = ""

    def as_event(self, source: BucketSource) -> dict:
        return {"project_id": source.project_id, "name": source.name, **asdict(self)}


def bucket_source_sync(*, source_id: int) -> BucketSyncResult | None:
    """List the source's prefix and create one item per new object; record the outcome.

    Streams the listing (1,000 keys a page) into ItemLoader and commits every
    ANNOTATION_BUCKET_SYNC_BATCH objects, so memory stays flat and a failed sync keeps what it
    created. Skips "folders" (keys ending in "/"), empty objects, objects over
    ANNOTATION_BUCKET_MAX_OBJECT_BYTES and extensions that are not image, audio, video or text.
    Never downloads an object: the item is {"file": key, "media_type": ...} with media_url and
    source_ref "s3://bucket/key", external_id the same reference, and a content hash from the ETag
    and size (exact-duplicate objects under two keys become one item).

    Idempotent: objects that are items already are skipped, so a re-sync creates only new ones.
    Safe to run concurrently: a PostgreSQL advisory lock makes syncs of one source take turns.
    Success sets last_synced_at and last_sync_created; failure (egress refusal, credentials,
    missing bucket, timeouts) sets last_sync_created to what was created before it and keeps
    last_synced_at. Both are audited as system and announced on the project feed
    (bucket_source.synced / bucket_source.sync_failed, after bucket_source.sync_progress events).
    Returns None when the source no longer exists.
    """
    with _sync_lock(source_id):
        source = BucketSource.objects.select_related("project").filter(pk=source_id).first()
        if source is None:
            return None
        result = BucketSyncResult(source_id=source.id)
        try:
            project_ensure_active(source.project)
            _sync_objects(source, result)
        except DomainError as error:  # EgressError included
            result.status, result.code, result.detail = "failed", error.code, error.message
        except ClientError as error:
            result.status = "failed"
            result.code, result.detail = _client_error(error, source)
        except BotoCoreError as error:
            result.status, result.code = "failed", "bucket_unreachable"
            result.detail = f"The bucket could not be read ({type(error).__name__})."
        except Exception:
            logger.exception("sync of bucket source %s failed", source.id)
            result.status, result.code = "failed", "sync_failed"
            result.detail = (
                "The sync failed unexpectedly; items created before the error are kept. It was logged."
            )
        return _sync_finish(source, result)


def _sync_objects(source: BucketSource, result: BucketSyncResult) -> None:
    client = s3_client(source, check_endpoint=True)
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=source.bucket, Prefix=source.prefix, PaginationConfig={"PageSize": 1000}
    )
    rows = _object_rows(source, pages, result)
    batch = _setting("ANNOTATION_BUCKET_SYNC_BATCH")
    # Asked before any COPY starts (no other query may run on the connection during one).
    blocked_possible = blocking.any_active(source.project_id)
    while True:
        # One transaction per batch: the listing is read while it is open, so keep batches modest.
        with (
            transaction.atomic(),
            ItemLoader(
                project_id=source.project_id,
                import_job_id=None,
                source=Item.Source.BUCKET,
                provenance_source_id=source.provenance_source_id,
            ) as loader,
        ):
            for row in islice(rows, batch):
                loader.add(row)
            if not loader.staged:
                break
            if blocked_possible:  # an erased object is not brought back
                blocked = blocking.blocked_lines(source.project_id, loader.staged_content_hashes())
                if blocked:
                    loader.drop_lines([line for line, _ in blocked])
                    result.skipped["erased_content"] += len(blocked)
            created = loader.insert()
        result.created += created
        result.existing += loader.staged - created
        _publish_progress(source, result, phase="listing")


def _object_rows(source: BucketSource, pages, result: BucketSyncResult) -> Iterator[tuple]:
    """Staging rows for the objects that may become items, page by page; counts the others."""
    max_bytes = _setting("ANNOTATION_BUCKET_MAX_OBJECT_BYTES")
    line = 0
    last_event = time.monotonic()
    for page in pages:
        for entry in page.get("Contents", ()):
            result.listed += 1
            key, size = entry["Key"], int(entry.get("Size") or 0)
            reason = _skip_reason(source, key, size, max_bytes)
            if reason:
                result.skipped[reason] += 1
                continue
            line += 1
            yield _staging_row(source, line=line, key=key, size=size, etag=str(entry.get("ETag") or ""))
        if time.monotonic() - last_event > PROGRESS_SECONDS:
            _publish_progress(source, result, phase="listing")
            last_event = time.monotonic()


def _skip_reason(source: BucketSource, key: str, size: int, max_bytes: int) -> str | None:
    if key.endswith("/"):
        return "folders"
    if size <= 0:
        return "empty"
    if size > max_bytes:
        return "too_large"
    if media_type_for_key(key) is None:
        return "unsupported"
    if normalise.check_text(key) or len(object_reference(source.bucket, key)) > MAX_EXTERNAL_ID:
        return "invalid_key"
    return None


def media_type_for_key(key: str) -> str | None:
    """image, audio, video or text, from the key's extension (any case); None for anything else."""
    name = key.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return _MEDIA_TYPE_BY_EXTENSION.get(name.rsplit(".", 1)[-1].lower())


def object_reference(bucket: str, key: str) -> str:
    """ "s3://bucket/key", the key as it is (not percent-encoded), as the AWS CLI writes it."""
    return f"s3://{bucket}/{key}"


def _staging_row(source: BucketSource, *, line: int, key: str, size: int, etag: str) -> tuple:
    reference = object_reference(source.bucket, key)
    media_type = media_type_for_key(key)
    digest = normalise.item_digest({"file": key, "media_type": media_type})
    etag = etag.strip('"')
    # The object is never downloaded: its ETag stands for its bytes. checksum: this object version
    # (reference + ETag). content_hash: the content (ETag + size), so the same bytes under two keys
    # are one item. Prefixed so they never equal the hash of an uploaded item's JSON data.
    checksum = _sha256(f"s3-object\n{reference}\n{etag}")
    content_hash = _sha256(f"s3-etag\n{etag}\n{size}") if etag else checksum
    values = {
        "line": line,
        "external_id": reference,
        "data": digest.data_json,
        "meta": "{}",
        "content_hash": content_hash,
        "checksum": checksum,
        "search_text": digest.search_text,
        "licence": "",
        "consent": Item.Consent.UNKNOWN.value,
        "synthetic": False,
        "generator": "",
        "predictions": "[]",
        "source_ref": reference,
        "media": "",  # a reference, not a stored file
        "media_url": reference,
        "media_type": media_type,
        "media_bytes": size,
        "image_hash": None,  # needs the bytes; near-duplicate detection computes it if it wants it
    }
    # By name: the loader's column list may grow; a column this module does not know stays NULL.
    return tuple(values.get(column) for column in STAGING_COLUMNS)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _publish_progress(source: BucketSource, result: BucketSyncResult, *, phase: str) -> None:
    state = {"phase": phase, "listed": result.listed, "created": result.created}
    cache.set(sync_state_key(source.id), state, timeout=3600)
    # Sent now, not on commit: the batches commit one by one while the listing goes on.
    broadcast(
        project_group(source.project_id),
        events.BUCKET_SOURCE_SYNC_PROGRESS,
        {"project_id": source.project_id, "source_id": source.id, **state},
    )


def _client_error(error: ClientError, source: BucketSource) -> tuple[str, str]:
    """A message for people from an S3 error. Status codes only: the egress guard does not keep
    error bodies, so botocore sees "403", "404", ... rather than S3's error codes."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = str(error.response.get("Error", {}).get("Code", ""))
    if status in (401, 403) or code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
        return (
            "bucket_access_denied",
            f"The bucket {source.bucket} refused the request (HTTP {status or code}). Check the access key "
            "and secret, and that they allow s3:ListBucket on the bucket and s3:GetObject on its objects.",
        )
    if status == 404 or code in {"404", "NoSuchBucket"}:
        return "bucket_not_found", f"There is no bucket named {source.bucket} at this endpoint (HTTP 404)."
    if status in (301, 400) or code in {"301", "400", "PermanentRedirect", "AuthorizationHeaderMalformed"}:
        return (
            "bucket_wrong_region",
            f"The endpoint refused the request (HTTP {status or code}); check the bucket's region.",
        )
    return "bucket_error", f"The bucket answered with an error (HTTP {status or code})."


def _sync_finish(source: BucketSource, result: BucketSyncResult) -> BucketSyncResult:
    failed = result.status == "failed"
    if result.code == "egress_too_many_redirects":
        result.detail = (
            "The endpoint answered with a redirect; check the bucket's region and the endpoint URL."
        )
    with transaction.atomic():
        update = {"last_sync_created": result.created}
        if not failed:
            update["last_synced_at"] = timezone.now()
        BucketSource.objects.filter(pk=source.pk).update(**update)
        changes = {key: value for key, value in asdict(result).items() if key not in ("source_id", "status")}
        if not failed:
            del changes["code"], changes["detail"]
        audit_record(
            actor=None,
            organisation_id=source.project.organisation_id,
            project_id=source.project_id,
            action=SYNC_FAILED if failed else SYNC_SUCCEEDED,
            target=source,
            changes=changes,
        )
        broadcast_on_commit(
            project_group(source.project_id),
            SYNC_FAILED if failed else SYNC_SUCCEEDED,
            result.as_event(source),
        )
        if result.created:
            queue_order_schedule(project=source.project)
            pii_detect_schedule(project_id=source.project_id)  # personal data: scanned in the worker
    cache.delete(sync_state_key(source.id))
    if failed:
        logger.warning("sync of bucket source %s failed: %s %s", source.id, result.code, result.detail)
    return result


@contextmanager
def _sync_lock(source_id: int) -> Iterator[None]:
    """A session-level advisory lock per source, held across the sync's batch transactions.

    Blocking on purpose: a sync requested while another runs must still see objects added since
    that one listed them. Released even on error; a lost connection releases it by itself.
    """
    if connection.vendor != "postgresql":
        yield
        return
    key = (_LOCK_NAMESPACE << 32) | source_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
