"""GET /api/projects/<project_pk>/items/<item_pk>/media/: an item's media, for every project role.

Media is never public: every request is checked (ProjectAction.VIEW; outside the project: 404).

- a file in local storage: streamed in chunks, never read whole (under ASGI too, see _streaming);
- a file in S3: 302 to a signed URL that expires (the storage's AWS_QUERYSTRING_EXPIRE), with the
  response content type, and for everything but raster images an attachment disposition, fixed in
  the signature;
- an s3:// reference of a bucket source: 302 to that source's signed URL (annotation.sources.s3);
- an http(s) reference: fetched through core.egress.stream (its size and time limits; the guard
  checks the address again on every request) and streamed back.

Every answer carries `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox` and
`Cross-Origin-Resource-Policy: same-origin`. The content type comes only from an allow-list
(annotation.imports.media: PNG, JPEG, GIF, WebP, common audio and video types, UTF-8 text); only
raster images are served inline, everything else (also audio, video and text, which <audio>,
<video> and fetch() play or read all the same) as an attachment, and anything outside the list as
application/octet-stream. HTML and SVG are never served inline.
"""

import logging
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from core import egress
from core.exceptions import DomainError
from core.streaming import is_asgi, stream_response
from projects import access
from projects.access import ProjectAction

from ...imports import media
from ...models import Item
from ..selectors import items as item_selectors

logger = logging.getLogger(__name__)

OCTET_STREAM = "application/octet-stream"
CACHE_CONTROL = "private, max-age=300"  # media never changes; access may
CHUNK_SIZE = 256 * 1024  # bytes read at a time


class _AnyAccept(BaseContentNegotiation):
    """<img> and <video> send Accept: image/* or video/*; the body is the media, errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ItemMediaView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        summary="An item's media file (annotators: only items assigned to them)",
        description="Stored files are streamed (local disk) or redirected to a short-lived signed URL "
        "(S3); media URLs are fetched through the egress guard and streamed.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(response=OpenApiTypes.BINARY),
            302: OpenApiResponse(description="Redirect to a signed URL that expires"),
        },
    )
    def get(self, request, project_pk: int, item_pk: int):
        project = access.project_get_for_user(
            user=request.user, project_id=project_pk, action=ProjectAction.VIEW
        )
        item = item_selectors.item_media_get(project=project, item_id=item_pk, user=request.user)
        asgi = is_asgi(request)
        if item.media:
            response = _stored_file(item, asgi=asgi)
        elif item.media_url.startswith("s3://"):
            from ...sources import s3 as source_s3  # bucket sources sign their own objects

            response = _redirect(source_s3.bucket_object_signed_url(item=item))
        else:
            response = _referenced_url(item, asgi=asgi)
        return _protect(response)


def _stored_file(item: Item, *, asgi: bool) -> HttpResponse:
    storage = item.media.storage
    content_type = media.content_type_for(item.media.name, item.media_type)
    inline = content_type in media.RASTER_TYPES
    filename = _display_name(item)
    if _is_s3(storage):
        parameters = {"ResponseContentType": content_type or OCTET_STREAM}
        if not inline:
            parameters["ResponseContentDisposition"] = content_disposition_header(True, filename)
        return _redirect(storage.url(item.media.name, parameters=parameters))
    file = storage.open(item.media.name, "rb")
    response = _streaming(lambda: file.read(CHUNK_SIZE), file.close, content_type, asgi=asgi)
    response["Content-Length"] = str(file.size)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    return response


def _referenced_url(item: Item, *, asgi: bool) -> HttpResponse:
    stack = ExitStack()
    try:
        upstream = stack.enter_context(
            egress.stream(
                item.media_url,
                max_bytes=settings.ANNOTATION_MEDIA_PROXY_MAX_BYTES,
                timeout=settings.ANNOTATION_MEDIA_PROXY_TIMEOUT,
            )
        )
    except egress.EgressError as error:
        stack.close()
        # The media's server, not the request, is at fault: 502, with the guard's reason.
        raise DomainError(error.code, error.message, status_code=502, extra=error.extra) from error
    except BaseException:
        stack.close()
        raise
    path = urlsplit(upstream.url).path
    content_type = media.content_type_for_url(path, upstream.headers.get("content-type", ""), item.media_type)
    inline = content_type in media.RASTER_TYPES
    chunks = upstream.iter_chunks(CHUNK_SIZE)
    host = urlsplit(upstream.url).hostname

    def read() -> bytes:
        try:
            return next(chunks, b"")
        except egress.EgressError as error:
            # The headers are sent: all that is left is to cut the body short (the length will not match).
            logger.warning("media stream from %s stopped: %s", host, error.code)
            return b""

    response = _streaming(read, stack.close, content_type, asgi=asgi)
    length = upstream.headers.get("content-length", "")
    if length.isdecimal():
        response["Content-Length"] = length
    response["Content-Disposition"] = content_disposition_header(not inline, _display_name(item, path))
    return response


def _streaming(
    read: Callable[[], bytes], close: Callable[[], None], content_type: str | None, *, asgi: bool
) -> StreamingHttpResponse:
    response = stream_response(read, close, content_type or OCTET_STREAM, asgi=asgi)
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _redirect(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # the signed URL expires; never reuse the redirect
    return response


def _protect(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _display_name(item: Item, fallback: str = "") -> str:
    """The file name the user knows (data["file"]), without folders or control characters."""
    name = item.data.get("file") if isinstance(item.data, dict) else None
    if not isinstance(name, str) or not name.strip():
        name = fallback or item.media.name
    name = PurePosixPath(name.replace("\\", "/")).name
    name = "".join(char for char in name if char.isprintable())[:200]
    return name or f"item-{item.id}"


def _is_s3(storage) -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages[s3] is a dependency
        return False
    return isinstance(storage, S3Storage)
