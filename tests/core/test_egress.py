"""The egress guard: fetching, redirects, limits and pinned connections (URL and address policy:
test_egress_policy.py).

No test resolves or contacts anything but 127.0.0.1: host names go through an injected resolver,
and an autouse fixture makes the system resolver fail the test if it is ever reached with a name.
"""

import datetime
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from core import egress
from core.egress import EgressError, EgressResponse, fetch, stream
from tests.core.egress_kit import FakeDNS, no_real_dns  # noqa: F401 (autouse fixture)


@pytest.fixture
def connections(monkeypatch):
    """Every (address, port) the code under test opens a socket to."""
    opened: list[tuple[str, int]] = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    return opened


# --- A local origin server ------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {
            "Content-Type": "text/plain",
            "Content-Length": str(len(body)),
            **(headers or {}),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "host": self.headers["Host"],
                "authorization": self.headers.get("Authorization"),
                "body": body,
            }
        )
        path, _, query = self.path.partition("?")
        wait = self.server.stopping.wait
        if path in ("/ok", "/echo"):
            self.reply(200, b"hello tessera")
        elif path == "/big":
            self.reply(200, b"x" * 2048)
        elif path == "/big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(4):
                self.wfile.write(b"200\r\n" + b"x" * 512 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/big-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 2048)
            self.close_connection = True
        elif path == "/slow-headers":
            wait(3)
            self.reply(200, b"late")
        elif path == "/slow-body":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            wait(3)
            self.wfile.write(b"0123456789")
        elif path == "/drip":  # one byte every 50 ms: no single read ever waits long
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                if wait(0.05):
                    return
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.close_connection = True
        elif path.startswith("/redirect/"):
            left = int(path.rsplit("/", 1)[1])
            if left == 0:
                self.reply(200, b"arrived")
            else:
                self.reply(302, headers={"Location": f"/redirect/{left - 1}"})
        elif path.startswith("/go/"):  # /go/<status>?<percent-encoded Location>
            self.reply(int(path.rsplit("/", 1)[1]), headers={"Location": unquote(query)})
        else:
            self.reply(404, b"nope")


class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self.server_address[1]
        self.seen: list[dict] = []
        self.stopping = threading.Event()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def handle_error(self, request, client_address):
        pass  # the client hung up on purpose (limits, timeouts)


def _serve(server: Origin):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def origin(settings):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = Origin()
    _serve(server)
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


# --- Fetching -------------------------------------------------------------------------------------


def test_fetches_a_body(origin, connections):
    response = fetch(origin.url("/ok"))

    assert isinstance(response, EgressResponse)
    assert (response.url, response.status, response.content) == (origin.url("/ok"), 200, b"hello tessera")
    assert (response.headers["content-type"], response.headers["content-length"]) == ("text/plain", "13")
    assert connections == [("127.0.0.1", origin.port)]
    assert origin.seen[0]["method"] == "GET"


def test_loopback_is_refused_without_the_operator_allowing_it(origin, settings, connections):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = []

    with pytest.raises(EgressError) as error:
        fetch(origin.url("/ok"))

    assert error.value.code == "egress_blocked_address"
    assert connections == []
    assert origin.seen == []


def test_head_request_has_no_body(origin):
    response = fetch(origin.url("/ok"), method="head")

    assert (response.status, response.content, response.headers["content-length"]) == (200, b"", "13")
    assert origin.seen[0]["method"] == "HEAD"


def test_sends_the_original_host_name_while_connecting_to_the_validated_address(origin, connections):
    dns = FakeDNS({"media.test": ["127.0.0.1"]})

    response = fetch(origin.url("/echo", host="media.test"), resolver=dns)

    assert response.content == b"hello tessera"
    assert origin.seen[0]["host"] == f"media.test:{origin.port}"
    assert dns.calls == [("media.test", origin.port)]
    assert connections == [("127.0.0.1", origin.port)]


def test_connects_to_the_address_it_validated_even_if_dns_changes_its_answer(origin, connections):
    # DNS rebinding: a second lookup would say 10.0.0.1; there must not be a second lookup.
    dns = FakeDNS({"media.test": [["127.0.0.1"], ["10.0.0.1"]]})

    response = fetch(origin.url("/ok", host="media.test"), resolver=dns)

    assert response.content == b"hello tessera"
    assert dns.calls == [("media.test", origin.port)]
    assert connections == [("127.0.0.1", origin.port)]


def test_each_redirect_hop_is_resolved_and_checked_again(origin, connections):
    dns = FakeDNS({"media.test": [["127.0.0.1"], ["10.0.0.1"]]})
    again = origin.url("/ok", host="media.test")

    with pytest.raises(EgressError) as error:
        fetch(origin.url(f"/go/302?{again}", host="media.test"), resolver=dns)

    assert error.value.message == "media.test resolves to a private address (10.0.0.1)."
    assert dns.calls == [("media.test", origin.port), ("media.test", origin.port)]
    assert connections == [("127.0.0.1", origin.port)]


