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


def test_unknown_api_route_answers_json_404():
    response = Client().get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_unknown_page_answers_html_404():
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "There is nothing here, or you do not have access to it." in response.content.decode()
