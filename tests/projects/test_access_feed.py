"""Who may see or do what on the websocket feed (the API matrix and the access functions:
test_access_matrix.py). The expected outcomes are written out here, independently of the tables in
projects/access.py, so a change to those tables has to be mirrored here on purpose."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from projects.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db

User = get_user_model()

NOT_FOUND = {"code": "not_found", "detail": "Not found."}
FORBIDDEN = {"code": "permission_denied", "detail": "Your role does not allow this."}
CREATE_CALLS = {"create_project", "create_project_from_labelstudio", "preview_labelstudio_config"}


# --- The world every matrix cell starts from ------------------------------------------------------


# --- The websocket feed ---------------------------------------------------------------------------


def _feed(user, project_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/projects/{project_id}/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["org_admin", "manager", "reviewer", "annotator"])
def test_feed_greets_members_with_ready(people, role):
    user = people.by_role(role)

    async def scenario():
        communicator = _feed(user, people.project.id)
        connected, _ = await communicator.connect()
        greeting = await communicator.receive_json_from()
        quiet = await communicator.receive_nothing()
        await communicator.disconnect()
        return connected, greeting, quiet

    connected, greeting, quiet = async_to_sync(scenario)()

    assert connected is True
    assert greeting == {"type": "feed.ready", "data": {"project_id": people.project.id}}
    assert quiet is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["org_member", "outsider", "anonymous", "inactive"])
def test_feed_closes_with_4404_for_non_members(people, role):
    if role == "anonymous":
        user = AnonymousUser()
    elif role == "inactive":
        user = people.manager
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:
        user = people.by_role(role)

    async def scenario():
        communicator = _feed(user, people.project.id)
        connected, _ = await communicator.connect()
        closing = await communicator.receive_output()
        quiet = await communicator.receive_nothing()
        await communicator.disconnect()
        return connected, closing, quiet

    connected, closing, quiet = async_to_sync(scenario)()

    assert connected is True  # accepted, so the browser sees the close code
    assert closing == {"type": "websocket.close", "code": 4404}
    assert quiet is True


@pytest.mark.django_db(transaction=True)
def test_feed_member_receives_member_added_after_the_api_commits(people, client_for):
    manager_client = client_for(people.manager)

    async def scenario():
        communicator = _feed(people.reviewer, people.project.id)
        await communicator.connect()
        greeting = await communicator.receive_json_from()
        response = await sync_to_async(manager_client.post)(
            f"/api/projects/{people.project.id}/members/",
            {"username": "org_member", "role": "annotator"},
            format="json",
        )
        event = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return greeting, response, event

    greeting, response, event = async_to_sync(scenario)()

    assert greeting["type"] == "feed.ready"
    assert response.status_code == 201
    assert event == {
        "type": "member.added",
        "data": {
            "project_id": people.project.id,
            "actor": "manager",
            "username": "org_member",
            "role": "annotator",
        },
    }


@pytest.mark.django_db(transaction=True)
def test_feed_of_another_project_hears_nothing(people, client_for):
    manager_client = client_for(people.manager)

    async def scenario():
        communicator = _feed(people.outsider, people.other_project.id)
        await communicator.connect()
        await communicator.receive_json_from()
        response = await sync_to_async(manager_client.post)(
            f"/api/projects/{people.project.id}/members/",
            {"username": "org_member", "role": "annotator"},
            format="json",
        )
        quiet = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return response, quiet

    response, quiet = async_to_sync(scenario)()

    assert response.status_code == 201
    assert quiet is True