def test_redirect_to_the_metadata_address_is_refused_without_connecting(origin, connections):
    with pytest.raises(EgressError) as error:
        fetch(origin.url("/go/302?http://169.254.169.254/latest/meta-data/"))

    assert error.value.code == "egress_blocked_address"
    assert error.value.message == "169.254.169.254 resolves to a cloud metadata address (169.254.169.254)."
    assert connections == [("127.0.0.1", origin.port)]
    assert [seen["path"] for seen in origin.seen] == ["/go/302?http://169.254.169.254/latest/meta-data/"]


def test_redirect_to_a_name_resolving_privately_is_refused_without_connecting(origin, connections):
    dns = FakeDNS({"internal.test": ["10.0.0.1"]})

    with pytest.raises(EgressError) as error:
        fetch(origin.url("/go/307?http://internal.test/admin"), resolver=dns)

    assert error.value.code == "egress_blocked_address"
    assert error.value.message == "internal.test resolves to a private address (10.0.0.1)."
    assert dns.calls == [("internal.test", 80)]
    assert connections == [("127.0.0.1", origin.port)]


def test_redirect_to_another_scheme_is_refused(origin, connections):
    with pytest.raises(EgressError) as error:
        fetch(origin.url("/go/301?file:///etc/passwd"))

    assert (error.value.code, error.value.message) == (
        "egress_scheme",
        "Only http and https URLs are allowed, not file:.",
    )
    assert connections == [("127.0.0.1", origin.port)]


def test_follows_redirects_up_to_the_limit(origin):
    response = fetch(origin.url("/redirect/2"), max_redirects=2)

    assert (response.url, response.status, response.content) == (origin.url("/redirect/0"), 200, b"arrived")


def test_stops_after_too_many_redirects(origin):
    with pytest.raises(EgressError) as error:
        fetch(origin.url("/redirect/3"), max_redirects=2)

    assert error.value.code == "egress_too_many_redirects"
    assert error.value.message == "Stopped after 2 redirects (the limit) starting at 127.0.0.1."
    assert [seen["path"] for seen in origin.seen] == ["/redirect/3", "/redirect/2", "/redirect/1"]


def test_redirect_limit_defaults_to_the_setting(origin, settings):
    settings.CORE_EGRESS_MAX_REDIRECTS = 1

    with pytest.raises(EgressError) as error:
        fetch(origin.url("/redirect/2"))

    assert error.value.code == "egress_too_many_redirects"
    assert len(origin.seen) == 2


def test_credentials_are_dropped_on_a_redirect_to_another_origin(origin):
    dns = FakeDNS({"media.test": ["127.0.0.1"], "cdn.test": ["127.0.0.1"]})
    same_origin = origin.url("/go/302?/ok", host="media.test")
    other_origin = origin.url("/ok", host="cdn.test")

    fetch(same_origin, headers={"Authorization": "Bearer secret"}, resolver=dns)
    fetch(
        origin.url(f"/go/302?{other_origin}", host="media.test"),
        headers={"Authorization": "Bearer secret"},
        resolver=dns,
    )

    assert [(seen["host"], seen["authorization"]) for seen in origin.seen] == [
        (f"media.test:{origin.port}", "Bearer secret"),
        (f"media.test:{origin.port}", "Bearer secret"),
        (f"media.test:{origin.port}", "Bearer secret"),
        (f"cdn.test:{origin.port}", None),
    ]


