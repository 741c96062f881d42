"""Personal API tokens over the API: create (key shown once), list, use, revoke, and bad input."""

import hashlib

import pytest
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def iso(value) -> str | None:
    return None if value is None else DateTimeField().to_representation(value)


def listed(token: ApiToken) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "key_prefix": token.key_prefix,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
        "is_active": token.revoked_at is None,
    }


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def ada():
    return UserFactory(username="ada")


@pytest.fixture
def ada_client(ada) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=ada)
    return client


# --- Create ---------------------------------------------------------------------------------------


def test_create_returns_the_key_once_and_stores_only_its_hash(ada, ada_client):
    response = ada_client.post(
        "/api/tokens/", {"name": "training-pipeline", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(user=ada)
    key = body["key"]
    assert key.startswith("tsr_")
    assert len(key) == 4 + 43  # prefix + 32 random bytes, url-safe base64 without padding
    assert body == {**listed(token), "key": key}
    assert token.name == "training-pipeline"
    assert token.key_prefix == key[:12]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.key_hash, token.key_prefix, token.name}


def test_created_key_authenticates_as_its_owner(ada_client):
    key = ada_client.post("/api/tokens/", {"name": "notebook", "password": PASSWORD}, format="json").json()[
        "key"
    ]

    response = bearer(key).get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "ada"


def test_token_keyword_is_accepted_too(ada_client):
    key = ada_client.post("/api/tokens/", {"name": "notebook", "password": PASSWORD}, format="json").json()[
        "key"
    ]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "ada"


def test_create_writes_an_audit_row(ada, ada_client):
    response = ada_client.post(
        "/api/tokens/", {"name": "training-pipeline", "password": PASSWORD}, format="json"
    )

    token = ApiToken.objects.get(pk=response.json()["id"])
    event = AuditEvent.objects.get()
    assert event.action == "api_token.created"
    assert event.actor == ada
    assert event.actor_label == "ada"
    assert event.organisation_id is None
    assert event.project_id is None
    assert event.target_type == "accounts.apitoken"
    assert event.target_id == str(token.id)
    assert event.changes == {"name": "training-pipeline", "via": "api", "reauth": "password"}


def test_create_strips_surrounding_whitespace_from_the_name(ada_client):
    response = ada_client.post("/api/tokens/", {"name": "  ci  ", "password": PASSWORD}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "ci"


# --- List -----------------------------------------------------------------------------------------


def test_list_shows_own_tokens_without_keys_newest_first(ada, ada_client):
    first, _ = api_token_create(user=ada, name="first")
    second, _ = api_token_create(user=ada, name="second")
    api_token_create(user=UserFactory(username="grace"), name="graces")

    response = ada_client.get("/api/tokens/")

    assert response.status_code == 200
    assert response.json() == [listed(second), listed(first)]


def test_list_shows_when_a_token_was_last_used(ada, ada_client):
    token, key = api_token_create(user=ada, name="notebook")
    assert ada_client.get("/api/tokens/").json()[0]["last_used_at"] is None

    bearer(key).get("/api/me/")

    token.refresh_from_db()
    assert token.last_used_at is not None
    response = ada_client.get("/api/tokens/")
    assert response.json() == [listed(token)]
    assert response.json()[0]["last_used_at"] == iso(token.last_used_at)


def test_use_within_the_touch_window_does_not_rewrite_last_used_at(ada):
    token, key = api_token_create(user=ada, name="notebook")
    client = bearer(key)
    client.get("/api/me/")
    token.refresh_from_db()
    first_use = token.last_used_at

    client.get("/api/me/")

    token.refresh_from_db()
    assert token.last_used_at == first_use


# --- Revoke ---------------------------------------------------------------------------------------


def test_revoked_token_no_longer_authenticates(ada, ada_client):
    token, key = api_token_create(user=ada, name="notebook")
    assert bearer(key).get("/api/me/").status_code == 200

    response = ada_client.delete(f"/api/tokens/{token.id}/")

    assert response.status_code == 204
    assert response.content == b""
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = bearer(key).get("/api/me/")
    assert refused.status_code == 401
    assert refused.json() == {"code": "authentication_failed", "detail": "Invalid or revoked API token."}


def test_revoke_writes_one_audit_row_and_is_idempotent(ada, ada_client):
    token, _ = api_token_create(user=ada, name="notebook")
    ada_client.delete(f"/api/tokens/{token.id}/")
    token.refresh_from_db()
    revoked_at = token.revoked_at

    again = ada_client.delete(f"/api/tokens/{token.id}/")

    assert again.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    assert list(
        AuditEvent.objects.filter(action="api_token.revoked").values_list("target_id", "actor_label")
    ) == [(str(token.id), "ada")]


def test_revoked_token_stays_listed_as_revoked(ada, ada_client):
    token, _ = api_token_create(user=ada, name="notebook")
    ada_client.delete(f"/api/tokens/{token.id}/")

    response = ada_client.get("/api/tokens/")

    token.refresh_from_db()
    assert response.json() == [listed(token)]
    assert response.json()[0]["is_active"] is False


def test_revoking_someone_elses_token_is_not_found_and_changes_nothing(ada_client):
    grace = UserFactory(username="grace")
    token, key = api_token_create(user=grace, name="graces")
    audit_rows = AuditEvent.objects.count()

    response = ada_client.delete(f"/api/tokens/{token.id}/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    token.refresh_from_db()
    assert token.revoked_at is None
    assert AuditEvent.objects.count() == audit_rows
    assert bearer(key).get("/api/me/").status_code == 200


def test_revoked_name_can_be_reused(ada, ada_client):
    token, _ = api_token_create(user=ada, name="ci")
    ada_client.delete(f"/api/tokens/{token.id}/")

    response = ada_client.post("/api/tokens/", {"name": "ci", "password": PASSWORD}, format="json")

    assert response.status_code == 201
    assert ApiToken.objects.filter(user=ada, name="ci").count() == 2


# --- Bad input ------------------------------------------------------------------------------------


def test_duplicate_active_name_is_a_conflict_and_creates_nothing(ada, ada_client):
    api_token_create(user=ada, name="ci")
    audit_rows = AuditEvent.objects.count()

    response = ada_client.post("/api/tokens/", {"name": "ci", "password": PASSWORD}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate_name",
        "detail": "You already have an active token named 'ci'.",
    }
    assert ApiToken.objects.filter(user=ada).count() == 1
    assert AuditEvent.objects.count() == audit_rows


def test_same_name_for_another_person_is_fine(ada_client):
    api_token_create(user=UserFactory(username="grace"), name="ci")

    response = ada_client.post("/api/tokens/", {"name": "ci", "password": PASSWORD}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"name": ""},
            {
                "code": "invalid",
                "detail": "name: This field may not be blank.",
                "errors": {"name": ["This field may not be blank."]},
            },
        ),
        (
            {"name": "   "},
            {
                "code": "invalid",
                "detail": "name: This field may not be blank.",
                "errors": {"name": ["This field may not be blank."]},
            },
        ),
        (
            {},
            {
                "code": "invalid",
                "detail": "name: This field is required.",
                "errors": {"name": ["This field is required."]},
            },
        ),
        (
            {"name": "x" * 101},
            {
                "code": "invalid",
                "detail": "name: Ensure this field has no more than 100 characters.",
                "errors": {"name": ["Ensure this field has no more than 100 characters."]},
            },
        ),
        (
            {"name": "ci", "scopes": ["read"]},
            {
                "code": "unknown_field",
                "detail": "scopes: Unknown field.",
                "errors": {"scopes": ["Unknown field."]},
            },
        ),
    ],
    ids=["blank", "whitespace", "missing", "101-chars", "unknown-field"],
)
def test_invalid_input_is_refused_and_creates_nothing(ada, ada_client, payload, expected):
    response = ada_client.post("/api/tokens/", payload, format="json")

    assert response.status_code == 400
    assert response.json() == expected
    assert ApiToken.objects.filter(user=ada).exists() is False
    assert AuditEvent.objects.exists() is False


