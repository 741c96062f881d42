"""Storage on a real S3 endpoint (moto's server on loopback): /healthz and signed URLs."""

import urllib.error
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from core.health import check_storage

pytestmark = pytest.mark.django_db


def test_healthz_checks_s3_storage(s3_storage):
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["storage"] == "ok"
    assert list(s3_storage.bucket.objects.all()) == []  # the probe cleans up after itself


def test_healthz_reports_a_missing_bucket(s3_storage):
    s3_storage.bucket.delete()

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == (
        "error: NoSuchBucket: An error occurred (NoSuchBucket) when calling the PutObject operation: "
        "The specified bucket does not exist"
    )


def test_media_urls_are_short_lived_signed_urls(s3_storage, s3_endpoint):
    name = s3_storage.save("items/1/image.png", ContentFile(b"\x89PNG fake"))

    signed = s3_storage.url(name)

    assert signed.startswith(f"{s3_endpoint}/tessera-test/items/1/image.png?")
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    assert urllib.request.urlopen(signed).read() == b"\x89PNG fake"  # noqa: S310 - loopback
    check_storage()  # still healthy with other objects present
