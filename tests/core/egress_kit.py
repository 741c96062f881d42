"""Shared by the egress guard's tests (test_egress.py, test_egress_policy.py): an injected resolver
and the autouse fixture that makes the system resolver fail a test that reaches it with a name.
Import both names into a test module to use them (the fixture is autouse there)."""

import ipaddress
import socket

import pytest

from core import egress

SYSTEM_RESOLVER = egress.resolver.system_resolver


class FakeDNS:
    """An injected resolver: fixed answers per host (a list of answers is used one call at a time)."""

    def __init__(self, answers: dict[str, list[str] | list[list[str]]]):
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = self.answers[host]
        if answer and isinstance(answer[0], list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch, settings):
    def refuse(host, port):
        ipaddress.ip_address(host)  # numeric hosts are fine: getaddrinfo() does no lookup for them
        return SYSTEM_RESOLVER(host, port)

    monkeypatch.setattr(egress.resolver, "system_resolver", refuse)
    settings.CORE_EGRESS_ALLOWED_NETWORKS = []
