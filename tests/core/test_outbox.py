from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app
from core.models import OutboxMessage
from core.services import outbox_dispatch, outbox_enqueue, outbox_relay

pytestmark = pytest.mark.django_db

TASK = "projects.tasks.project_stats_refresh_task"


@pytest.fixture
def broker(monkeypatch):
    """A fake broker: records published jobs, or refuses them while `down` is set."""

    class Broker:
        down = False
        sent: list = []

    fake = Broker()
    fake.sent = []

    def send_task(name, kwargs=None, **options):
        if fake.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        fake.sent.append((name, kwargs))

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    monkeypatch.setattr(app, "send_task", send_task)
    yield fake
    app.conf.task_always_eager = eager


def test_job_is_sent_only_after_commit(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = outbox_enqueue(task_name=TASK, kwargs={"project_id": 7})
        assert broker.sent == []

    assert len(callbacks) == 1
    assert broker.sent == [(TASK, {"project_id": 7})]
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert message.attempts == 1


def test_rolled_back_write_sends_nothing(broker, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_enqueue(task_name=TASK, kwargs={"project_id": 7})
        raise RuntimeError("the write failed")

    assert broker.sent == []
    assert OutboxMessage.objects.count() == 0


def test_broker_outage_keeps_job_pending_until_relay(broker, django_capture_on_commit_callbacks):
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(task_name=TASK, kwargs={"project_id": 7})

    message.refresh_from_db()
    assert message.dispatched_at is None
    assert message.attempts == 1
    assert (
        message.last_error == "ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused."
    )
    assert message.next_attempt_at > timezone.now()
    assert outbox_relay() == 0  # not due yet: backoff

    broker.down = False
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox_relay() == 1

    message.refresh_from_db()
    assert broker.sent == [(TASK, {"project_id": 7})]
    assert message.dispatched_at is not None
    assert message.attempts == 2
    assert message.last_error == ""


def test_dispatch_twice_sends_once(broker):
    message = OutboxMessage.objects.create(
        task_name=TASK, kwargs={"project_id": 1}, next_attempt_at=timezone.now()
    )

    first = outbox_dispatch(message_id=message.id)
    second = outbox_dispatch(message_id=message.id)

    assert (first, second) == (True, False)
    assert broker.sent == [(TASK, {"project_id": 1})]


def test_relay_sends_due_messages_in_order(broker):
    now = timezone.now()
    due = [
        OutboxMessage.objects.create(task_name=TASK, kwargs={"project_id": n}, next_attempt_at=now)
        for n in (1, 2)
    ]
    OutboxMessage.objects.create(
        task_name=TASK, kwargs={"project_id": 3}, next_attempt_at=now + timedelta(hours=1)
    )

    sent = outbox_relay()

    assert sent == 2
    assert broker.sent == [(TASK, {"project_id": 1}), (TASK, {"project_id": 2})]
    assert set(OutboxMessage.objects.filter(dispatched_at__isnull=False).values_list("pk", flat=True)) == {
        m.pk for m in due
    }
