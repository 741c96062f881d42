import pytest
from django.test import Client

from core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_password_change_is_audited_and_keeps_the_session():
    user = UserFactory(username="carla")
    browser = Client()
    browser.force_login(user)

    response = browser.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-passphrase",
            "new_password2": "a-much-better-passphrase",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/password/done/"
    user.refresh_from_db()
    assert user.check_password("a-much-better-passphrase")
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.actor_id, event.target_id, event.organisation_id) == (user.id, str(user.id), None)
    assert browser.get("/projects/").status_code == 200  # still signed in
