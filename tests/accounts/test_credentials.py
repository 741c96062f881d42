"""Credentials that outlive their welcome (issue #14): minting tokens from a session, and sessions and
tokens that survive a password change, sign-out everywhere or an admin's revocation.

Every test drives a real browser-like client: signed in through /login/, CSRF enforced, the CSRF
token sent in the header the way the frontend sends it. That is what script injected into a page
(XSS) can do, so it is the attacker model for token minting.
"""

import ast
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from rest_framework.test import APIClient

from accounts import reauth
from accounts.models import ApiToken
from accounts.services import api_token_create
from accounts.signals import credentials_revoked
from core.models import AuditEvent
from projects.models import OrganisationMembership
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "a-much-better-passphrase-42"


def browser(user, password: str = PASSWORD) -> Client:
    """A client signed in through the real sign-in page, with CSRF checks on."""
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    response = client.post(
        "/login/",
        {
            "username": user.username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content
    return client


def csrf(client: Client) -> str:
    return client.cookies["csrftoken"].value


def api_post(client: Client, path: str, body: dict | None = None):
    return client.post(
        path, json.dumps(body or {}), content_type="application/json", HTTP_X_CSRFTOKEN=csrf(client)
    )


def page_post(client: Client, path: str, data: dict | None = None):
    return client.post(path, {**(data or {}), "csrfmiddlewaretoken": csrf(client)})


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def signed_in(client: Client) -> bool:
    return client.get("/api/me/").status_code == 200


def token_works(key: str) -> bool:
    return bearer(key).get("/api/me/").status_code == 200


@pytest.fixture
def ada():
    return UserFactory(username="ada")


# --- 1. Minting a token needs recent authentication ----------------------------------------------


def test_a_signed_in_session_with_its_csrf_token_cannot_mint_a_token_without_the_password(ada):
    client = browser(ada)  # signing in is not a re-authentication

    response = api_post(client, "/api/tokens/", {"name": "xss-loot"})

    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_required"
    assert not ApiToken.objects.filter(user=ada).exists()
    assert not AuditEvent.objects.filter(action="api_token.created").exists()


def test_a_wrong_password_creates_nothing(ada):
    client = browser(ada)

    response = api_post(client, "/api/tokens/", {"name": "ci", "password": "not-my-password"})

    assert response.status_code == 403
    assert response.json() == {"code": "wrong_password", "detail": "That is not your current password."}
    assert not ApiToken.objects.filter(user=ada).exists()


def test_the_password_in_the_request_creates_the_token_and_is_audited(ada):
    client = browser(ada)

    response = api_post(client, "/api/tokens/", {"name": "ci", "password": PASSWORD})

    assert response.status_code == 201, response.content
    assert token_works(response.json()["key"])
    event = AuditEvent.objects.get(action="api_token.created")
    assert (event.actor_id, event.organisation_id) == (ada.id, None)
    assert event.changes == {"name": "ci", "via": "api", "reauth": "password"}


def test_a_recent_confirmation_counts_for_a_few_minutes_then_expires(ada, settings):
    settings.ACCOUNTS_REAUTH_SECONDS = 300
    client = browser(ada)
    assert api_post(client, "/api/tokens/", {"name": "one", "password": PASSWORD}).status_code == 201

    recent = api_post(client, "/api/tokens/", {"name": "two"})
    session = client.session
    session[reauth.SESSION_KEY] -= 301  # the confirmation is now older than the window
    session.save()
    expired = api_post(client, "/api/tokens/", {"name": "three"})

    assert recent.status_code == 201
    assert (
        AuditEvent.objects.get(action="api_token.created", changes__name="two").changes["reauth"] == "recent"
    )
    assert expired.status_code == 403
    assert expired.json()["code"] == "reauthentication_required"
    assert sorted(ApiToken.objects.filter(user=ada).values_list("name", flat=True)) == ["one", "two"]


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_fast_test"
    iterations = 2


def test_confirming_the_password_keeps_the_session_when_the_hash_is_upgraded(ada, settings):
    """check_password re-hashes a password stored with an older hasher; the session must survive it."""
    client = browser(ada)
    settings.PASSWORD_HASHERS = [
        f"{__name__}.FastPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    response = api_post(client, "/api/tokens/", {"name": "ci", "password": PASSWORD})

    ada.refresh_from_db()
    assert response.status_code == 201
    assert ada.password.startswith("pbkdf2_fast_test$")
    assert signed_in(client)


def test_an_api_token_cannot_mint_tokens_even_with_the_password(ada):
    _, key = api_token_create(user=ada, name="leaked")

    response = bearer(key).post("/api/tokens/", {"name": "successor", "password": PASSWORD}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "token_cannot_create_tokens"
    assert list(ApiToken.objects.filter(user=ada).values_list("name", flat=True)) == ["leaked"]


def test_token_creation_is_rate_limited_per_user_and_wrong_passwords_count(ada, settings):
    settings.ACCOUNTS_TOKEN_CREATE_MAX = 3
    client = browser(ada)
    other = browser(UserFactory(username="grace"))

    answers = [
        api_post(client, "/api/tokens/", {"name": "a", "password": "wrong"}).status_code,
        api_post(client, "/api/tokens/", {"name": "b", "password": "wrong"}).status_code,
        api_post(client, "/api/tokens/", {"name": "c", "password": PASSWORD}).status_code,
    ]
    throttled = api_post(client, "/api/tokens/", {"name": "d", "password": PASSWORD})
    someone_else = api_post(other, "/api/tokens/", {"name": "d", "password": PASSWORD})

    assert answers == [403, 403, 201]
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert someone_else.status_code == 201  # per user, not global
    assert list(ApiToken.objects.filter(user=ada).values_list("name", flat=True)) == ["c"]


def test_the_token_page_asks_for_the_password(ada):
    client = browser(ada)

    page = client.get("/account/tokens/")
    missing = page_post(client, "/account/tokens/", {"name": "notebook"})
    wrong = page_post(client, "/account/tokens/", {"name": "notebook", "password": "nope"})
    right = page_post(client, "/account/tokens/", {"name": "notebook", "password": PASSWORD})

    assert 'type="password" name="password"' in page.content.decode()
    assert missing.status_code == 400
    assert wrong.status_code == 403
    assert "That is not your current password." in wrong.content.decode()
    assert right.status_code == 200
    assert right.context["new_key"].startswith("tsr_")
    assert list(ApiToken.objects.filter(user=ada).values_list("name", flat=True)) == ["notebook"]
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.changes == {"name": "notebook", "via": "page", "reauth": "password"}


def _callers_of(function_name: str) -> list[tuple[Path, ast.FunctionDef]]:
    """Every function (outside tests) whose body calls `function_name`."""
    found = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "frontend", "bench", "node_modules"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call):
                        name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
                        if name == function_name:
                            found.append((path, node))
                            break
    return found


def test_every_adapter_that_creates_tokens_checks_reauth_and_the_rate_limit():
    """The class of bug: a new page, endpoint or consumer that mints tokens without re-authentication.
    Every non-service caller of api_token_create must also call reauth_require and the throttle.
    (Management commands and other trusted server-side callers must be listed here on purpose.)"""
    trusted: set[str] = set()
    callers = [(p, f) for p, f in _callers_of("api_token_create") if p.name != "services.py"]
    names = {f"{p.relative_to(ROOT).as_posix()}:{f.name}" for p, f in callers}

    assert names >= {"accounts/views.py:token_list", "accounts/api/views.py:create"}
    for path, function in callers:
        label = f"{path.relative_to(ROOT).as_posix()}:{function.name}"
        if label in trusted:
            continue
        called = {
            getattr(c.func, "attr", None) or getattr(c.func, "id", None)
            for c in ast.walk(function)
            if isinstance(c, ast.Call)
        }
        assert {"reauth_require", "api_token_create_throttle"} <= called, label


# --- 2. Ending credentials: password change, sign out everywhere, an admin's revocation -----------


def test_password_page_offers_to_revoke_tokens_ticked_by_default(ada):
    client = browser(ada)
    api_token_create(user=ada, name="ci")

    page = client.get("/account/password/").content.decode()

    checkbox = re.search(r'<input type="checkbox" name="revoke_tokens"[^>]*id="id_revoke_tokens"[^>]*>', page)
    assert checkbox and checkbox.group(0).endswith(" checked>")
    assert "You have 1 active API token." in page


def test_password_change_signs_out_other_sessions_keeps_this_one_and_revokes_tokens(ada):
    here, elsewhere = browser(ada), browser(ada)
    _, key = api_token_create(user=ada, name="ci")

    response = page_post(
        here,
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "revoke_tokens": "on",
        },
    )

    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert not token_works(key)
    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.changes == {"other_sessions_revoked": True, "tokens_revoked": 1}


def test_password_change_can_keep_tokens(ada):
    here, elsewhere = browser(ada), browser(ada)
    _, key = api_token_create(user=ada, name="ci")

    page_post(
        here,
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert signed_in(here) and not signed_in(elsewhere)
    assert token_works(key)
    assert AuditEvent.objects.get(action="user.password_changed").changes["tokens_revoked"] == 0


def test_a_password_change_counts_as_a_recent_reauthentication(ada):
    client = browser(ada)
    page_post(
        client,
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert api_post(client, "/api/tokens/", {"name": "after-change"}).status_code == 201


def test_sign_out_everywhere_over_the_api_can_keep_tokens(ada):
    here, elsewhere = browser(ada), browser(ada)
    _, key = api_token_create(user=ada, name="ci")

    response = api_post(here, "/api/me/sign-out-everywhere/", {"revoke_tokens": False})

    assert response.status_code == 200
    assert response.json() == {"sessions_revoked": True, "tokens_revoked": 0}
    assert not signed_in(here) and not signed_in(elsewhere)
    assert token_works(key)


def test_sign_out_everywhere_over_the_api_revokes_tokens_by_default(ada):
    _, key = api_token_create(user=ada, name="ci")
    _, other = api_token_create(user=ada, name="notebook")

    response = bearer(key).post("/api/me/sign-out-everywhere/", {}, format="json")

    assert response.json() == {"sessions_revoked": True, "tokens_revoked": 2}
    assert not token_works(key) and not token_works(other)


def test_admin_revocation_is_for_organisation_admins_only(people):
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.annotator)
    path = f"/api/organisations/{people.organisation.id}/members/{membership.id}/revoke-credentials/"
    _, key = api_token_create(user=people.annotator, name="ci")

    as_member = APIClient()
    as_member.force_authenticate(people.manager)
    as_outsider = APIClient()
    as_outsider.force_authenticate(people.outsider)

    assert as_member.post(path).status_code == 403
    assert as_outsider.post(path).status_code == 404
    assert token_works(key)
    assert not AuditEvent.objects.filter(action="user.credentials_revoked").exists()


def test_admin_revocation_is_in_the_organisation_audit_log(people):
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=people.annotator)
    api_token_create(user=people.annotator, name="ci")
    admin = browser(people.org_admin)

    response = api_post(
        admin, f"/api/organisations/{people.organisation.id}/members/{membership.id}/revoke-credentials/"
    )
    log = admin.get(
        f"/api/organisations/{people.organisation.id}/audit-events/?action=user.credentials_revoked"
    )

    assert response.json() == {"sessions_revoked": True, "tokens_revoked": 1}
    [event] = log.json()["results"]
    assert event["actor"] == "org_admin"
    assert event["target_id"] == str(people.annotator.id)
    assert event["changes"] == {"username": "annotator", "sessions_revoked": True, "tokens_revoked": 1}


def _change_password(user, client):
    page_post(
        client,
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "revoke_tokens": "on",
        },
    )


def _sign_out_everywhere_page(user, client):
    response = page_post(client, "/account/sign-out-everywhere/", {"revoke_tokens": "on"})
    assert response.status_code == 302 and response["Location"] == "/login/"


def _sign_out_everywhere_api(user, client):
    assert api_post(client, "/api/me/sign-out-everywhere/").status_code == 200


def _admin_api(user, client, people):
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=user)
    admin = browser(people.org_admin)
    path = f"/api/organisations/{people.organisation.id}/members/{membership.id}/revoke-credentials/"
    assert api_post(admin, path).status_code == 200


