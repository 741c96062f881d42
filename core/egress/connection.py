"""Connections pinned to a validated address: the socket opened to the checked IP while Host, SNI
and certificate checks use the hostname; the total deadline and its watchdog."""

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache

from .policy import EgressError, IPAddress, Target


class Deadline:
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

    def __init__(self, deadline: Deadline):
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
                shutdown_socket(sock)

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
                shutdown_socket(self._sock)


def shutdown_socket(sock: socket.socket) -> None:
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
def tls_context() -> ssl.SSLContext:
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
        deadline: Deadline,
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
        tls = tls_context().wrap_socket(
            self.sock, server_hostname=self.host.removesuffix("."), do_handshake_on_connect=False
        )
        self.sock = tls
        self._watchdog.track(tls)
        tls.settimeout(self._deadline.budget(self._connect_timeout, host=self.host))
        tls.do_handshake()
        tls.settimeout(self._deadline.budget(self._deadline.seconds, host=self.host))


class Exchange:
    """One request/response on one pinned connection, with the deadline watchdog armed."""

    def __init__(
        self, *, target: Target, addresses: list[IPAddress], deadline: Deadline, connect_timeout: float
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
