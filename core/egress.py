"""The egress guard: every outbound HTTP request Tessera makes goes through fetch() or stream().

A URL that a user supplied (media URLs, S3-compatible endpoints, webhooks) must never let the
server reach itself, the private network or a cloud metadata service (SSRF). The guard:

- accepts http and https only, and rejects URLs with userinfo, control characters, backslashes or
  non-canonical numeric hosts (``http://2130706433/``, ``http://0x7f.0.0.1/``);
- resolves the host once, checks *every* resolved address against the blocked ranges below, and
  then connects to exactly those addresses (the socket is opened to the validated IP while the Host
  header, TLS SNI and certificate verification use the hostname), so DNS rebinding between the
  check and the connection is impossible;
- follows redirects itself, repeating the whole check on every hop, up to a bounded number;
- stops reading past ``max_bytes`` and enforces a connect timeout plus a total deadline that also
  covers a server dripping one byte at a time (a watchdog shuts the socket down at the deadline).

Standard library only (http.client, ssl, socket). Environment proxies are never used: a proxy would
resolve the name again and defeat the pinning. See docs/EGRESS.md.
"""

import http.client
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

CHUNK_SIZE = 64 * 1024  # bytes per read while streaming
USER_AGENT = "Tessera"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_BODY_HEADERS = frozenset({"content-type", "content-length"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Whitespace, C0 controls, DEL and backslash: parsers disagree about all of them (request smuggling,
# "http://evil\@127.0.0.1/"), and a well-formed URL percent-encodes them anyway.
_FORBIDDEN_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# WHATWG URL: a host whose last label is numeric is an IPv4 address, and inet_aton() would accept
# octal/hex/short forms of it. We accept only the canonical dotted quad.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")

# Never reachable, not even through CORE_EGRESS_ALLOWED_NETWORKS: no media or webhook lives there.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in [
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle instance metadata
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS Pod Identity agent
        "100.100.100.200",  # Alibaba Cloud metadata
        "168.63.129.16",  # Azure WireServer
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS Pod Identity agent over IPv6
    ]
)
_METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}
)

# First match wins, so the more specific ranges come first. Python's is_private/is_global changed
# between patch releases; an explicit table keeps the policy reviewable and version-independent.
_BLOCKED_NETWORKS: list[tuple[IPNetwork, str]] = [
    (ipaddress.ip_network(network), kind)
    for network, kind in [
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "reserved"),  # "this network"; Linux connects 0.x to the local host
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo included
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "private"),  # unique local addresses
        ("fe80::/10", "link-local"),
        ("fec0::/10", "reserved"),  # deprecated site-local
        ("ff00::/8", "multicast"),
    ]
]
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")  # everything else in IPv6 is special-purpose
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


class EgressError(DomainError):
    """An outbound request refused or failed by the egress guard; `code` is one of CODES."""

    CODES = frozenset(
        {
            "egress_scheme",  # not http/https
            "egress_invalid_url",  # unparsable, no host, userinfo, odd characters, non-canonical IPv4
            "egress_blocked_address",  # resolves to (or is) a blocked address or metadata name
            "egress_dns",  # the host does not resolve
            "egress_connection",  # refused, reset, TLS failure, malformed or truncated response
            "egress_timeout",  # connect timeout or total deadline
            "egress_too_large",  # body larger than max_bytes
            "egress_too_many_redirects",
            "egress_http_error",  # final status >= 400
        }
    )


