"""Fixtures the annotation tests share: a moto S3 endpoint with a "photos" bucket, and bucket sources
on it (the bucket-source service tests and their URL/API tests)."""

import urllib.request

import boto3
import pytest

from annotation.models import BucketSource
from annotation.sources.services import bucket_source_create

LIMIT = 1000  # ANNOTATION_BUCKET_MAX_OBJECT_BYTES in these tests
SECRET = "s3cr3t-never-echoed"
NO_SKIPS = {"folders": 0, "empty": 0, "too_large": 0, "unsupported": 0, "invalid_key": 0, "erased_content": 0}
INTERNAL_HOST = "minio.storage.svc.cluster.local"  # moto treats *.svc.cluster.local as path-style


def _post(url: str, body: bytes = b"") -> None:
    # text/plain: moto reads the raw body (as form data it would see nothing)
    headers = {"Content-Type": "text/plain"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    urllib.request.urlopen(request)  # noqa: S310 - loopback


@pytest.fixture
def s3(s3_endpoint, settings):
    """A fresh moto state with a "photos" bucket; S3 requests allowed to loopback, over http."""
    _post(f"{s3_endpoint}/moto-api/reset")
    _post(f"{s3_endpoint}/moto-api/reset-auth", b"inf")
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.ANNOTATION_BUCKET_ALLOW_HTTP = True
    settings.ANNOTATION_BUCKET_MAX_OBJECT_BYTES = LIMIT
    admin = _admin_client(s3_endpoint, "s3")
    admin.create_bucket(Bucket="photos")
    yield admin
    _post(f"{s3_endpoint}/moto-api/reset-auth", b"inf")


def _admin_client(endpoint: str, service: str):
    """The test's own client, straight to moto (test setup, not product code)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@pytest.fixture
def make_source(people, s3_endpoint, s3):
    def make(**overrides) -> BucketSource:
        values = {
            "name": "Field photos",
            "bucket": "photos",
            "prefix": "field/",
            "endpoint_url": s3_endpoint,
            "region": "us-east-1",
            "access_key_id": "testing",
            "secret_access_key": SECRET,
            **overrides,
        }
        return bucket_source_create(project=people.project, actor=people.manager, **values)

    return make
