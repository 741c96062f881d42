"""The egress guard: URL shape and address policy (fetching, redirects and limits: test_egress.py).

No test resolves or contacts anything but 127.0.0.1: host names go through an injected resolver,
and an autouse fixture makes the system resolver fail the test if it is ever reached with a name.
"""

import ipaddress
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.egress import EgressError, check_url
from tests.core.egress_kit import SYSTEM_RESOLVER, FakeDNS, no_real_dns  # noqa: F401 (autouse fixture)

# --- URL shape ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http and https URLs are allowed, not file:."),
        ("ftp://files.test/a.png", "Only http and https URLs are allowed, not ftp:."),
        ("gopher://127.0.0.1:6379/_INFO", "Only http and https URLs are allowed, not gopher:."),
        ("dict://127.0.0.1:11211/stat", "Only http and https URLs are allowed, not dict:."),
        ("//media.test/a.png", "Only http and https URLs are allowed, not a URL without a scheme."),
    ],
)
def test_refuses_schemes_other_than_http_and_https(url, message):
    dns = FakeDNS({})

    with pytest.raises(EgressError) as error:
        check_url(url, resolver=dns)

    assert (error.value.code, error.value.message) == ("egress_scheme", message)
    assert dns.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@media.test/a.png",
        "http://user@127.0.0.1/",
        "http://media.test@127.0.0.1/",
        "https://:@media.test/",
    ],
)
def test_refuses_userinfo(url):
    dns = FakeDNS({"media.test": ["93.184.216.34"]})

    with pytest.raises(EgressError) as error:
        check_url(url, resolver=dns)

    assert error.value.code == "egress_invalid_url"
    assert error.value.message == "URLs with a user name or password are not allowed."
    assert dns.calls == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http:///a.png", "The URL has no host."),
        (
            "http://media.test/a.png\r\nX-Injected: 1",
            "The URL contains whitespace, control characters or a backslash.",
        ),
        ("http://media.test/a b.png", "The URL contains whitespace, control characters or a backslash."),
        ("http://evil.test\\@127.0.0.1/", "The URL contains whitespace, control characters or a backslash."),
        ("http://[::1/", "The URL cannot be parsed (Invalid IPv6 URL)."),
        ("http://media.test:99999/", "The URL cannot be parsed (Port out of range 0-65535)."),
        ("http://media.test:0/", "The URL's port must be between 1 and 65535."),
        ("http://[fe80::1%25eth0]/", "fe80::1%25eth0 is not a valid IPv6 address."),
        ("http://media_%2e.test/", "media_%2e.test is not a valid host name."),
        ("http://-.test/", "-.test is not a valid host name."),
    ],
)
def test_refuses_malformed_urls(url, message):
    dns = FakeDNS({})

    with pytest.raises(EgressError) as error:
        check_url(url, resolver=dns)

    assert (error.value.code, error.value.message) == ("egress_invalid_url", message)
    assert dns.calls == []


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f.0.0.1",
        "017700000001",
        "0x7f000001",
        "127.1",
        "127.000.000.001",
        "0177.0.0.1",
        "10.0.0.0x1",
    ],
)
def test_refuses_non_canonical_ipv4_notations_instead_of_resolving_them(host):
    # getaddrinfo() would read every one of these as 127.0.0.1 or 10.0.0.1.
    dns = FakeDNS({host: ["93.184.216.34"]})

    with pytest.raises(EgressError) as error:
        check_url(f"http://{host}/", resolver=dns)

    assert error.value.code == "egress_invalid_url"
    assert (
        error.value.message == f"{host} is not a valid IPv4 address; write addresses as four decimal numbers."
    )
    assert dns.calls == []


def test_international_host_is_resolved_in_its_ascii_form():
    dns = FakeDNS({"xn--bcher-kva.test": ["93.184.216.34"]})

    addresses = check_url("https://Bücher.test/a.png", resolver=dns)

    assert addresses == [ipaddress.ip_address("93.184.216.34")]
    assert dns.calls == [("xn--bcher-kva.test", 443)]


