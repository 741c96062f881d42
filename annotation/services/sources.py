"""Bucket sources: an S3 (or S3-compatible) bucket prefix whose new objects become items on each sync.

- bucket_source_create / bucket_source_update / bucket_source_delete: managers; validated; audited.
  The secret access key is stored but never echoed: not in audit rows, events or API responses.
- bucket_source_sync_request queues bucket_source_sync (outbox, after commit).
- bucket_source_sync lists the prefix page by page and creates one item per new object in bulk.
- bucket_object_signed_url gives the browser a short-lived presigned GET URL for an s3:// item.

Every request to a bucket goes through the egress guard. boto3 builds and signs each request; a
`before-send` hook then sends it with core.egress.stream() instead of boto3's own connection
pool, so the host is resolved once, every address is checked, the socket is pinned to the
checked address (no DNS rebinding) and the size and time limits apply. See docs/SOURCES.md.
"""

import hashlib
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from itertools import islice
from urllib.parse import urlsplit

import boto3
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from core import egress
from core.audit import audit_record, diff_fields
from core.exceptions import DomainError
from core.realtime import broadcast, broadcast_on_commit, project_group
from core.services import outbox_enqueue
from projects.models import Project
from projects.services import project_ensure_active

from .. import task_names
from ..imports import normalise
from ..imports.loader import STAGING_COLUMNS, ItemLoader
from ..models import BucketSource, Item
from ..selectors import sources as source_selectors
from .imports import queue_order_schedule

logger = logging.getLogger(__name__)

SYNC_TASK = task_names.BUCKET_SOURCE_SYNC

# Defaults of the ANNOTATION_BUCKET_* settings (config/settings/base.py may override them).
_SETTING_DEFAULTS = {
    "ANNOTATION_BUCKET_ALLOW_HTTP": False,  # http:// endpoints, for a local/dev MinIO only
    "ANNOTATION_BUCKET_MAX_OBJECT_BYTES": 500 * 1024**2,  # bytes; larger objects are skipped
    "ANNOTATION_BUCKET_SYNC_BATCH": 10_000,  # objects staged and committed per transaction
}
PROGRESS_SECONDS = 0.5  # at most two progress events per second
SIGNED_URL_MAX_SECONDS = 3600
MAX_EXTERNAL_ID = 255  # Item.external_id: the s3://bucket/key reference must fit
_LOCK_NAMESPACE = 0x42534E  # high half of the advisory-lock key: "bucket source sync"

