"""Streaming response bodies that stay streaming under ASGI.

Django 5.2 under ASGI reads a synchronous streaming body (a FileResponse too) whole into memory
before sending it. These bodies are async iterators under ASGI, reading chunk by chunk in a worker
thread, so a large download (media, error reports, releases) never sits in the server's memory.
"""

from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse

CHUNK_SIZE = 256 * 1024  # bytes per read


def is_asgi(request) -> bool:
    """True when `request` (a Django or DRF request) came through the ASGI handler."""
    return isinstance(getattr(request, "_request", request), ASGIRequest)


def stream_response(
    read: Callable[[], bytes], close: Callable[[], None], content_type: str, *, asgi: bool
) -> StreamingHttpResponse:
    """A response whose body is read chunk by chunk, never whole. Closing the response closes the
    source, also when the body was never read."""
    body = _AsyncBody(read, close) if asgi else _SyncBody(read, close)
    return StreamingHttpResponse(body, content_type=content_type)


def file_stream_response(file, *, content_type: str, asgi: bool) -> StreamingHttpResponse:
    """Stream an open binary file (local or S3 storage) and close it afterwards."""
    return stream_response(lambda: file.read(CHUNK_SIZE), file.close, content_type, asgi=asgi)


class _SyncBody:
    def __init__(self, read: Callable[[], bytes], close: Callable[[], None]):
        self._read = read
        self.close = close

    def __iter__(self):
        try:
            while chunk := self._read():
                yield chunk
        finally:
            self.close()


class _AsyncBody:
    def __init__(self, read: Callable[[], bytes], close: Callable[[], None]):
        self._read = sync_to_async(read, thread_sensitive=False)
        self.close = close

    async def __aiter__(self):
        try:
            while chunk := await self._read():
                yield chunk
        finally:
            await sync_to_async(self.close, thread_sensitive=False)()
