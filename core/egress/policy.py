"""The egress policy: which URLs are well-formed enough to request, which addresses are never
reachable (private, loopback, link-local, metadata ... unless CORE_EGRESS_ALLOWED_NETWORKS allows
them), and the limits of a request. Standard library only, besides the settings it reads."""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.exceptions import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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


METADATA_HOSTS = frozenset(
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
class Target:
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
class Limits:
    max_bytes: int
    timeout: float  # seconds, whole request including redirects
    connect_timeout: float  # seconds per connection attempt (and per DNS lookup)
    max_redirects: int


def invalid_url(message: str) -> EgressError:
    return EgressError("egress_invalid_url", message)


def parse_url(url: str) -> Target:
    if _FORBIDDEN_URL_CHARS.search(url):
        raise invalid_url("The URL contains whitespace, control characters or a backslash.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise invalid_url(f"The URL cannot be parsed ({error}).") from error
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise EgressError("egress_scheme", f"Only http and https URLs are allowed, not {shown}.")
    if "@" in parts.netloc:
        raise invalid_url("URLs with a user name or password are not allowed.")
    if not parts.hostname:
        raise invalid_url("The URL has no host.")
    if port == 0:
        raise invalid_url("The URL's port must be between 1 and 65535.")
    host, literal = _parse_host(parts.hostname, bracketed=parts.netloc.startswith("["))
    request_target = _ascii_target(parts.path or "/") + (
        f"?{_ascii_target(parts.query)}" if parts.query else ""
    )
    return Target(
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
            raise invalid_url(f"{hostname} is not a valid IPv6 address.") from error
        return hostname, address
    try:
        host = hostname.encode("idna").decode("ascii") if not hostname.isascii() else hostname
    except UnicodeError as error:
        raise invalid_url("The URL's host is not a valid internationalised domain name.") from error
    host = host.lower()
    labels = host.removesuffix(".").split(".")
    if len(host) > 254 or not all(_HOST_LABEL.match(label) for label in labels):
        raise invalid_url(f"{host} is not a valid host name.")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            return host, ipaddress.IPv4Address(host.removesuffix("."))
        except ValueError as error:
            raise invalid_url(
                f"{host} is not a valid IPv4 address; write addresses as four decimal numbers."
            ) from error
    return host, None


def _ascii_target(text: str) -> str:
    # Percent-encode only non-ASCII characters; what the caller already encoded stays as it is.
    return "".join(char if char.isascii() else quote(char) for char in text)


def allowed_networks() -> list[IPNetwork]:
    networks = []
    for cidr in settings.CORE_EGRESS_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=True))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"CORE_EGRESS_ALLOWED_NETWORKS: {cidr!r} is not a network ({error})."
            ) from error
    return networks


def limits_for(*, max_bytes: int | None, timeout: float | None, max_redirects: int | None) -> Limits:
    return Limits(
        max_bytes=settings.CORE_EGRESS_MAX_BYTES if max_bytes is None else max_bytes,
        timeout=float(settings.CORE_EGRESS_TIMEOUT if timeout is None else timeout),
        connect_timeout=float(settings.CORE_EGRESS_CONNECT_TIMEOUT),
        max_redirects=settings.CORE_EGRESS_MAX_REDIRECTS if max_redirects is None else max_redirects,
    )


def blocked_kind(address: IPAddress, *, allowed: list[IPNetwork]) -> str | None:
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


def show_address(address: IPAddress) -> str:
    # Python 3.13 changed how str() prints IPv4-mapped addresses; keep messages stable.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return f"::ffff:{mapped}" if mapped is not None else str(address)


def too_large(host: str, max_bytes: int) -> EgressError:
    return EgressError("egress_too_large", f"The response from {host} is larger than {max_bytes} bytes.")