def test_see_other_continues_as_get_without_the_body(origin):
    response = fetch(
        origin.url("/go/303?/ok"),
        method="POST",
        body=b'{"event": "x"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.content == b"hello tessera"
    assert [(seen["method"], seen["path"], seen["body"]) for seen in origin.seen] == [
        ("POST", "/go/303?/ok", b'{"event": "x"}'),
        ("GET", "/ok", b""),
    ]


def test_error_status_is_an_http_error(origin):
    with pytest.raises(EgressError) as error:
        fetch(origin.url("/missing"))

    assert error.value.code == "egress_http_error"
    assert error.value.message == "127.0.0.1 answered with HTTP status 404."
    assert error.value.extra == {"upstream_status": 404}


@pytest.mark.parametrize("path", ["/big", "/big-chunked", "/big-close"])
def test_body_over_max_bytes_is_refused(origin, path):
    with pytest.raises(EgressError) as error:
        fetch(origin.url(path), max_bytes=1000)

    assert (error.value.code, error.value.message) == (
        "egress_too_large",
        "The response from 127.0.0.1 is larger than 1000 bytes.",
    )


@pytest.mark.parametrize("path", ["/big", "/big-chunked", "/big-close"])
def test_body_of_exactly_max_bytes_is_fetched(origin, path):
    response = fetch(origin.url(path), max_bytes=2048)

    assert response.content == b"x" * 2048


def test_max_bytes_defaults_to_the_setting(origin, settings):
    settings.CORE_EGRESS_MAX_BYTES = 100

    with pytest.raises(EgressError) as error:
        fetch(origin.url("/big-chunked"))

    assert error.value.message == "The response from 127.0.0.1 is larger than 100 bytes."


def test_stream_stops_reading_past_max_bytes(origin):
    received = []

    with pytest.raises(EgressError) as error, stream(origin.url("/big-chunked"), max_bytes=1000) as response:
        assert (response.status, response.headers["transfer-encoding"]) == (200, "chunked")
        for chunk in response.iter_chunks(chunk_size=256):
            received.append(chunk)

    assert error.value.code == "egress_too_large"
    assert 0 < sum(len(chunk) for chunk in received) <= 1000
    assert all(len(chunk) <= 256 for chunk in received)


def test_stream_refuses_a_content_length_over_max_bytes_before_reading(origin):
    with pytest.raises(EgressError) as error, stream(origin.url("/big"), max_bytes=1000):
        pytest.fail("the block must not run")

    assert error.value.code == "egress_too_large"


def test_stream_body_cannot_be_read_after_the_block(origin):
    with stream(origin.url("/ok")) as response:
        pass

    with pytest.raises(RuntimeError):
        list(response.iter_chunks())


def test_truncated_body_is_a_connection_error(origin):
    with pytest.raises(EgressError) as error:
        fetch(origin.url("/truncated"))

    assert (error.value.code, error.value.message) == (
        "egress_connection",
        "The response from 127.0.0.1 ended after 10 of 100 bytes.",
    )


def test_refused_connection_is_a_connection_error(settings):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused

        with pytest.raises(EgressError) as error:
            fetch(f"http://127.0.0.1:{port}/")

    assert (error.value.code, error.value.message) == (
        "egress_connection",
        f"Could not connect to 127.0.0.1 on port {port}.",
    )


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body", "/drip"])
def test_total_timeout_covers_slow_and_dripping_servers(origin, path):
    started = time.monotonic()

    with pytest.raises(EgressError) as error:
        fetch(origin.url(path), timeout=0.5)

    assert (error.value.code, error.value.message) == (
        "egress_timeout",
        "The request to 127.0.0.1 took longer than 0.5 s.",
    )
    assert time.monotonic() - started < 1.5


def test_host_header_cannot_be_overridden(origin):
    with pytest.raises(ValueError):
        fetch(origin.url("/ok"), headers={"Host": "internal.test"})

    assert origin.seen == []


# --- TLS on a pinned connection -------------------------------------------------------------------


def _certificates(tmp_path, name: str) -> tuple[str, str, str]:
    """A throwaway CA and a server certificate for `name`: (ca_pem, cert_file, key_file)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tessera test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca.public_bytes(serialization.Encoding.PEM).decode(), str(cert_file), str(key_file)


@pytest.fixture
def tls_origin(settings, monkeypatch, tmp_path):
    """An HTTPS origin on 127.0.0.1 whose certificate is for media.test only; records SNI names."""
    ca_pem, cert_file, key_file = _certificates(tmp_path, "media.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    server_names: list[str | None] = []
    server_context.sni_callback = lambda connection, name, context: server_names.append(name)
    monkeypatch.setattr(egress.connection, "tls_context", lambda: ssl.create_default_context(cadata=ca_pem))
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = Origin(tls=server_context)
    server.server_names = server_names
    _serve(server)
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


def test_tls_uses_the_host_name_for_sni_and_certificate_on_the_pinned_address(tls_origin, connections):
    dns = FakeDNS({"media.test": ["127.0.0.1"]})

    response = fetch(tls_origin.url("/ok", host="media.test"), resolver=dns)

    assert response.content == b"hello tessera"
    assert tls_origin.server_names == ["media.test"]
    assert tls_origin.seen[0]["host"] == f"media.test:{tls_origin.port}"
    assert connections == [("127.0.0.1", tls_origin.port)]


def test_tls_certificate_for_another_name_is_refused(tls_origin):
    dns = FakeDNS({"other.test": ["127.0.0.1"]})

    with pytest.raises(EgressError) as error:
        fetch(tls_origin.url("/ok", host="other.test"), resolver=dns)

    assert error.value.code == "egress_connection"
    assert error.value.message == (
        "The TLS certificate of other.test is not valid: "
        "Hostname mismatch, certificate is not valid for 'other.test'."
    )
    assert tls_origin.seen == []
