"""A real Celery worker on Redis runs jobs that write to PostgreSQL; its websocket events reach
clients through the Redis channel layer."""

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from core.models import OutboxMessage
from projects import services
from projects.models import ProjectStats
from projects.routing import websocket_urlpatterns

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_refreshes_project_stats_written_to_postgres(people, celery_worker):
    project = people.project
    ProjectStats.objects.filter(project=project).delete()

    services.project_member_add(project=project, actor=people.manager, username="org_member", role="reviewer")

    stats = wait_for(
        lambda: ProjectStats.objects.filter(project=project).first(), what="the worker to write ProjectStats"
    )
    assert stats.as_dict() == {
        "members": 4,
        "managers": 1,
        "reviewers": 2,
        "annotators": 1,
        "schema_versions": 0,
        "guideline_versions": 0,
    }
    message = OutboxMessage.objects.get(
        task_name="projects.tasks.project_stats_refresh_task", kwargs={"project_id": project.id}
    )
    assert message.dispatched_at is not None
    assert message.attempts == 1
    assert "project_stats_refresh_task[" in celery_worker.read_text()


def test_websocket_receives_event_sent_by_worker_through_redis(
    people, celery_worker, redis_url, isolated_names
):
    project = people.project
    redis_layer = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": isolated_names["channels_prefix"]},
        }
    }

    async def scenario():
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/projects/{project.id}/")
        communicator.scope["user"] = people.annotator
        connected, _ = await communicator.connect(timeout=10)
        assert connected
        assert await communicator.receive_json_from(timeout=10) == {
            "type": "feed.ready",
            "data": {"project_id": project.id},
        }

        from asgiref.sync import sync_to_async

        # The write happens here; only the worker computes stats and sends project.stats_updated.
        await sync_to_async(services.guideline_version_create)(
            project=project, actor=people.manager, body="Be kind."
        )
        seen = []
        while True:
            event = await communicator.receive_json_from(timeout=20)
            seen.append(event["type"])
            if event["type"] == "project.stats_updated":
                break
        await communicator.disconnect()
        return seen, event

    with override_settings(CHANNEL_LAYERS=redis_layer):
        seen, event = async_to_sync(scenario)()

    assert seen[-1] == "project.stats_updated"
    assert event["data"] == {
        "project_id": project.id,
        "stats": {
            "members": 3,
            "managers": 1,
            "reviewers": 1,
            "annotators": 1,
            "schema_versions": 0,
            "guideline_versions": 1,
        },
    }