MEDIA_TYPES = {
    "image": ("jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "avif", "heic", "heif"),
    "audio": ("wav", "mp3", "ogg", "oga", "flac", "m4a", "aac", "opus", "weba"),
    "video": ("mp4", "m4v", "webm", "mov", "mkv", "ogv"),
    "text": ("txt", "md", "csv", "tsv", "json", "jsonl"),
}  # no svg or html: a proxy serving them from Tessera's origin would run their scripts
_MEDIA_TYPE_BY_EXTENSION = {ext: kind for kind, extensions in MEDIA_TYPES.items() for ext in extensions}

SYNC_SUCCEEDED = source_selectors.SYNC_SUCCEEDED
SYNC_FAILED = source_selectors.SYNC_FAILED

# S3 general purpose bucket naming rules.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_SHAPED = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_REGION = re.compile(r"^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CREDENTIAL = re.compile(r"^[\x21-\x7e]*$")  # printable ASCII, no spaces

_EDITABLE = ("name", "bucket", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key")
_AUDITED = ("name", "bucket", "prefix", "endpoint_url", "region", "access_key_id")  # never the secret


def _setting(name: str):
    return getattr(settings, name, _SETTING_DEFAULTS[name])


def sync_state_key(source_id: int) -> str:
    return f"bucket-sync:{source_id}"


# --- Create, update, delete -------------------------------------------------------------------------


@transaction.atomic
def bucket_source_create(
    *,
    project: Project,
    actor,
    name: str,
    bucket: str,
    prefix: str = "",
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
) -> BucketSource:
    """Add a bucket prefix to an active project. Nothing is listed yet: call bucket_source_sync_request.

    Validates the bucket name (S3 rules), the prefix, the region and the endpoint URL (https, or http
    when ANNOTATION_BUCKET_ALLOW_HTTP; checked by core.egress.check_url, so private and loopback
    endpoints need CORE_EGRESS_ALLOWED_NETWORKS). Credentials come as a pair, or not at all for a
    public bucket (requests are then unsigned: the server's own AWS credentials are never used).
    Audited without the secret.
    """
    project_ensure_active(project)
    values = _clean(
        {
            "name": name,
            "bucket": bucket,
            "prefix": prefix,
            "endpoint_url": endpoint_url,
            "region": region,
            "access_key_id": access_key_id,
            "secret_access_key": secret_access_key,
        }
    )
    _check_name_free(project, values["name"])
    source = BucketSource(project=project, created_by=actor, **values)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError as error:  # a concurrent create with the same name
        raise _name_taken(values["name"]) from error
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="bucket_source.created",
        target=source,
        changes={**{key: values[key] for key in _AUDITED}, "has_secret": bool(source.secret_access_key)},
    )
    return source


@transaction.atomic
def bucket_source_update(*, source: BucketSource, actor, **fields) -> BucketSource:
    """Change some of name, bucket, prefix, endpoint_url, region, access_key_id, secret_access_key.

    Fields not given keep their value; an omitted secret keeps the stored one, except when the
    endpoint changes: then the secret must be given again, so stored credentials are never sent to
    a new server without the person who knows them. Clear both keys to make the source anonymous.
    No-op changes write nothing. Audited as {"field": [old, new]}, the secret only as "changed".
    """
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise DomainError("unknown_field", f"Cannot change: {', '.join(sorted(unknown))}")
    source = BucketSource.objects.select_for_update().select_related("project").get(pk=source.pk)
    project_ensure_active(source.project)
    current = {key: getattr(source, key) for key in _EDITABLE}
    values = _clean({**current, **fields})
    endpoint_moved = values["endpoint_url"] != source.endpoint_url
    if endpoint_moved and values["access_key_id"] and "secret_access_key" not in fields:
        raise DomainError(
            "secret_required",
            "Enter the secret access key again to use these credentials with a new endpoint.",
        )
    if values["name"] != source.name:
        _check_name_free(source.project, values["name"], exclude=source.pk)
    changes = diff_fields(source, values)
    if not changes:
        return source
    for key in changes:
        setattr(source, key, values[key])
    try:
        with transaction.atomic():
            source.save(update_fields=[*changes, "updated_at"])
    except IntegrityError as error:
        raise _name_taken(values["name"]) from error
    audited = {key: value for key, value in changes.items() if key != "secret_access_key"}
    if "secret_access_key" in changes:
        audited["secret_access_key"] = "changed"  # noqa: S105 - a marker, never the value
    audit_record(
        actor=actor,
        organisation_id=source.project.organisation_id,
        project_id=source.project_id,
        action="bucket_source.updated",
        target=source,
        changes=audited,
    )
    return source


@transaction.atomic
def bucket_source_delete(*, source: BucketSource, actor) -> None:
    """Remove a source. Its items stay; their s3:// media can no longer be signed until a source for
    that bucket and prefix is added again. A sync already running finishes its current page."""
    source = BucketSource.objects.select_for_update().select_related("project").get(pk=source.pk)
    project_ensure_active(source.project)
    audit_record(
        actor=actor,
        organisation_id=source.project.organisation_id,
        project_id=source.project_id,
        action="bucket_source.deleted",
        target=source,
        changes={"name": source.name, "bucket": source.bucket, "prefix": source.prefix},
    )
    source.delete()


def _name_taken(name: str) -> DomainError:
    return DomainError("name_taken", f"This project already has a source named {name!r}.", status_code=409)


def _check_name_free(project: Project, name: str, exclude: int | None = None) -> None:
    clash = BucketSource.objects.filter(project=project, name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise _name_taken(name)


def _clean(values: dict) -> dict:
    """Every editable field, validated and normalised (stripped where spaces cannot be meant)."""
    name = str(values["name"]).strip()
    if not name or len(name) > 100:
        raise DomainError("invalid_name", "A source needs a name of 1 to 100 characters.")
    credentials = {key: str(values[key]).strip() for key in ("access_key_id", "secret_access_key")}
    for key, limit in (("access_key_id", 200), ("secret_access_key", 500)):
        if len(credentials[key]) > limit or not _CREDENTIAL.match(credentials[key]):
            raise DomainError(
                "invalid_credentials", f"{key}: at most {limit} printable characters, no spaces."
            )
    if bool(credentials["access_key_id"]) != bool(credentials["secret_access_key"]):
        raise DomainError(
            "invalid_credentials",
            "Give both the access key id and the secret access key, or neither for a public bucket.",
        )
    return {
        "name": name,
        "bucket": validate_bucket_name(str(values["bucket"]).strip()),
        "prefix": validate_prefix(str(values["prefix"])),
        "endpoint_url": validate_endpoint_url(str(values["endpoint_url"]).strip()),
        "region": _validate_region(str(values["region"]).strip()),
        **credentials,
    }


def validate_bucket_name(bucket: str) -> str:
    """`bucket` if it follows the S3 naming rules for general purpose buckets, else DomainError."""
    if (
        not _BUCKET_NAME.match(bucket)
        or ".." in bucket
        or _IPV4_SHAPED.match(bucket)
        or bucket.startswith(_RESERVED_BUCKET_PREFIXES)
        or bucket.endswith(_RESERVED_BUCKET_SUFFIXES)
    ):
        raise DomainError(
            "invalid_bucket",
            "Bucket names have 3 to 63 characters: lower-case letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit, without two dots in a row, and not shaped like "
            "an IP address.",
        )
    return bucket


def validate_prefix(prefix: str) -> str:
    """A key prefix ("" for the whole bucket): at most 1,024 UTF-8 bytes, no control characters, and
    no leading "/" (S3 keys rarely start with one; "images/" is what people mean by "/images")."""
    if _CONTROL.search(prefix) or normalise.check_text(prefix):
        raise DomainError("invalid_prefix", "The prefix contains control or invalid characters.")
    if len(prefix.encode()) > 1024:
        raise DomainError("invalid_prefix", "The prefix is longer than 1,024 bytes, the S3 limit for a key.")
    if prefix.startswith("/"):
        raise DomainError(
            "invalid_prefix", f'Prefixes do not start with "/": write {prefix.lstrip("/")!r} instead.'
        )
    return prefix


def validate_endpoint_url(endpoint_url: str) -> str:
    """ "" (AWS), or the origin of an S3-compatible service: https (http only when
    ANNOTATION_BUCKET_ALLOW_HTTP), no path, query or user name, and allowed by the egress guard.
    Resolves the host (DNS) through core.egress.check_url; raises its EgressError unchanged."""
    if not endpoint_url:
        return ""
    if len(endpoint_url) > 500:
        raise DomainError("invalid_endpoint", "The endpoint URL is longer than 500 characters.")
    try:
        parts = urlsplit(endpoint_url)
    except ValueError as error:
        raise DomainError("invalid_endpoint", "The endpoint URL cannot be parsed.") from error
    allowed = {"https", "http"} if _setting("ANNOTATION_BUCKET_ALLOW_HTTP") else {"https"}
    if parts.scheme.lower() not in allowed:
        raise DomainError(
            "invalid_endpoint",
            "The endpoint must be an https:// URL."
            if "http" not in allowed
            else "The endpoint must be an http:// or https:// URL.",
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise DomainError(
            "invalid_endpoint",
            "Give the endpoint's origin only, like https://s3.example.com; the bucket is a separate field.",
        )
    egress.check_url(endpoint_url)
    return endpoint_url.rstrip("/")


def _validate_region(region: str) -> str:
    if region and not _REGION.match(region):
        raise DomainError(
            "invalid_region", "A region is lower-case letters, digits and hyphens, e.g. eu-west-1."
        )
    return region


# --- Sync ---------------------------------------------------------------------------------------------


@transaction.atomic
def bucket_source_sync_request(*, source: BucketSource, actor) -> BucketSource:
    """Queue a sync of `source` (bucket_source_sync, run by a worker after commit). Audited.

    Requesting twice is harmless: syncs of one source run one after the other and the second only
    creates items for objects the first did not see."""
    source = BucketSource.objects.select_related("project").get(pk=source.pk)
    project_ensure_active(source.project)
    audit_record(
        actor=actor,
        organisation_id=source.project.organisation_id,
        project_id=source.project_id,
        action="bucket_source.sync_requested",
        target=source,
    )
    # Registered before the outbox's own callback, so an in-process sync overwrites it, not the reverse.
    transaction.on_commit(
        lambda: cache.set(sync_state_key(source.id), {"phase": "queued", "listed": 0, "created": 0}, 3600)
    )
    outbox_enqueue(task_name=SYNC_TASK, kwargs={"source_id": source.id})
    return source


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
    while True:
        # One transaction per batch: the listing is read while it is open, so keep batches modest.
        with (
            transaction.atomic(),
            ItemLoader(project_id=source.project_id, import_job_id=None, source=Item.Source.BUCKET) as loader,
        ):
            for row in islice(rows, batch):
                loader.add(row)
            if not loader.staged:
                break
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
        "bucket_source.sync_progress",
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


# --- S3 client, through the egress guard ------------------------------------------------------------


def s3_client(source: BucketSource, *, check_endpoint: bool = False):
    """A boto3 S3 client for `source` whose requests all go through core.egress.

    - Credentials are the source's own, or none (unsigned requests) for a public bucket: never the
      server's environment, profile or instance role.
    - Endpoints configured in the server's environment (AWS_ENDPOINT_URL...) and proxies are ignored.
    - Custom endpoints use path-style addressing, so the host connected to is the endpoint's host.
    - `check_endpoint`: validate the endpoint again (scheme, egress allow-list), for a sync: settings
      may have changed since the source was saved. Each request is checked again when it is sent.
    Creating the client and presigning make no network request.
    """
    if check_endpoint:
        validate_endpoint_url(source.endpoint_url)
    anonymous = not (source.access_key_id and source.secret_access_key)
    config = Config(
        signature_version=UNSIGNED if anonymous else "s3v4",
        s3={"addressing_style": "path" if source.endpoint_url else "auto"},
        connect_timeout=settings.CORE_EGRESS_CONNECT_TIMEOUT,
        read_timeout=settings.CORE_EGRESS_TIMEOUT,
        retries={"max_attempts": 3, "mode": "standard"},
        proxies={},
        ignore_configured_endpoint_urls=True,
    )
    credentials = {} if anonymous else {
        "aws_access_key_id": source.access_key_id,
        "aws_secret_access_key": source.secret_access_key,
    }  # fmt: skip
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=source.endpoint_url or None,
        region_name=source.region or "us-east-1",
        config=config,
        **credentials,
    )
    client.meta.events.register("before-send.s3", _send_through_egress)
    return client


class _Body:
    """The raw body botocore reads from an AWSResponse: `stream` for parsed responses, `read` for
    the StreamingBody of get_object (a release copying bucket media)."""

    def __init__(self, content: bytes):
        self._content = content
        self._offset = 0

    def stream(self, **kwargs) -> Iterator[bytes]:
        yield self._content

    def read(self, amt: int | None = None) -> bytes:
        end = len(self._content) if amt is None or amt < 0 else self._offset + amt
        chunk = self._content[self._offset : end]
        self._offset += len(chunk)
        return chunk

    def close(self) -> None:
        self._content = b""


def _send_through_egress(request, **kwargs) -> AWSResponse:
    """botocore's transport, replaced: send the signed request with core.egress.stream().

    Redirects are not followed (a signed request is only valid for its host); S3's own region
    redirects (301 without Location) reach botocore, which re-signs for the right region. For a
    status >= 400 the guard raises before the body is read, so botocore gets the status alone:
    it retries 5xx and raises ClientError("403", ...) and the like for the rest.
    """
    headers = {
        name: value.decode("latin-1") if isinstance(value, bytes) else str(value)
        for name, value in request.headers.items()
    }
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    try:
        with egress.stream(
            request.url, method=request.method, headers=headers, body=body or None, max_redirects=0
        ) as response:
            content = b"".join(response.iter_chunks())
    except egress.EgressError as error:
        if error.code == "egress_http_error":
            return AWSResponse(request.url, error.extra["upstream_status"], {}, _Body(b""))
        raise
    return AWSResponse(response.url, response.status, response.headers, _Body(content))


# --- Signed URLs ----------------------------------------------------------------------------------------


def bucket_object_signed_url(*, item: Item, expires: int = 300) -> str:
    """A presigned GET URL (SigV4) for `item`'s media_url "s3://bucket/key", valid `expires` seconds.

    Signed with the credentials of the item's project's BucketSource for that bucket whose prefix
    the key starts with (the longest such prefix wins), so a key outside every source's prefix is
    never signed, whatever the credentials could read. An anonymous (public) source gives the plain
    object URL. Makes no network request and writes nothing; the caller has checked that the user
    may see the item (ProjectAction.VIEW_ITEMS or the labeling queue) and must not cache the URL
    longer than `expires`.

    Raises DomainError "not_bucket_media" (404) when media_url is not an s3:// reference and
    "bucket_source_missing" (404) when no source of the project covers the object (for example it
    was removed); ValueError when `expires` is not between 1 and 3600.
    """
    if not 1 <= expires <= SIGNED_URL_MAX_SECONDS:
        raise ValueError(f"expires must be between 1 and {SIGNED_URL_MAX_SECONDS} seconds, not {expires}.")
    bucket, key = parse_object_reference(item.media_url)
    source = source_selectors.bucket_source_for_object(project_id=item.project_id, bucket=bucket, key=key)
    if source is None:
        raise DomainError(
            "bucket_source_missing",
            "No bucket source of this project covers this object any more.",
            status_code=404,
        )
    return s3_client(source).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
    )


def parse_object_reference(reference: str) -> tuple[str, str]:
    """("bucket", "key") from "s3://bucket/key"; DomainError "not_bucket_media" (404) otherwise."""
    bucket, _, key = reference.removeprefix("s3://").partition("/")
    if not reference.startswith("s3://") or not bucket or not key:
        raise DomainError(
            "not_bucket_media", "This item's media is not an object in a bucket.", status_code=404
        )
    return bucket, key
