"""Bucket sources against a real S3 endpoint (moto_server on 127.0.0.1): signed URLs, the API and
the page (services, sync, egress: test_bucket_sources.py). Every request to the bucket goes through
core.egress, so the tests allow 127.0.0.1/32."""

import hashlib
import hmac
import urllib.request
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

import pytest
from django.test import Client

from annotation.models import BucketSource, Item
from annotation.sources import services as services
from annotation.sources import sync
from annotation.sources.s3 import bucket_object_signed_url
from annotation.sources.sync import bucket_source_sync
from core.exceptions import DomainError
from core.models import OutboxMessage

from .conftest import NO_SKIPS, SECRET

pytestmark = pytest.mark.django_db


def _put(admin, key: str, body: bytes, bucket: str = "photos") -> str:
    return admin.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')


def _sync(source, capture) -> sync.BucketSyncResult:
    with capture(execute=True):
        return bucket_source_sync(source_id=source.id)


# --- Signed URLs ----------------------------------------------------------------------------------


def test_a_signed_url_serves_the_objects_bytes(
    people, s3, s3_endpoint, make_source, django_capture_on_commit_callbacks
):
    _put(s3, "field/cat.jpg", b"cat pixels")
    source = make_source()
    _sync(source, django_capture_on_commit_callbacks)
    item = Item.objects.get(project=people.project)

    url = bucket_object_signed_url(item=item, expires=60)
    body = urllib.request.urlopen(url).read()  # noqa: S310 - the test's loopback endpoint

    assert body == b"cat pixels"
    query = dict(parse_qsl(urlsplit(url).query))
    assert (query["X-Amz-Expires"], query["X-Amz-SignedHeaders"]) == ("60", "host")
    assert query["X-Amz-Credential"].startswith("testing/") and query["X-Amz-Credential"].endswith(
        "/us-east-1/s3/aws4_request"
    )
    # moto_server does not check query-string signatures, so check it here, independently of botocore.
    assert query["X-Amz-Signature"] == _sigv4_query_signature(url, SECRET)


def _sigv4_query_signature(url: str, secret: str) -> str:
    """AWS Signature Version 4 of a presigned GET URL, from the specification."""
    parts = urlsplit(url)
    params = sorted((k, v) for k, v in parse_qsl(parts.query) if k != "X-Amz-Signature")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params)
    canonical = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    query = dict(params)
    scope = query["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_the_most_specific_source_signs(people, s3, make_source):
    make_source(name="Whole bucket", prefix="", access_key_id="WHOLE", secret_access_key="w")
    make_source(name="Field", prefix="field/", access_key_id="FIELD", secret_access_key="f")
    item = Item(project=people.project, media_url="s3://photos/field/cat.jpg")

    url = bucket_object_signed_url(item=item)

    assert parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].startswith("FIELD/")


@pytest.mark.parametrize(
    ("media_url", "code"),
    [
        ("s3://photos/elsewhere/cat.jpg", "bucket_source_missing"),  # outside the source's prefix
        ("s3://other-bucket/field/cat.jpg", "bucket_source_missing"),
        ("https://example.com/cat.jpg", "not_bucket_media"),
        ("", "not_bucket_media"),
        ("s3://photos", "not_bucket_media"),
    ],
)
def test_objects_no_source_covers_are_never_signed(people, make_source, media_url, code):
    make_source()
    item = Item(project=people.project, media_url=media_url)

    with pytest.raises(DomainError) as error:
        bucket_object_signed_url(item=item)

    assert (error.value.code, error.value.status_code) == (code, 404)


def test_another_projects_source_never_signs(people, make_source):
    make_source()
    item = Item(project=people.other_project, media_url="s3://photos/field/cat.jpg")

    with pytest.raises(DomainError) as error:
        bucket_object_signed_url(item=item)

    assert error.value.code == "bucket_source_missing"


@pytest.mark.parametrize("expires", [0, 3601])
def test_signed_urls_are_short_lived(people, make_source, expires):
    make_source()

    with pytest.raises(ValueError, match="between 1 and 3600"):
        bucket_object_signed_url(
            item=Item(project=people.project, media_url="s3://photos/field/a.jpg"), expires=expires
        )


# --- API ------------------------------------------------------------------------------------------


