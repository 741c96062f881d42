import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_reports_every_part_ok():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "storage": "ok"}}


def test_names_the_failing_part(monkeypatch):
    def broken():
        raise ConnectionError("connection refused")

    monkeypatch.setitem(__import__("core.health", fromlist=["CHECKS"]).CHECKS, "broker", broken)

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "error: ConnectionError: connection refused", "storage": "ok"},
    }
