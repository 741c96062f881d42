"""The S3 client of a bucket source, every request through core.egress (see sources/services.py)."""

from collections.abc import Iterator

import boto3
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from django.conf import settings

from core import egress
from core.exceptions import DomainError

from ..models import BucketSource, Item
from . import selectors as source_selectors
from .services import validate_endpoint_url

SIGNED_URL_MAX_SECONDS = 3600

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