def _url(project, suffix: str = "") -> str:
    return f"/api/projects/{project.id}/bucket-sources/{suffix}"


def _payload(s3_endpoint, **overrides) -> dict:
    values = {"name": "Field photos", "bucket": "photos", "prefix": "field/", "endpoint_url": s3_endpoint,
              "region": "us-east-1", "access_key_id": "testing", "secret_access_key": SECRET}  # fmt: skip
    return {**values, **overrides}


def test_api_never_returns_the_secret(people, s3, s3_endpoint, client_for):
    client = client_for(people.manager)

    created = client.post(_url(people.project), _payload(s3_endpoint), format="json")
    source_id = created.json()["id"]
    listed = client.get(_url(people.project))
    read = client.get(_url(people.project, f"{source_id}/"))
    changed = client.patch(
        _url(people.project, f"{source_id}/"), {"secret_access_key": "new-one"}, format="json"
    )

    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": source_id, "name": "Field photos", "bucket": "photos", "prefix": "field/",
        "endpoint_url": s3_endpoint, "region": "us-east-1", "access_key_id": "testing", "has_secret": True,
        "created_by": "manager", "created_at": body["created_at"], "updated_at": body["updated_at"],
        "last_synced_at": None, "last_sync_created": 0, "last_sync": None, "sync_progress": None,
        "provenance_source": None,
    }  # fmt: skip
    assert (listed.status_code, read.status_code, changed.status_code) == (200, 200, 200)
    for response in (created, listed, read, changed):
        assert SECRET.encode() not in response.content and b"new-one" not in response.content
        assert b"secret_access_key" not in response.content
    assert BucketSource.objects.get().secret_access_key == "new-one"


def test_api_sync_answers_202_with_the_outcome(people, s3, s3_endpoint, make_source, client_for,
                                               django_capture_on_commit_callbacks):  # fmt: skip
    _put(s3, "field/a.jpg", b"a")
    source = make_source()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people.manager).post(_url(people.project, f"{source.id}/sync/"))
    read = client_for(people.reviewer).get(_url(people.project, f"{source.id}/")).json()

    assert response.status_code == 202
    assert response.json()["id"] == source.id
    assert read["last_sync_created"] == 1 and read["sync_progress"] is None
    assert read["last_sync"] == {
        "status": "succeeded", "finished_at": read["last_sync"]["finished_at"], "listed": 1, "created": 1,
        "existing": 0, "skipped": NO_SKIPS, "code": "", "detail": "",
    }  # fmt: skip


def test_api_shows_the_last_failure(people, s3, make_source, client_for, django_capture_on_commit_callbacks):
    source = make_source(bucket="no-such-bucket")
    _sync(source, django_capture_on_commit_callbacks)

    body = client_for(people.manager).get(_url(people.project)).json()

    assert [(s["last_sync"]["status"], s["last_sync"]["code"], s["last_synced_at"]) for s in body] == [
        ("failed", "bucket_not_found", None)
    ]


@pytest.mark.parametrize(
    ("role", "create", "read", "write"),
    [
        ("org_admin", 201, 200, 200),
        ("manager", 201, 200, 200),
        ("reviewer", 403, 200, 403),
        ("annotator", 403, 403, 403),
        ("org_member", 404, 404, 404),
        ("outsider", 404, 404, 404),
    ],
)
def test_api_access_matrix(people, s3, s3_endpoint, make_source, client_for, role, create, read, write):
    source = make_source(name="Existing")
    client = client_for(people.by_role(role))

    created = client.post(_url(people.project), _payload(s3_endpoint), format="json")
    listed = client.get(_url(people.project))
    retrieved = client.get(_url(people.project, f"{source.id}/"))
    patched = client.patch(_url(people.project, f"{source.id}/"), {"region": "eu-west-1"}, format="json")
    synced = client.post(_url(people.project, f"{source.id}/sync/"))
    deleted = client.delete(_url(people.project, f"{source.id}/"))

    assert created.status_code == create
    assert (listed.status_code, retrieved.status_code) == (read, read)
    assert (patched.status_code, synced.status_code) == (write, 202 if write == 200 else write)
    assert deleted.status_code == (204 if write == 200 else write)
    if write != 200:
        assert BucketSource.objects.get(pk=source.id).region == "us-east-1"