@dataclass(frozen=True)
class EgressResponse:
    """A complete response: final URL after redirects, status, lower-case headers, whole body."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True)
class _Target:
    """One parsed, syntactically safe URL."""

    scheme: str
    host: str  # lower-case ASCII without brackets: what goes into Host, SNI and certificate checks
    port: int
    request_target: str  # path and query, sent on the request line
    literal: IPAddress | None  # the host when the URL names an IP address

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    timeout: float  # seconds, whole request including redirects
    connect_timeout: float  # seconds per connection attempt (and per DNS lookup)
    max_redirects: int


# --- Public API -----------------------------------------------------------------------------------


def check_url(url: str, *, resolver: Resolver | None = None) -> list[IPAddress]:
    """Validate `url` and return the addresses a request to it would be allowed to connect to.

    Raises EgressError when the scheme, the URL's shape or any resolved address is refused
    (one blocked address among public ones refuses the whole host). Resolves DNS (through
    `resolver`, default socket.getaddrinfo) and nothing else; safe to call repeatedly. Use it to
    give early feedback on a URL a user types; fetch() and stream() check again when they connect.
    """
    target = _parse_url(url)
    timeout = float(settings.CORE_EGRESS_CONNECT_TIMEOUT)
    return _resolve_allowed(
        target, resolver=resolver or _system_resolver, allowed=_allowed_networks(), timeout=timeout
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

    def __init__(self, *, url: str, exchange: "_Exchange", max_bytes: int):
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
                raise _too_large(exchange.target.host, self._max_bytes)
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
    limits = _limits(max_bytes=max_bytes, timeout=timeout, max_redirects=max_redirects)
    deadline = _Deadline(limits.timeout)
    allowed = _allowed_networks()
    resolve = resolver or _system_resolver
    method = method.upper()
    request_headers = _request_headers(headers)
    current_url = url
    target = _parse_url(url)
    first_host = target.host
    redirects = 0
    while True:
        addresses = _resolve_allowed(
            target,
            resolver=resolve,
            allowed=allowed,
            timeout=deadline.budget(limits.connect_timeout, host=target.host),
        )
        exchange = _Exchange(
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
        next_target = _parse_url(next_url)
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
            raise _too_large(target.host, limits.max_bytes)
        yield EgressStream(url=current_url, exchange=exchange, max_bytes=limits.max_bytes)
    finally:
        exchange.close()


# --- URL parsing and address policy ---------------------------------------------------------------


def _invalid(message: str) -> EgressError:
    return EgressError("egress_invalid_url", message)


def _parse_url(url: str) -> _Target:
    if _FORBIDDEN_URL_CHARS.search(url):
        raise _invalid("The URL contains whitespace, control characters or a backslash.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _invalid(f"The URL cannot be parsed ({error}).") from error
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise EgressError("egress_scheme", f"Only http and https URLs are allowed, not {shown}.")
    if "@" in parts.netloc:
        raise _invalid("URLs with a user name or password are not allowed.")
    if not parts.hostname:
        raise _invalid("The URL has no host.")
    if port == 0:
        raise _invalid("The URL's port must be between 1 and 65535.")
    host, literal = _parse_host(parts.hostname, bracketed=parts.netloc.startswith("["))
    request_target = _ascii_target(parts.path or "/") + (
        f"?{_ascii_target(parts.query)}" if parts.query else ""
    )
    return _Target(
        scheme=scheme,
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        request_target=request_target,
        literal=literal,
    )


def _parse_host(hostname: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    if bracketed:
        try:
            if "%" in hostname:  # a zone ("[fe80::1%25eth0]") only makes sense on the local link
                raise ValueError(hostname)
            address = ipaddress.IPv6Address(hostname)
        except ValueError as error:
            raise _invalid(f"{hostname} is not a valid IPv6 address.") from error
        return hostname, address
    try:
        host = hostname.encode("idna").decode("ascii") if not hostname.isascii() else hostname
    except UnicodeError as error:
        raise _invalid("The URL's host is not a valid internationalised domain name.") from error
    host = host.lower()
    labels = host.removesuffix(".").split(".")
    if len(host) > 254 or not all(_HOST_LABEL.match(label) for label in labels):
        raise _invalid(f"{host} is not a valid host name.")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            return host, ipaddress.IPv4Address(host.removesuffix("."))
        except ValueError as error:
            raise _invalid(
                f"{host} is not a valid IPv4 address; write addresses as four decimal numbers."
            ) from error
    return host, None


def _ascii_target(text: str) -> str:
    # Percent-encode only non-ASCII characters; what the caller already encoded stays as it is.
    return "".join(char if char.isascii() else quote(char) for char in text)


def _allowed_networks() -> list[IPNetwork]:
    networks = []
    for cidr in settings.CORE_EGRESS_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=True))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"CORE_EGRESS_ALLOWED_NETWORKS: {cidr!r} is not a network ({error})."
            ) from error
    return networks


def _limits(*, max_bytes: int | None, timeout: float | None, max_redirects: int | None) -> _Limits:
    return _Limits(
        max_bytes=settings.CORE_EGRESS_MAX_BYTES if max_bytes is None else max_bytes,
        timeout=float(settings.CORE_EGRESS_TIMEOUT if timeout is None else timeout),
        connect_timeout=float(settings.CORE_EGRESS_CONNECT_TIMEOUT),
        max_redirects=settings.CORE_EGRESS_MAX_REDIRECTS if max_redirects is None else max_redirects,
    )


def _system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _resolve_allowed(
    target: _Target, *, resolver: Resolver, allowed: list[IPNetwork], timeout: float
) -> list[IPAddress]:
    if target.literal is not None:
        addresses = [target.literal]
    else:
        if target.host.removesuffix(".") in _METADATA_HOSTS:
            logger.warning("egress blocked: %s is a cloud metadata name", target.host)
            raise EgressError(
                "egress_blocked_address", f"{target.host} is the name of a cloud metadata service."
            )
        addresses = _resolve(target.host, target.port, resolver=resolver, timeout=timeout)
    for address in addresses:
        kind = _blocked_kind(address, allowed=allowed)
        if kind is not None:
            shown = _show(address)
            logger.warning("egress blocked: %s resolves to %s (%s)", target.host, shown, kind)
            article = "an" if kind[0] in "aeiou" else "a"
            raise EgressError(
                "egress_blocked_address", f"{target.host} resolves to {article} {kind} address ({shown})."
            )
    return addresses


def _resolve(host: str, port: int, *, resolver: Resolver, timeout: float) -> list[IPAddress]:
    # getaddrinfo() cannot be interrupted; a daemon thread bounds how long the request waits for it.
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["answer"] = resolver(host, port)
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, name=f"egress-dns-{host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise EgressError("egress_timeout", f"Resolving {host} took longer than {timeout:g} s.")
    error = outcome.get("error")
    if isinstance(error, OSError | UnicodeError):
        raise EgressError("egress_dns", f"{host} cannot be resolved.") from error
    if error is not None:
        raise error  # type: ignore[misc]  # a bug in the resolver, not a DNS answer
    addresses: list[IPAddress] = []
    for raw in outcome["answer"]:  # type: ignore[attr-defined]
        try:
            address = ipaddress.ip_address(str(raw).partition("%")[0])
        except ValueError as error:
            raise EgressError("egress_dns", f"{host} resolved to an invalid address.") from error
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EgressError("egress_dns", f"{host} cannot be resolved.")
    return addresses


def _blocked_kind(address: IPAddress, *, allowed: list[IPNetwork]) -> str | None:
    """The class of a refused address ("loopback", "private", ...) or None when it may be used."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    candidates = [address] if mapped is None else [address, mapped]
    if any(candidate in _METADATA_ADDRESSES for candidate in candidates) or (
        _embedded_ipv4(address) in _METADATA_ADDRESSES
    ):
        return "cloud metadata"
    if any(_in_networks(candidate, allowed) for candidate in candidates):
        return None
    return _classify(address)