# --- Address policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "description"),
    [
        ("127.0.0.1", "a loopback address (127.0.0.1)"),
        ("127.0.0.1.", "a loopback address (127.0.0.1)"),
        ("127.255.0.9", "a loopback address (127.255.0.9)"),
        ("10.0.0.5", "a private address (10.0.0.5)"),
        ("172.16.0.1", "a private address (172.16.0.1)"),
        ("192.168.1.1", "a private address (192.168.1.1)"),
        ("169.254.169.254", "a cloud metadata address (169.254.169.254)"),
        ("169.254.170.2", "a cloud metadata address (169.254.170.2)"),
        ("100.100.100.200", "a cloud metadata address (100.100.100.200)"),
        ("169.254.10.10", "a link-local address (169.254.10.10)"),
        ("0.0.0.0", "an unspecified address (0.0.0.0)"),  # noqa: S104 - a URL host, nothing binds
        ("0.1.2.3", "a reserved address (0.1.2.3)"),
        ("100.64.0.1", "a carrier-grade NAT address (100.64.0.1)"),
        ("224.0.0.1", "a multicast address (224.0.0.1)"),
        ("240.0.0.1", "a reserved address (240.0.0.1)"),
        ("255.255.255.255", "a broadcast address (255.255.255.255)"),
        ("192.0.2.10", "a documentation address (192.0.2.10)"),
        ("198.51.100.7", "a documentation address (198.51.100.7)"),
        ("203.0.113.9", "a documentation address (203.0.113.9)"),
        ("198.18.0.1", "a reserved address (198.18.0.1)"),
        ("[::1]", "a loopback address (::1)"),
        ("[::]", "an unspecified address (::)"),
        ("[::ffff:127.0.0.1]", "a loopback address (::ffff:127.0.0.1)"),
        ("[::ffff:a9fe:a9fe]", "a cloud metadata address (::ffff:169.254.169.254)"),
        ("[::ffff:10.1.2.3]", "a private address (::ffff:10.1.2.3)"),
        ("[2002:7f00:1::]", "a loopback address (2002:7f00:1::)"),
        ("[2002:a9fe:a9fe::1]", "a cloud metadata address (2002:a9fe:a9fe::1)"),
        ("[64:ff9b::a00:1]", "a private address (64:ff9b::a00:1)"),
        ("[64:ff9b:1::1]", "a reserved address (64:ff9b:1::1)"),
        ("[::7f00:1]", "a reserved address (::7f00:1)"),
        ("[fe80::1]", "a link-local address (fe80::1)"),
        ("[fd12:3456::1]", "a private address (fd12:3456::1)"),
        ("[fd00:ec2::254]", "a cloud metadata address (fd00:ec2::254)"),
        ("[ff02::1]", "a multicast address (ff02::1)"),
        ("[2001:db8::1]", "a documentation address (2001:db8::1)"),
        ("[2001::1]", "a reserved address (2001::1)"),
        ("[fec0::1]", "a reserved address (fec0::1)"),
    ],
)
def test_refuses_literal_addresses_outside_the_public_internet(host, description):
    dns = FakeDNS({})

    with pytest.raises(EgressError) as error:
        check_url(f"http://{host}/latest/meta-data/", resolver=dns)

    shown = host.strip("[]")
    assert error.value.code == "egress_blocked_address"
    assert error.value.message == f"{shown} resolves to {description}."
    assert dns.calls == []


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("93.184.216.34", "93.184.216.34"),
        ("[2606:4700::6810:84e5]", "2606:4700::6810:84e5"),
        ("[::ffff:93.184.216.34]", "::ffff:93.184.216.34"),
        ("[64:ff9b::5db8:d822]", "64:ff9b::5db8:d822"),  # NAT64 of 93.184.216.34
        ("[2002:5db8:d822::1]", "2002:5db8:d822::1"),  # 6to4 of 93.184.216.34
    ],
)
def test_allows_public_literal_addresses(host, address):
    addresses = check_url(f"https://{host}/a.png")

    assert addresses == [ipaddress.ip_address(address)]


def test_allows_a_host_that_resolves_to_public_addresses_only():
    dns = FakeDNS({"media.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"]})

    addresses = check_url("https://media.example/cat.png", resolver=dns)

    assert addresses == [
        ipaddress.ip_address("93.184.216.34"),
        ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"),
    ]
    assert dns.calls == [("media.example", 443)]


def test_refuses_a_host_when_any_resolved_address_is_private():
    dns = FakeDNS({"evil.example": ["93.184.216.34", "10.0.0.7"]})

    with pytest.raises(EgressError) as error:
        check_url("http://evil.example:8080/", resolver=dns)

    assert error.value.code == "egress_blocked_address"
    assert error.value.message == "evil.example resolves to a private address (10.0.0.7)."
    assert dns.calls == [("evil.example", 8080)]


def test_refuses_a_host_that_resolves_to_the_metadata_service():
    dns = FakeDNS({"evil.example": ["169.254.169.254"]})

    with pytest.raises(EgressError) as error:
        check_url("http://evil.example/latest/meta-data/", resolver=dns)

    assert error.value.code == "egress_blocked_address"
    assert error.value.message == "evil.example resolves to a cloud metadata address (169.254.169.254)."