def test_api_refuses_bad_input_with_its_code(people, s3, s3_endpoint, client_for, settings):
    client = client_for(people.manager)
    settings.CORE_EGRESS_ALLOWED_NETWORKS = []

    blocked = client.post(_url(people.project), _payload(s3_endpoint), format="json")
    typo = client.post(_url(people.project), {**_payload(s3_endpoint), "secret": "x"}, format="json")
    bad_bucket = client.post(_url(people.project), _payload("", bucket="Bad_Bucket"), format="json")

    assert (blocked.status_code, blocked.json()["code"]) == (400, "egress_blocked_address")
    assert (typo.status_code, typo.json()["code"]) == (400, "unknown_field")
    assert (bad_bucket.status_code, bad_bucket.json()["code"]) == (400, "invalid_bucket")
    assert BucketSource.objects.count() == 0


def test_another_projects_source_is_not_found(people, s3, make_source, client_for):
    source = make_source()

    response = client_for(people.outsider).get(
        f"/api/projects/{people.other_project.id}/bucket-sources/{source.id}/"
    )

    assert (response.status_code, response.json()) == (404, {"code": "not_found", "detail": "Not found."})


def test_schema_documents_the_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    paths = schema["paths"]
    assert set(paths["/api/projects/{project_pk}/bucket-sources/{id}/"]) == {"get", "patch", "delete"}
    assert "202" in paths["/api/projects/{project_pk}/bucket-sources/{id}/sync/"]["post"]["responses"]
    output = schema["components"]["schemas"]["BucketSourceOutput"]["properties"]
    assert "secret_access_key" not in output and "has_secret" in output


# --- Page -----------------------------------------------------------------------------------------


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_manager_sees_sources_with_sync_button_and_form(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    source = make_source()
    _sync(make_source(name="Broken", bucket="no-such-bucket"), django_capture_on_commit_callbacks)

    response = _page(people.manager).get(f"/projects/{people.project.id}/data/sources/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'action="/projects/{people.project.id}/data/sources/{source.id}/sync/"' in page
    assert 'id="source-form"' in page and "s3://photos/field/" in page
    assert "There is no bucket named no-such-bucket at this endpoint (HTTP 404)." in page
    assert SECRET not in page


def test_reviewer_reads_without_forms_and_annotator_is_refused(people, s3, make_source):
    make_source()

    reviewer = _page(people.reviewer).get(f"/projects/{people.project.id}/data/sources/")
    annotator = _page(people.annotator).get(f"/projects/{people.project.id}/data/sources/")

    assert reviewer.status_code == 200 and "Field photos" in reviewer.content.decode()
    assert "Sync now" not in reviewer.content.decode() and 'id="source-form"' not in reviewer.content.decode()
    assert annotator.status_code == 403


def test_page_adds_a_source_and_requests_a_sync(people, s3, s3_endpoint, django_capture_on_commit_callbacks):
    client = _page(people.manager)
    url = f"/projects/{people.project.id}/data/sources/"

    added = client.post(url, _payload(s3_endpoint))
    source = BucketSource.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        synced = client.post(f"{url}{source.id}/sync/")
    invalid = client.post(url, _payload(s3_endpoint, name="Other", bucket="x"))

    assert (added.status_code, added["Location"]) == (302, url)
    assert (synced.status_code, synced["Location"]) == (302, url)
    assert OutboxMessage.objects.filter(kwargs={"source_id": source.id}).count() == 1
    assert invalid.status_code == 400 and "Bucket names have 3 to 63 characters" in invalid.content.decode()
    assert BucketSource.objects.count() == 1


def test_reviewer_cannot_post_to_the_page(people, s3, s3_endpoint, make_source):
    source = make_source()
    client = _page(people.reviewer)

    add = client.post(f"/projects/{people.project.id}/data/sources/", _payload(s3_endpoint, name="Mine"))
    sync = client.post(f"/projects/{people.project.id}/data/sources/{source.id}/sync/")
    delete = client.post(f"/projects/{people.project.id}/data/sources/{source.id}/delete/")

    assert (add.status_code, sync.status_code, delete.status_code) == (403, 403, 403)
    assert BucketSource.objects.count() == 1 and not OutboxMessage.objects.exists()
