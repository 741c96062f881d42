"""Quality end to end with a real Celery worker on Redis and PostgreSQL: annotations submitted over
the API are recomputed by the worker (agreement, consensus, gold scores, pausing, escalation, model
evaluation), the result is announced, and a broker outage delays the recompute without losing it."""

import pytest

from annotation.models import Item
from annotation.workflow.services.queue import predictions_import
from core.models import OutboxMessage
from core.services import outbox_relay
from projects import services as project_services
from projects.models import ProjectMembership
from quality import services
from quality.models import ConsensusResult, QualityRun
from tests.annotation.workflow_kit import make_lab
from tests.factories import ProjectMembershipFactory, UserFactory

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LABELS = ["positive", "negative", "neutral"]


def _label_over_api(lab, answer):
    for index, user in enumerate(lab.annotators):
        while True:
            assignment = lab.next(user)["assignment"]
            if assignment is None:
                break
            item_id = assignment["item"]["id"]
            response = lab.submit(
                user, assignment["id"], answer(index, item_id), idempotency_key=f"{user.pk}-{item_id}"
            )
            assert response.status_code == 201, response.content


def test_worker_computes_quality_and_acts_on_it(people, celery_worker):
    lab = make_lab(people, overlap=3, annotators=3, items=6)
    gold_item = lab.items[0]
    settings_ = dict(lab.project.settings)
    settings_["quality"] = {"min_gold_answers": 1, "escalate_below": 0.5}
    project_services.project_update(project=lab.project, actor=people.manager, settings=settings_)
    lab.project.refresh_from_db()
    predictions_import(
        project=lab.project,
        actor=people.manager,
        records=[
            {
                "item": i.id,
                "model": "m",
                "model_version": "1",
                "score": 0.5,
                "result": {"sentiment": "positive"},
            }
            for i in lab.items
        ],
    )

    # A fourth annotator who labels nothing here: escalation only asks for someone who exists.
    ProjectMembershipFactory(
        project=lab.project, user=UserFactory(username="spare"), role=ProjectMembership.Role.ANNOTATOR
    )
    # annotator 3 answers "neutral" everywhere, the others the item's truth; on the last item
    # everyone disagrees (low agreement: escalated)
    last = lab.items[-1]

    def answer(index, item_id):
        if item_id == last.id:
            return LABELS[index]
        return "neutral" if index == 2 else "positive"

    _label_over_api(lab, answer)
    first = wait_for(
        lambda: QualityRun.objects.filter(project=lab.project, status="done", annotations=18).first(),
        timeout=30,
        what="the worker's recompute after the submissions",
    )
    assert "quality_recompute_task[" in celery_worker.read_text()
    control = first.report["controls"][0]
    assert control["agreement"]["annotations"] == 18
    assert ConsensusResult.objects.get(item=lab.items[1], control="sentiment").answer == "positive"
    # the disagreed item got one more annotator, up to the limit
    wait_for(lambda: Item.objects.get(pk=last.id).target == 4, timeout=30, what="escalation")

    # gold: the reference says "positive"; annotator 3 answered "neutral" and gets paused
    services.gold_set(
        project=lab.project, actor=people.manager, item_id=gold_item.id, result={"sentiment": "positive"}
    )
    bad = lab.annotators[2]
    membership = wait_for(
        lambda: ProjectMembership.objects.filter(
            project=lab.project, user=bad, paused_at__isnull=False
        ).first(),
        timeout=30,
        what="the worker to pause the annotator below the gold threshold",
    )
    assert "gold" in membership.paused_reason
    report = QualityRun.objects.filter(project=lab.project, status="done").first().report
    scores = {row["username"]: row["gold_accuracy"] for row in report["annotators"]}
    assert scores[bad.username] == 0.0 and scores[lab.annotators[0].username] == 1.0
    assert any(m["model"] == "m" and m["against"] == "consensus" for m in report["models"])
    response = lab.client(bad).post(lab.url("queue/next/"))
    assert response.status_code == 409 and response.json()["code"] == "annotator_paused"


def test_broker_outage_delays_the_recompute_without_losing_it(people, celery_worker, settings):
    from config.celery import app

    def use_broker(url):
        from kombu import pools

        app.conf.update(broker_url=url)
        app.pool.force_close_all()
        app._pool = None  # Celery and kombu cache connection and producer pools of the old URL
        app.amqp._producer_pool = None
        pools.reset()

    lab = make_lab(people, overlap=1, annotators=1, items=2)
    working = app.conf.broker_url
    use_broker("redis://127.0.0.1:1/0")  # nothing listens there: the broker is "down"
    try:
        assignment = lab.next(people.annotator)["assignment"]
        response = lab.submit(people.annotator, assignment["id"], "negative")
        assert response.status_code == 201  # the annotation is accepted
        pending = OutboxMessage.objects.get(
            task_name="quality.tasks.quality_recompute_task", dispatched_at__isnull=True
        )
        assert pending.attempts >= 1 and pending.last_error
        assert not QualityRun.objects.filter(project=lab.project).exists()
    finally:
        use_broker(working)
    OutboxMessage.objects.filter(pk=pending.pk).update(next_attempt_at=pending.created_at)
    sent = outbox_relay()
    assert sent >= 1, OutboxMessage.objects.get(pk=pending.pk).last_error
    run = wait_for(
        lambda: QualityRun.objects.filter(project=lab.project, status="done").first(),
        timeout=30,
        what="the recompute once the broker is back",
    )
    assert run.annotations == 1
