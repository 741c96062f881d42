"""Bucket sources against a real S3 endpoint (moto_server on 127.0.0.1): services, sync, signed URLs,
API and page. Every request to the bucket goes through core.egress, so the tests allow 127.0.0.1/32."""

import hashlib
import json
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from django.db import connection

from annotation.models import BucketSource, Item
from annotation.sources import s3 as source_s3
from annotation.sources import services as services
from annotation.sources import sync
from annotation.sources.services import bucket_source_sync_request, bucket_source_update
from annotation.sources.sync import bucket_source_sync
from core import egress
from core.exceptions import DomainError
from core.models import AuditEvent, OutboxMessage

from .conftest import INTERNAL_HOST, LIMIT, NO_SKIPS, SECRET, _admin_client, _post

pytestmark = pytest.mark.django_db


@pytest.fixture
def dns(monkeypatch):
    """Fake DNS for core.egress: host -> list of answers, consumed one lookup at a time (the last repeats)."""
    answers: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        queue = answers[host]
        return [queue.pop(0) if len(queue) > 1 else queue[0]]

    monkeypatch.setattr(egress.resolver, "system_resolver", resolve)
    return answers


@pytest.fixture
def events(monkeypatch):
    """Project feed events, in order: progress is sent at once, completion after commit."""
    sent: list[tuple[str, str, dict]] = []

    def record(group, event_type, data):
        sent.append((group, event_type, json.loads(json.dumps(data, default=str))))

    monkeypatch.setattr(sync, "broadcast", record)
    monkeypatch.setattr("core.realtime.broadcast", record)
    return sent


def _put(admin, key: str, body: bytes, bucket: str = "photos") -> str:
    return admin.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')


def _items(project) -> list[tuple]:
    return list(
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list("external_id", "data", "media_url", "media_type", "media_bytes", "source", "source_ref")
    )


def _sync(source, capture) -> sync.BucketSyncResult:
    with capture(execute=True):
        return bucket_source_sync(source_id=source.id)


def _result(**values) -> dict:
    return {"status": "succeeded", "listed": 0, "created": 0, "existing": 0, "code": "", "detail": "",
            "skipped": dict(NO_SKIPS), **values}  # fmt: skip


def _as_dict(result) -> dict:
    return {key: value for key, value in vars(result).items() if key != "source_id"}


@contextmanager
def moto_authentication(endpoint: str):
    """Make moto check signatures and IAM policies (it accepts anything by default)."""
    _post(f"{endpoint}/moto-api/reset-auth", b"0")
    try:
        yield
    finally:
        _post(f"{endpoint}/moto-api/reset-auth", b"inf")


def _iam_key(endpoint: str) -> tuple[str, str]:
    """An IAM user in moto allowed exactly what docs/SOURCES.md asks for: ListBucket and GetObject."""
    iam = _admin_client(endpoint, "iam")
    iam.create_user(UserName="tessera")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::photos"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"},
        ],
    }
    iam.put_user_policy(UserName="tessera", PolicyName="read-photos", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="tessera")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


# --- Sync -----------------------------------------------------------------------------------------


