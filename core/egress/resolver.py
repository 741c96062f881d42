"""Resolving a host once and checking every address it resolves to against the policy; the
addresses returned are the only ones a request may connect to (no DNS rebinding)."""

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable

from .policy import METADATA_HOSTS, EgressError, IPAddress, IPNetwork, Target, blocked_kind, show_address

logger = logging.getLogger("core.egress")


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def resolve_allowed(
    target: Target, *, resolver: Resolver, allowed: list[IPNetwork], timeout: float
) -> list[IPAddress]:
    if target.literal is not None:
        addresses = [target.literal]
    else:
        if target.host.removesuffix(".") in METADATA_HOSTS:
            logger.warning("egress blocked: %s is a cloud metadata name", target.host)
            raise EgressError(
                "egress_blocked_address", f"{target.host} is the name of a cloud metadata service."
            )
        addresses = resolve_addresses(target.host, target.port, resolver=resolver, timeout=timeout)
    for address in addresses:
        kind = blocked_kind(address, allowed=allowed)
        if kind is not None:
            shown = show_address(address)
            logger.warning("egress blocked: %s resolves to %s (%s)", target.host, shown, kind)
            article = "an" if kind[0] in "aeiou" else "a"
            raise EgressError(
                "egress_blocked_address", f"{target.host} resolves to {article} {kind} address ({shown})."
            )
    return addresses


def resolve_addresses(host: str, port: int, *, resolver: Resolver, timeout: float) -> list[IPAddress]:
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
