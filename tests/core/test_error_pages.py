"""Without DEBUG (the default, `make run` too) a crash shows our error page or JSON, never a traceback."""

import pytest
from django.test import Client
from django.urls import path

from config import urls as root_urls


def _boom(request):
    raise RuntimeError("secret-detail-in-traceback")


urlpatterns = [
    path("api/boom/", _boom),
    path("boom/", _boom),
    *root_urls.urlpatterns,
]
handler404 = root_urls.handler404
handler500 = root_urls.handler500


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_api_errors_are_json_without_details(client):
    response = client.get("/api/boom/")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert b"secret-detail" not in response.content


def test_page_errors_are_our_page_without_details(client):
    response = client.get("/boom/")

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"secret-detail" not in response.content
    assert b"Traceback" not in response.content