def _classify(address: IPAddress) -> str | None:
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        # An IPv6 form that carries an IPv4 address is exactly as reachable as that address.
        return _classify(embedded)
    for network, kind in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return kind
    if address.version == 6 and address not in _IPV6_GLOBAL_UNICAST:
        return "reserved"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 (64:ff9b::/96) address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _in_networks(address: IPAddress, networks: list[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def _show(address: IPAddress) -> str:
    # Python 3.13 changed how str() prints IPv4-mapped addresses; keep messages stable.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return f"::ffff:{mapped}" if mapped is not None else str(address)


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


def _too_large(host: str, max_bytes: int) -> EgressError:
    return EgressError("egress_too_large", f"The response from {host} is larger than {max_bytes} bytes.")


# --- Connections pinned to a validated address ----------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._at - time.monotonic())

    def budget(self, limit: float, *, host: str) -> float:
        """min(limit, time left), or EgressError when the deadline has passed."""
        remaining = self.remaining()
        if remaining <= 0:
            raise self.error(host)
        return min(limit, remaining)

    def error(self, host: str) -> EgressError:
        return EgressError("egress_timeout", f"The request to {host} took longer than {self.seconds:g} s.")


class _Watchdog:
    """Shuts the socket down when the deadline passes.

    Socket timeouts bound a single read only, so a server sending one byte per second could keep
    a worker busy for hours. Shutting the socket down wakes a blocked read in the request thread.
    """

    def __init__(self, deadline: _Deadline):
        self.fired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._done = False
        self._timer = threading.Timer(deadline.remaining(), self._fire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def sock(self) -> socket.socket | None:
        return self._sock

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                _shutdown(sock)

    def stop(self) -> None:
        # Called before the socket is closed, so a late timer never shuts down a reused descriptor.
        with self._lock:
            self._done = True
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            if self._sock is not None:
                _shutdown(self._sock)


def _shutdown(sock: socket.socket) -> None:
    # The plain socket method, also for an SSLSocket: SSLSocket.shutdown() would unwrap it under the
    # feet of the thread that is reading.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _open_socket(addresses: list[IPAddress], port: int, *, host: str, timeout: float) -> socket.socket:
    """Connect to the first reachable address; every one of them has been checked already."""
    timed_out = False
    for address in addresses:
        try:
            # A numeric address: getaddrinfo() inside create_connection() does no DNS lookup.
            return socket.create_connection((str(address), port), timeout=timeout)
        except TimeoutError:
            timed_out = True
        except OSError:
            continue
    if timed_out:
        raise EgressError("egress_timeout", f"Connecting to {host} took longer than {timeout:g} s.")
    raise EgressError("egress_connection", f"Could not connect to {host} on port {port}.")


@cache
def _tls_context() -> ssl.SSLContext:
    """System trust store, certificate and hostname verification on, TLS 1.2 or later."""
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a host name that opens its socket to validated addresses only."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: list[IPAddress],
        connect_timeout: float,
        deadline: _Deadline,
        watchdog: _Watchdog,
    ):
        super().__init__(host, port)
        self._addresses = addresses
        self._connect_timeout = connect_timeout
        self._deadline = deadline
        self._watchdog = watchdog

    def connect(self) -> None:
        timeout = self._deadline.budget(self._connect_timeout, host=self.host)
        self.sock = _open_socket(self._addresses, self.port, host=self.host, timeout=timeout)
        self._watchdog.track(self.sock)
        self.sock.settimeout(self._deadline.budget(self._deadline.seconds, host=self.host))


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS on a pinned socket: SNI and certificate verification use the host name, not the IP."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        super().connect()
        assert self.sock is not None
        tls = _tls_context().wrap_socket(
            self.sock, server_hostname=self.host.removesuffix("."), do_handshake_on_connect=False
        )
        self.sock = tls
        self._watchdog.track(tls)
        tls.settimeout(self._deadline.budget(self._connect_timeout, host=self.host))
        tls.do_handshake()
        tls.settimeout(self._deadline.budget(self._deadline.seconds, host=self.host))


class _Exchange:
    """One request/response on one pinned connection, with the deadline watchdog armed."""

    def __init__(
        self, *, target: _Target, addresses: list[IPAddress], deadline: _Deadline, connect_timeout: float
    ):
        self.target = target
        self.deadline = deadline
        self.response: http.client.HTTPResponse | None = None
        self.closed = False
        self.watchdog = _Watchdog(deadline)
        connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        self.connection = connection_class(
            target.host,
            target.port,
            addresses=addresses,
            connect_timeout=connect_timeout,
            deadline=deadline,
            watchdog=self.watchdog,
        )

    def send(self, *, method: str, headers: dict[str, str], body: bytes | None) -> http.client.HTTPResponse:
        with self.translating():
            self.connection.request(method, self.target.request_target, body=body, headers=headers)
            self.response = self.connection.getresponse()
        return self.response

    def refresh_timeout(self) -> None:
        sock = self.watchdog.sock
        if sock is not None:
            sock.settimeout(self.deadline.budget(self.deadline.seconds, host=self.target.host))

    @contextmanager
    def translating(self) -> Iterator[None]:
        """Turn socket, TLS and protocol errors into EgressError; any error after the deadline,
        and even a clean end of data (the watchdog's shutdown looks like EOF), is a timeout."""
        host = self.target.host
        try:
            yield
        except EgressError:
            raise
        except ssl.SSLCertVerificationError as error:
            if self.watchdog.fired:
                raise self.deadline.error(host) from error
            raise EgressError(
                "egress_connection", f"The TLS certificate of {host} is not valid: {error.verify_message}"
            ) from error
        except TimeoutError as error:
            raise self.deadline.error(host) from error
        except (OSError, http.client.HTTPException) as error:
            if self.watchdog.fired:
                raise self.deadline.error(host) from error
            raise EgressError(
                "egress_connection", f"The connection to {host} failed ({type(error).__name__})."
            ) from error
        if self.watchdog.fired:
            raise self.deadline.error(host)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.watchdog.stop()
        if self.response is not None:
            self.response.close()
        self.connection.close()