def test_sync_creates_one_item_per_supported_object(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    cat_etag = _put(s3, "field/cat.jpg", b"cat pixels")
    _put(s3, "field/dog.PNG", b"dog pixels")
    _put(s3, "field/notes.txt", b"some notes")
    _put(s3, "field/sub/", b"")  # a "folder" as the S3 console makes them
    _put(s3, "field/empty.jpg", b"")
    _put(s3, "field/huge.png", b"x" * (LIMIT + 1))
    _put(s3, "field/readme", b"no extension")
    _put(s3, "elsewhere/outside.jpg", b"not under the prefix")
    source = make_source()

    result = _sync(source, django_capture_on_commit_callbacks)

    assert _as_dict(result) == _result(
        listed=7,
        created=3,
        skipped={**NO_SKIPS, "folders": 1, "empty": 1, "too_large": 1, "unsupported": 1},
    )
    assert _items(people.project) == [
        ("s3://photos/field/cat.jpg", {"file": "field/cat.jpg", "media_type": "image"},
         "s3://photos/field/cat.jpg", "image", 10, "bucket", "s3://photos/field/cat.jpg"),
        ("s3://photos/field/dog.PNG", {"file": "field/dog.PNG", "media_type": "image"},
         "s3://photos/field/dog.PNG", "image", 10, "bucket", "s3://photos/field/dog.PNG"),
        ("s3://photos/field/notes.txt", {"file": "field/notes.txt", "media_type": "text"},
         "s3://photos/field/notes.txt", "text", 10, "bucket", "s3://photos/field/notes.txt"),
    ]  # fmt: skip
    cat = Item.objects.get(external_id="s3://photos/field/cat.jpg")
    assert (
        cat.checksum
        == hashlib.sha256(f"s3-object\ns3://photos/field/cat.jpg\n{cat_etag}".encode()).hexdigest()
    )
    assert cat.content_hash == hashlib.sha256(f"s3-etag\n{cat_etag}\n10".encode()).hexdigest()
    assert (cat.import_job_id, cat.media.name, cat.search_text) == (None, "", "field/cat.jpg image")
    source.refresh_from_db()
    assert source.last_synced_at is not None and source.last_sync_created == 3
    audit = AuditEvent.objects.get(action="bucket_source.synced")
    assert (audit.actor_label, audit.target_id, audit.project_id) == (
        "system",
        str(source.id),
        people.project.id,
    )
    assert audit.changes == {
        "listed": 7, "created": 3, "existing": 0,
        "skipped": {**NO_SKIPS, "folders": 1, "empty": 1, "too_large": 1, "unsupported": 1},
    }  # fmt: skip


def test_resync_creates_nothing_and_then_only_new_objects(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    _put(s3, "field/b.jpg", b"b")
    source = make_source()
    _sync(source, django_capture_on_commit_callbacks)
    first_ids = list(Item.objects.filter(project=people.project).values_list("id", flat=True))

    again = _sync(source, django_capture_on_commit_callbacks)
    _put(s3, "field/c.mp3", b"c")
    later = _sync(source, django_capture_on_commit_callbacks)

    assert _as_dict(again) == _result(listed=2, existing=2)
    assert _as_dict(later) == _result(listed=3, created=1, existing=2)
    assert list(Item.objects.filter(project=people.project).exclude(id__in=first_ids).values_list(
        "external_id", "media_type")) == [("s3://photos/field/c.mp3", "audio")]  # fmt: skip
    source.refresh_from_db()
    assert source.last_sync_created == 1


def test_the_same_bytes_under_two_keys_are_one_item(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    _put(s3, "field/a/cat.jpg", b"identical bytes")
    _put(s3, "field/b/cat-copy.jpg", b"identical bytes")  # same ETag: exact content dedup
    source = make_source()

    result = _sync(source, django_capture_on_commit_callbacks)

    assert (result.listed, result.created, result.existing) == (2, 1, 1)
    assert [row[0] for row in _items(people.project)] == ["s3://photos/field/a/cat.jpg"]


def test_an_empty_prefix_syncs_the_whole_bucket_in_batches(
    people, s3, make_source, settings, django_capture_on_commit_callbacks
):
    settings.ANNOTATION_BUCKET_SYNC_BATCH = 2  # three transactions for five objects
    for n in range(5):
        _put(s3, f"{n}.json", f'{{"n": {n}}}'.encode())
    source = make_source(prefix="")

    result = _sync(source, django_capture_on_commit_callbacks)

    assert (result.listed, result.created) == (5, 5)
    assert [row[0] for row in _items(people.project)] == [f"s3://photos/{n}.json" for n in range(5)]


def test_progress_and_completion_reach_the_project_feed(
    people, s3, make_source, events, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(sync, "PROGRESS_SECONDS", 3600)  # only the per-batch event, whatever the speed
    _put(s3, "field/a.jpg", b"a")
    source = make_source()

    _sync(source, django_capture_on_commit_callbacks)

    group = f"project.{people.project.id}"
    assert events == [
        (group, "bucket_source.sync_progress",
         {"project_id": people.project.id, "source_id": source.id, "phase": "listing", "listed": 1,
          "created": 1}),
        (group, "bucket_source.synced",
         {"project_id": people.project.id, "name": "Field photos", "source_id": source.id,
          **_result(listed=1, created=1)}),
    ]  # fmt: skip


def test_sync_request_queues_the_sync_after_commit(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    source = make_source()

    with django_capture_on_commit_callbacks(execute=True):
        bucket_source_sync_request(source=source, actor=people.manager)

    message = OutboxMessage.objects.exclude(task_name="annotation.pii.detect").get()  # then the PII scan
    assert (message.task_name, message.kwargs) == ("annotation.tasks_sources.bucket_source_sync_task",
                                                   {"source_id": source.id})  # fmt: skip
    assert message.dispatched_at is not None  # eager in tests: the sync ran
    assert [row[0] for row in _items(people.project)] == ["s3://photos/field/a.jpg"]
    requested = AuditEvent.objects.get(action="bucket_source.sync_requested")
    assert requested.actor == people.manager


@pytest.mark.django_db(transaction=True)
def test_a_sync_waits_for_the_one_running(people, s3, make_source):
    _put(s3, "field/a.jpg", b"a")
    source = make_source()
    outcome = {}

    def run():
        try:
            outcome["result"] = bucket_source_sync(source_id=source.id)
        finally:
            connection.close()

    with sync._sync_lock(source.id):  # another sync of this source holds the lock
        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(1)
        assert worker.is_alive() and Item.objects.count() == 0
    worker.join(timeout=30)

    assert outcome["result"].created == 1
    assert Item.objects.count() == 1


# --- Egress and failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("169.254.169.254", f"{INTERNAL_HOST} resolves to a cloud metadata address (169.254.169.254)."),
        ("10.0.0.7", f"{INTERNAL_HOST} resolves to a private address (10.0.0.7)."),
    ],
)
def test_an_endpoint_that_now_resolves_inside_is_refused(
    people, s3, s3_endpoint, make_source, dns, address, message, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    port = urlsplit(s3_endpoint).port
    dns[INTERNAL_HOST] = ["127.0.0.1"]
    source = make_source(endpoint_url=f"http://{INTERNAL_HOST}:{port}")
    dns[INTERNAL_HOST] = [address]  # the name was re-pointed after the source was saved

    result = _sync(source, django_capture_on_commit_callbacks)

    assert _as_dict(result) == _result(status="failed", code="egress_blocked_address", detail=message)
    assert Item.objects.filter(project=people.project).count() == 0
    source.refresh_from_db()
    assert (source.last_synced_at, source.last_sync_created) == (None, 0)
    failure = AuditEvent.objects.get(action="bucket_source.sync_failed")
    assert (failure.actor_label, failure.changes["code"], failure.changes["detail"]) == (
        "system", "egress_blocked_address", message
    )  # fmt: skip


def test_every_request_is_checked_not_only_the_endpoint(
    people, s3, s3_endpoint, make_source, dns, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    port = urlsplit(s3_endpoint).port
    dns[INTERNAL_HOST] = ["127.0.0.1"]
    source = make_source(endpoint_url=f"http://{INTERNAL_HOST}:{port}")
    # DNS rebinding: the sync's own endpoint check still sees 127.0.0.1, the request's lookup does not.
    dns[INTERNAL_HOST] = ["127.0.0.1", "169.254.169.254"]

    result = _sync(source, django_capture_on_commit_callbacks)

    assert (result.status, result.code) == ("failed", "egress_blocked_address")
    assert Item.objects.filter(project=people.project).count() == 0


def test_a_loopback_endpoint_is_refused_once_the_operator_withdraws_it(
    people, s3, make_source, settings, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    source = make_source()
    settings.CORE_EGRESS_ALLOWED_NETWORKS = []

    result = _sync(source, django_capture_on_commit_callbacks)

    assert (result.status, result.code, result.detail) == (
        "failed", "egress_blocked_address", "127.0.0.1 resolves to a loopback address (127.0.0.1)."
    )  # fmt: skip
    assert Item.objects.filter(project=people.project).count() == 0


def test_real_credentials_sync_and_wrong_ones_fail_cleanly(
    people, s3, s3_endpoint, make_source, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    key, secret = _iam_key(s3_endpoint)
    source = make_source(access_key_id=key, secret_access_key=secret)

    with moto_authentication(s3_endpoint):
        signed = _sync(source, django_capture_on_commit_callbacks)  # SigV4 survives the egress transport
        source = bucket_source_update(source=source, actor=people.manager, secret_access_key="wrong-secret")
        refused = _sync(source, django_capture_on_commit_callbacks)

    assert (signed.status, signed.created) == ("succeeded", 1)
    assert _as_dict(refused) == _result(
        status="failed",
        code="bucket_access_denied",
        detail="The bucket photos refused the request (HTTP 403). Check the access key and secret, and that "
        "they allow s3:ListBucket on the bucket and s3:GetObject on its objects.",
    )
    source.refresh_from_db()
    assert source.last_sync_created == 0
    assert Item.objects.filter(project=people.project).count() == 1
    assert (
        AuditEvent.objects.get(action="bucket_source.sync_failed").changes["code"] == "bucket_access_denied"
    )


def test_a_missing_bucket_fails_with_its_name(people, s3, make_source, django_capture_on_commit_callbacks):
    source = make_source(bucket="no-such-bucket")

    result = _sync(source, django_capture_on_commit_callbacks)

    assert (result.status, result.code, result.detail) == (
        "failed", "bucket_not_found", "There is no bucket named no-such-bucket at this endpoint (HTTP 404)."
    )  # fmt: skip


def test_sync_of_a_removed_source_does_nothing(people, s3, make_source):
    source = make_source()
    services.bucket_source_delete(source=source, actor=people.manager)

    assert bucket_source_sync(source_id=source.id) is None
    assert not AuditEvent.objects.filter(action__startswith="bucket_source.sync").exists()


# --- Create and update ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"bucket": "ab"}, "invalid_bucket"),
        ({"bucket": "Photos"}, "invalid_bucket"),
        ({"bucket": "my..photos"}, "invalid_bucket"),
        ({"bucket": "192.168.1.10"}, "invalid_bucket"),
        ({"bucket": "xn--photos"}, "invalid_bucket"),
        ({"bucket": "photos-s3alias"}, "invalid_bucket"),
        ({"bucket": "-photos"}, "invalid_bucket"),
        ({"bucket": "under_score"}, "invalid_bucket"),
        ({"prefix": "/field/"}, "invalid_prefix"),
        ({"prefix": "field/\x00"}, "invalid_prefix"),
        ({"prefix": "é" * 513}, "invalid_prefix"),
        ({"endpoint_url": "ftp://127.0.0.1/"}, "invalid_endpoint"),
        ({"endpoint_url": "https://s3.example.com/photos"}, "invalid_endpoint"),
        ({"endpoint_url": "https://s3.example.com/?x=1"}, "invalid_endpoint"),
        ({"endpoint_url": "http://user:pw@127.0.0.1:9000"}, "egress_invalid_url"),
        ({"endpoint_url": "http://169.254.169.254"}, "egress_blocked_address"),
        ({"endpoint_url": "http://127.0.0.2:9000"}, "egress_blocked_address"),
        ({"region": "EU West"}, "invalid_region"),
        ({"secret_access_key": ""}, "invalid_credentials"),
        ({"access_key_id": ""}, "invalid_credentials"),
        ({"access_key_id": "has space"}, "invalid_credentials"),
        ({"name": "  "}, "invalid_name"),
    ],
)
def test_create_refuses_invalid_settings_and_changes_nothing(people, make_source, overrides, code):
    with pytest.raises(DomainError) as error:
        make_source(**overrides)

    assert error.value.code == code
    assert BucketSource.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="bucket_source").exists()


def test_http_endpoints_need_the_setting(make_source, settings):
    settings.ANNOTATION_BUCKET_ALLOW_HTTP = False

    with pytest.raises(DomainError) as error:
        make_source()

    assert (error.value.code, error.value.message) == (
        "invalid_endpoint",
        "The endpoint must be an https:// URL.",
    )


def test_a_public_bucket_is_read_without_any_credentials(
    people, s3, make_source, monkeypatch, django_capture_on_commit_callbacks
):
    _put(s3, "field/a.jpg", b"a")
    source = make_source(access_key_id="", secret_access_key="")
    sent = []
    original = source_s3._send_through_egress

    def spy(request, **kwargs):
        sent.append((request.method, request.headers.get("Authorization")))
        return original(request, **kwargs)

    monkeypatch.setattr(source_s3, "_send_through_egress", spy)
    result = _sync(source, django_capture_on_commit_callbacks)

    assert sent == [("GET", None)]  # unsigned: never the server's own AWS credentials
    assert result.created == 1


def test_the_secret_is_audited_only_as_present_or_changed(people, make_source):
    source = make_source()
    bucket_source_update(
        source=source, actor=people.manager, secret_access_key="rotated", prefix="field/2024/"
    )

    created, updated = AuditEvent.objects.filter(action__startswith="bucket_source").order_by("id")
    assert created.action == "bucket_source.created" and created.actor == people.manager
    assert created.changes == {
        "name": "Field photos", "bucket": "photos", "prefix": "field/", "endpoint_url": source.endpoint_url,
        "region": "us-east-1", "access_key_id": "testing", "has_secret": True,
    }  # fmt: skip
    assert updated.changes == {"prefix": ["field/", "field/2024/"], "secret_access_key": "changed"}
    assert SECRET not in json.dumps([created.changes, updated.changes])


def test_moving_the_endpoint_asks_for_the_secret_again(people, make_source, s3_endpoint, dns):
    source = make_source()
    dns[INTERNAL_HOST] = ["127.0.0.1"]
    moved = f"http://{INTERNAL_HOST}:{urlsplit(s3_endpoint).port}"

    with pytest.raises(DomainError) as error:
        bucket_source_update(source=source, actor=people.manager, endpoint_url=moved)
    updated = bucket_source_update(
        source=source, actor=people.manager, endpoint_url=moved, secret_access_key="s2"
    )

    assert error.value.code == "secret_required"
    assert (updated.endpoint_url, updated.secret_access_key) == (moved, "s2")


def test_names_are_unique_in_a_project(make_source):
    make_source()

    with pytest.raises(DomainError) as error:
        make_source(prefix="other/")

    assert (error.value.code, error.value.status_code) == ("name_taken", 409)


def test_an_archived_project_takes_no_sources_and_no_syncs(people, make_source):
    source = make_source()
    people.project.archived_at = people.project.created_at
    people.project.save()

    with pytest.raises(DomainError) as error:
        bucket_source_sync_request(source=source, actor=people.manager)

    assert (error.value.code, error.value.status_code) == ("project_archived", 409)
    assert not OutboxMessage.objects.exists()