def _admin_page(user, client, people):
    membership = OrganisationMembership.objects.get(organisation=people.organisation, user=user)
    admin = browser(people.org_admin)
    path = f"/organisations/{people.organisation.id}/members/{membership.id}/revoke-credentials/"
    response = page_post(admin, path)
    assert response.status_code == 302
    assert (
        "annotator was signed out everywhere; 2 API tokens revoked."
        in admin.get(response["Location"]).content.decode()
    )


REVOCATIONS = {
    "password change": (_change_password, "user.password_changed", True),
    "sign out everywhere (page)": (_sign_out_everywhere_page, "user.signed_out_everywhere", False),
    "sign out everywhere (API)": (_sign_out_everywhere_api, "user.signed_out_everywhere", False),
    "admin revocation (API)": (_admin_api, "user.credentials_revoked", False),
    "admin revocation (page)": (_admin_page, "user.credentials_revoked", False),
}


@pytest.mark.parametrize("name", list(REVOCATIONS))
def test_every_revocation_ends_every_other_credential_and_is_audited(
    people, name, django_capture_on_commit_callbacks
):
    """The class: after any of these, no other session and no API token of the person works, and
    accounts.signals.credentials_revoked tells live connections (websockets) to close."""
    do, action, keeps_this_session = REVOCATIONS[name]
    user = people.annotator
    here, elsewhere = browser(user), browser(user)
    keys = [api_token_create(user=user, name=n)[1] for n in ("ci", "notebook")]
    other_person = browser(people.reviewer)
    _, other_key = api_token_create(user=people.reviewer, name="ci")
    announced = []

    def listener(sender, **kwargs):
        announced.append(kwargs)

    credentials_revoked.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            if do in (_admin_api, _admin_page):
                do(user, here, people)
            else:
                do(user, here)
    finally:
        credentials_revoked.disconnect(listener)

    assert [(a["user_id"], a["tokens_revoked"]) for a in announced] == [(user.id, 2)]

    assert not signed_in(elsewhere)
    assert signed_in(here) is keeps_this_session
    assert not any(token_works(key) for key in keys)
    assert signed_in(other_person) and token_works(other_key)  # nobody else is touched
    assert AuditEvent.objects.filter(action=action, target_id=str(user.id)).count() == 1


def test_the_session_hash_of_existing_sessions_is_unchanged_at_generation_zero(ada):
    """Deploying the generation field must not sign everybody out: generation 0 is Django's own hash."""
    from django.utils.crypto import salted_hmac

    djangos = salted_hmac(
        "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash", ada.password, algorithm="sha256"
    ).hexdigest()

    assert ada.session_generation == 0
    assert ada.get_session_auth_hash() == djangos
    ada.session_generation = 1
    assert ada.get_session_auth_hash() != djangos
