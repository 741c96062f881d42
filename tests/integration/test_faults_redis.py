"""Redis stopped under a running app (a Redis the test owns, never the shared one): labeling keeps
working, creating a job answers 202 and the job runs once Redis is back, nothing is half-done."""

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from core.models import OutboxMessage
from core.services import outbox_relay
from exports.models import Release
from tests.annotation.workflow_kit import make_lab

from .fault_kit import owned_redis  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_on_owned_redis(owned_redis, settings):  # noqa: F811
    """This process uses the owned Redis for the cache, the channel layer and the broker, as a web
    process in production does (core.cache.ResilientRedisCache is the production cache backend)."""
    from config.celery import app

    settings.REDIS_URL = owned_redis.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")}
    app.conf.update(task_always_eager=False, broker_url=owned_redis.url, task_default_queue="tessera-faults")
    _reset_pools(app)  # producer pools made for another broker must not be reused
    layer = {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [owned_redis.url]}}
    layers = {"default": layer}
    caches = {"default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": owned_redis.url}}
    try:
        with override_settings(CACHES=caches, CHANNEL_LAYERS=layers):
            yield owned_redis
    finally:
        _reset_pools(app)
        app.conf.update(**previous)


def _reset_pools(app) -> None:
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


def _queued(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return client.llen("tessera-faults")
    finally:
        client.close()


def test_next_item_and_submit_keep_working_while_redis_is_down(people, app_on_owned_redis):
    redis_server = app_on_owned_redis
    lab = make_lab(people, items=4)
    a = lab.annotators[0]
    first = lab.next(a)["assignment"]  # Redis up: the queue cursor is cached

    redis_server.stop()
    submitted = lab.submit(a, first["id"])
    assert submitted.status_code in (200, 201), submitted.content
    again = lab.client(a).post(lab.url("queue/next/"))
    assert again.status_code == 200, again.content  # was a 500: the queue cursor lives in the cache
    second = again.json()["assignment"]
    assert second["item"]["id"] == lab.items[1].id
    assert lab.submit(a, second["id"]).status_code in (200, 201)
    other = lab.client(lab.annotators[1]).post(lab.url("queue/next/"))
    assert other.status_code == 200, other.content
    assert other.json()["assignment"]["item"]["id"] == lab.items[2].id

    # The jobs the submissions scheduled (quality recompute) wait in the outbox, none is lost.
    pending = OutboxMessage.objects.filter(dispatched_at__isnull=True)
    assert pending.exists()
    assert all(message.last_error for message in pending)

    redis_server.start()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_relay() >= 1
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    assert _queued(redis_server.url) >= 1


def test_release_created_while_redis_is_down_is_accepted_and_built_later(people, app_on_owned_redis):
    redis_server = app_on_owned_redis
    lab = make_lab(people, items=2)
    manager = lab.client(people.manager)

    redis_server.stop()
    response = manager.post(lab.url("releases/"), {"name": "v1", "formats": ["jsonl"]}, format="json")
    # Either 202 with the job recorded in the outbox, or a clean 503 with nothing created.
    assert response.status_code == 202, response.content
    release = Release.objects.get(project=lab.project, number=1)
    message = OutboxMessage.objects.get(task_name="exports.tasks.release_build_task")
    assert message.kwargs == {"release_id": release.id}
    assert message.dispatched_at is None and message.last_error

    listed = manager.get(lab.url("releases/"))
    assert listed.status_code == 200, listed.content

    redis_server.start()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_relay() >= 1
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert _queued(redis_server.url) >= 1


def test_sign_in_fails_closed_with_503_while_redis_is_down(people, app_on_owned_redis):
    """The sign-in lockout is a security control: without its counters, sign-in answers 503 (with
    Retry-After), it does not switch the lockout off."""
    app_on_owned_redis.stop()
    client = Client(raise_request_exception=False)  # as a server answers: through handler500
    response = client.post("/login/", {"username": people.annotator.username, "password": "wrong"})
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"service_unavailable" in response.content
