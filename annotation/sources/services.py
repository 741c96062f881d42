"""Bucket sources: an S3 (or S3-compatible) bucket prefix whose new objects become items on each sync.

- bucket_source_create / bucket_source_update / bucket_source_delete: managers; validated; audited.
  The secret access key is stored but never echoed: not in audit rows, events or API responses.
- bucket_source_sync_request queues bucket_source_sync (outbox, after commit).
- bucket_source_sync (sources/sync.py) lists the prefix page by page and creates one item per new
  object in bulk.
- bucket_object_signed_url (sources/s3.py) gives the browser a short-lived presigned GET URL for an
  s3:// item.

Every request to a bucket goes through the egress guard. boto3 builds and signs each request; a
`before-send` hook then sends it with core.egress.stream() instead of boto3's own connection
pool, so the host is resolved once, every address is checked, the socket is pinned to the
checked address (no DNS rebinding) and the size and time limits apply. See docs/SOURCES.md.
"""

import logging
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from core import egress, task_names
from core.audit import audit_record, diff_fields
from core.exceptions import DomainError
from core.services import outbox_enqueue
from projects.models import Project
from projects.services import project_ensure_active

from ..imports import normalise
from ..models import BucketSource
from ..provenance import services as provenance_services
from . import selectors as source_selectors

logger = logging.getLogger(__name__)

SYNC_TASK = task_names.BUCKET_SOURCE_SYNC

# Defaults of the ANNOTATION_BUCKET_* settings (config/settings/base.py may override them).
_SETTING_DEFAULTS = {
    "ANNOTATION_BUCKET_ALLOW_HTTP": False,  # http:// endpoints, for a local/dev MinIO only
    "ANNOTATION_BUCKET_MAX_OBJECT_BYTES": 500 * 1024**2,  # bytes; larger objects are skipped
    "ANNOTATION_BUCKET_SYNC_BATCH": 10_000,  # objects staged and committed per transaction
}


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
    provenance_source: int | None = None,
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
    provenance = provenance_services.provenance_source_for_project(
        project=project, source_id=provenance_source
    )
    source = BucketSource(project=project, created_by=actor, provenance_source=provenance, **values)
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
        changes={
            **{key: values[key] for key in _AUDITED},
            "has_secret": bool(source.secret_access_key),
            **({"provenance_source": provenance_source} if provenance_source is not None else {}),
        },
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
    provenance_given = "provenance_source" in fields
    provenance_id = fields.pop("provenance_source", None)
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
    for key in changes:
        setattr(source, key, values[key])
    if provenance_given and provenance_id != source.provenance_source_id:
        provenance_services.provenance_source_for_project(project=source.project, source_id=provenance_id)
        changes["provenance_source"] = [source.provenance_source_id, provenance_id]
        source.provenance_source_id = provenance_id
    if not changes:
        return source
    update_fields = [("provenance_source_id" if k == "provenance_source" else k) for k in changes]
    try:
        with transaction.atomic():
            source.save(update_fields=[*update_fields, "updated_at"])
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
