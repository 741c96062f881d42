"""The public API of the egress guard: check_url(), fetch() and stream(), redirects followed and
re-checked hop by hop."""

import http.client
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings

from . import resolver as dns
from .connection import Deadline, Exchange
from .policy import EgressError, IPAddress, allowed_networks, limits_for, parse_url, too_large
from .resolver import Resolver, resolve_allowed

CHUNK_SIZE = 64 * 1024  # bytes per read while streaming


USER_AGENT = "Tessera"


_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


_BODY_HEADERS = frozenset({"content-type", "content-length"})


@dataclass(frozen=True)
class EgressResponse:
    """A complete response: final URL after redirects, status, lower-case headers, whole body."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes


def check_url(url: str, *, resolver: Resolver | None = None) -> list[IPAddress]:
    """Validate `url` and return the addresses a request to it would be allowed to connect to.

    Raises EgressError when the scheme, the URL's shape or any resolved address is refused
    (one blocked address among public ones refuses the whole host). Resolves DNS (through
    `resolver`, default socket.getaddrinfo) and nothing else; safe to call repeatedly. Use it to
    give early feedback on a URL a user types; fetch() and stream() check again when they connect.
    """
    target = parse_url(url)
    timeout = float(settings.CORE_EGRESS_CONNECT_TIMEOUT)
    return resolve_allowed(
        target, resolver=resolver or dns.system_resolver, allowed=allowed_networks(), timeout=timeout
    )


def fetch(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    max_redirects: int | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    resolver: Resolver | None = None,
) -> EgressResponse:
    """Perform one outbound request through the egress guard and return the whole response.

    Every hop (the URL and each redirect target) is parsed, resolved once and checked; the socket
    is opened to the checked address only. Limits default to the CORE_EGRESS_* settings: at most
    `max_bytes` of body, `timeout` seconds in total, `max_redirects` redirects. A final status
    >= 400 raises EgressError("egress_http_error"). Side effect: the remote request itself, so it
    is as idempotent as `method` is on that server. Credentials headers are dropped on a
    redirect to another origin; 303 (and 301/302 after a POST) continue as GET without the body.
    """
    with stream(
        url,
        max_bytes=max_bytes,
        timeout=timeout,
        max_redirects=max_redirects,
        method=method,
        headers=headers,
        body=body,
        resolver=resolver,
    ) as response:
        content = b"".join(response.iter_chunks())
    return EgressResponse(url=response.url, status=response.status, headers=response.headers, content=content)


class EgressStream:
    """An open response; read the body with iter_chunks() inside the stream() block."""

    def __init__(self, *, url: str, exchange: "Exchange", max_bytes: int):
        response = exchange.response
        assert response is not None
        self.url = url
        self.status: int = response.status
        self.headers: dict[str, str] = _header_dict(response)
        self._exchange = exchange
        self._max_bytes = max_bytes
        self._consumed = False

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the body in chunks of at most `chunk_size` bytes.

        Raises EgressError("egress_too_large") as soon as more than max_bytes arrived (the chunks
        already yielded stay valid), "egress_timeout" at the total deadline and "egress_connection"
        when the body ends before its Content-Length. Can be iterated once.
        """
        if self._consumed:
            raise RuntimeError("The body of an egress stream can be read only once.")
        self._consumed = True
        exchange = self._exchange
        response = exchange.response
        assert response is not None
        expected = response.length  # None for chunked or close-delimited bodies; 0 for HEAD/204/304
        received = 0
        while True:
            if exchange.closed:
                raise RuntimeError("Read the body inside the stream() block.")
            # Ask for at most one byte past the limit: enough to know it was exceeded, never more.
            wanted = min(chunk_size, self._max_bytes - received + 1)
            with exchange.translating():
                exchange.refresh_timeout()
                chunk = response.read1(wanted)
            if not chunk:
                break
            received += len(chunk)
            if received > self._max_bytes:
                raise too_large(exchange.target.host, self._max_bytes)
            yield chunk
        if expected is not None and received < expected:
            raise EgressError(
                "egress_connection",
                f"The response from {exchange.target.host} ended after {received} of {expected} bytes.",
            )


@contextmanager
def stream(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    max_redirects: int | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    resolver: Resolver | None = None,
) -> Iterator[EgressStream]:
    """Like fetch(), but yield the response with its body unread, for large media.

    Status, redirects and a Content-Length above `max_bytes` are handled before the block runs;
    the body is limited while it streams. The total `timeout` covers the block too: read the body
    promptly. The connection is closed when the block exits.
    """
    limits = limits_for(max_bytes=max_bytes, timeout=timeout, max_redirects=max_redirects)
    deadline = Deadline(limits.timeout)
    allowed = allowed_networks()
    resolve = resolver or dns.system_resolver
    method = method.upper()
    request_headers = _request_headers(headers)
    current_url = url
    target = parse_url(url)
    first_host = target.host
    redirects = 0
    while True:
        addresses = resolve_allowed(
            target,
            resolver=resolve,
            allowed=allowed,
            timeout=deadline.budget(limits.connect_timeout, host=target.host),
        )
        exchange = Exchange(
            target=target, addresses=addresses, deadline=deadline, connect_timeout=limits.connect_timeout
        )
        try:
            response = exchange.send(method=method, headers=request_headers, body=body)
        except BaseException:
            exchange.close()
            raise
        location = response.getheader("location")
        if response.status not in _REDIRECT_STATUSES or not location:
            break
        exchange.close()  # a redirect's body is never read
        redirects += 1
        if redirects > limits.max_redirects:
            raise EgressError(
                "egress_too_many_redirects",
                f"Stopped after {limits.max_redirects} redirects (the limit) starting at {first_host}.",
            )
        next_url = urljoin(current_url, location.strip())
        next_target = parse_url(next_url)
        if (response.status == 303 and method != "HEAD") or (
            response.status in (301, 302) and method == "POST"
        ):
            method, body = "GET", None
            request_headers = {k: v for k, v in request_headers.items() if k not in _BODY_HEADERS}
        if next_target.origin != target.origin:
            request_headers = {k: v for k, v in request_headers.items() if k not in _CREDENTIAL_HEADERS}
        current_url, target = next_url, next_target

    try:
        if response.status >= 400:
            raise EgressError(
                "egress_http_error",
                f"{target.host} answered with HTTP status {response.status}.",
                extra={"upstream_status": response.status},
            )
        if response.length is not None and response.length > limits.max_bytes:
            raise too_large(target.host, limits.max_bytes)
        yield EgressStream(url=current_url, exchange=exchange, max_bytes=limits.max_bytes)
    finally:
        exchange.close()


def _request_headers(headers: dict[str, str] | None) -> dict[str, str]:
    result = {"user-agent": USER_AGENT}
    for name, value in (headers or {}).items():
        key = name.lower()
        if key == "host":
            raise ValueError("The Host header comes from the URL; do not pass one.")
        result[key] = value
    result["connection"] = "close"  # one connection per hop, never pooled
    return result


def _header_dict(response: http.client.HTTPResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