def test_scoped_link_local_answer_is_refused():
    dns = FakeDNS({"printer.example": ["fe80::1%eth0"]})

    with pytest.raises(EgressError) as error:
        check_url("http://printer.example/", resolver=dns)

    assert error.value.message == "printer.example resolves to a link-local address (fe80::1)."


@pytest.mark.parametrize(
    "host", ["metadata.google.internal", "METADATA.google.internal.", "metadata", "instance-data"]
)
def test_refuses_metadata_names_wherever_they_resolve(host):
    dns = FakeDNS({host.lower(): ["93.184.216.34"]})

    with pytest.raises(EgressError) as error:
        check_url(f"http://{host}/computeMetadata/v1/", resolver=dns)

    assert error.value.code == "egress_blocked_address"
    assert error.value.message == f"{host.lower()} is the name of a cloud metadata service."
    assert dns.calls == []


def test_unresolvable_host_is_a_dns_error():
    dns = FakeDNS({"empty.test": []})

    with pytest.raises(EgressError) as missing:
        check_url("http://nowhere.test/", resolver=dns)
    with pytest.raises(EgressError) as empty:
        check_url("http://empty.test/", resolver=dns)

    assert (missing.value.code, missing.value.message) == ("egress_dns", "nowhere.test cannot be resolved.")
    assert (empty.value.code, empty.value.message) == ("egress_dns", "empty.test cannot be resolved.")


def test_slow_dns_is_a_timeout(settings):
    settings.CORE_EGRESS_CONNECT_TIMEOUT = 0.2
    release = threading.Event()

    def hanging(host, port):
        release.wait(5)
        return ["93.184.216.34"]

    started = time.monotonic()
    with pytest.raises(EgressError) as error:
        check_url("http://slow.test/", resolver=hanging)
    elapsed = time.monotonic() - started
    release.set()

    assert (error.value.code, error.value.message) == (
        "egress_timeout",
        "Resolving slow.test took longer than 0.2 s.",
    )
    assert elapsed < 1


def test_allowed_networks_open_a_private_range(settings):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["10.20.0.0/16", "fd12:3456::/48"]
    dns = FakeDNS({"minio.internal": ["10.20.0.5", "fd12:3456::5"]})

    addresses = check_url("http://minio.internal:9000/bucket", resolver=dns)

    assert addresses == [ipaddress.ip_address("10.20.0.5"), ipaddress.ip_address("fd12:3456::5")]
    with pytest.raises(EgressError) as outside:
        check_url("http://10.21.0.5/")
    assert outside.value.message == "10.21.0.5 resolves to a private address (10.21.0.5)."


def test_allowed_networks_never_open_metadata_addresses(settings):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["169.254.0.0/16", "100.64.0.0/10"]

    assert check_url("http://169.254.1.1/") == [ipaddress.ip_address("169.254.1.1")]
    for address in ["169.254.169.254", "100.100.100.200"]:
        with pytest.raises(EgressError) as error:
            check_url(f"http://{address}/")
        assert error.value.message == f"{address} resolves to a cloud metadata address ({address})."


def test_allowed_ipv4_network_also_allows_its_ipv4_mapped_form(settings):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    assert check_url("http://[::ffff:127.0.0.1]/") == [ipaddress.ip_address("::ffff:127.0.0.1")]


def test_allowed_networks_are_empty_by_default_in_settings():
    from config.settings import base

    assert base.CORE_EGRESS_ALLOWED_NETWORKS == []
    assert (base.CORE_EGRESS_MAX_BYTES, base.CORE_EGRESS_CONNECT_TIMEOUT, base.CORE_EGRESS_TIMEOUT) == (
        50 * 1024 * 1024,
        5,
        30,
    )
    assert base.CORE_EGRESS_MAX_REDIRECTS == 5


def test_a_host_bit_in_an_allowed_network_is_a_configuration_error(settings):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["10.0.0.5/8"]

    with pytest.raises(ImproperlyConfigured) as error:
        check_url("http://10.0.0.5/")

    assert (
        str(error.value)
        == "CORE_EGRESS_ALLOWED_NETWORKS: '10.0.0.5/8' is not a network (10.0.0.5/8 has host bits set)."
    )


def test_system_resolver_answers_numeric_hosts_without_a_lookup():
    assert SYSTEM_RESOLVER("127.0.0.1", 80) == ["127.0.0.1"]