def test_name_of_exactly_100_chars_is_accepted(ada_client):
    response = ada_client.post("/api/tokens/", {"name": "x" * 100, "password": PASSWORD}, format="json")

    assert response.status_code == 201


def test_malformed_json_is_refused(ada, ada_client):
    response = ada_client.post("/api/tokens/", data='{"name": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_json",
        "detail": "JSON parse error - Expecting value: line 1 column 10 (char 9)",
    }
    assert ApiToken.objects.filter(user=ada).exists() is False


def test_form_encoded_body_is_an_unsupported_media_type(ada, ada_client):
    response = ada_client.post(
        "/api/tokens/", data="name=ci", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_media_type",
        "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
    }
    assert ApiToken.objects.filter(user=ada).exists() is False


# --- Authentication failures ----------------------------------------------------------------------


def test_unknown_token_is_refused(ada):
    api_token_create(user=ada, name="notebook")

    response = bearer("tsr_this-is-not-a-real-key").get("/api/tokens/")

    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "detail": "Invalid or revoked API token."}


@pytest.mark.parametrize("header", ["Bearer", "Bearer tsr_a tsr_b", "Token"])
def test_malformed_authorization_header_is_refused(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/tokens/")

    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "Malformed Authorization header: expected 'Bearer <token>'.",
    }


def test_other_authorization_schemes_count_as_no_credentials():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic YWRhOnNlY3JldA==")

    response = client.get("/api/tokens/")

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


def test_token_of_a_deactivated_user_is_refused(ada):
    _, key = api_token_create(user=ada, name="notebook")
    ada.is_active = False
    ada.save(update_fields=["is_active"])

    response = bearer(key).get("/api/me/")

    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "detail": "Invalid or revoked API token."}


def test_anonymous_cannot_create_tokens():
    response = APIClient().post("/api/tokens/", {"name": "ci"}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert ApiToken.objects.exists() is False
