"""Sign-in (throttled per username and address), sign-out and the password change page."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client, override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
MISMATCH = "That username and password do not match."
LOCKED = "Too many failed sign-ins for this account from your address."


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ada():
    return UserFactory(username="ada")


def sign_in(client: Client, password: str, username: str = "ada"):
    return client.post("/login/", {"username": username, "password": password})


def fail(times: int, client: Client, username: str = "ada") -> None:
    for _ in range(times):
        assert sign_in(client, WRONG, username).status_code == 200


# --- Sign-in --------------------------------------------------------------------------------------


def test_login_page_renders():
    response = Client().get("/login/")

    assert response.status_code == 200
    assert response.templates[0].name == "accounts/login.html"
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_correct_credentials_redirect_to_projects(ada):
    client = Client()

    response = sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert response.url == "/projects/"
    assert client.session[SESSION_KEY] == str(ada.pk)


def test_next_parameter_is_honoured_for_local_paths(ada):
    client = Client()

    response = client.post("/login/", {"username": "ada", "password": PASSWORD, "next": "/account/tokens/"})

    assert response.status_code == 302
    assert response.url == "/account/tokens/"


def test_next_parameter_pointing_elsewhere_is_ignored(ada):
    client = Client()

    response = client.post(
        "/login/", {"username": "ada", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response.url == "/projects/"


def test_wrong_password_shows_the_error_and_creates_no_session(ada):
    client = Client()

    response = sign_in(client, WRONG)

    assert response.status_code == 200
    assert MISMATCH in response.content.decode()
    assert SESSION_KEY not in client.session


def test_unknown_username_shows_the_same_error(ada):
    client = Client()

    response = sign_in(client, PASSWORD, username="nobody")

    assert response.status_code == 200
    assert MISMATCH in response.content.decode()
    assert SESSION_KEY not in client.session


def test_inactive_account_cannot_sign_in(ada):
    ada.is_active = False
    ada.save(update_fields=["is_active"])
    client = Client()

    response = sign_in(client, PASSWORD)

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_protected_page_redirects_anonymous_to_login():
    response = Client().get("/projects/")

    assert response.status_code == 302
    assert response.url == "/login/?next=/projects/"


# --- Throttle -------------------------------------------------------------------------------------


def test_after_max_failures_even_the_right_password_is_refused(ada):
    client = Client()
    fail(5, client)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert MISMATCH not in response.content.decode()
    assert SESSION_KEY not in client.session


def test_one_failure_below_the_limit_still_lets_the_right_password_in(ada):
    client = Client()
    fail(4, client)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(ada.pk)


@override_settings(ACCOUNTS_LOGIN_MAX_FAILURES=2)
def test_limit_comes_from_settings(ada):
    client = Client()
    fail(2, client)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_lock_is_per_username_case_insensitively(ada):
    client = Client()
    fail(5, client, username="ADA")

    response = sign_in(client, PASSWORD, username="ada")

    assert response.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "spelling",
    ["\uff41\uff44\uff41", "\uff41da", "\uff21DA", " ada "],
    ids=["fullwidth", "one-fullwidth-letter", "fullwidth-upper", "padded"],
)
def test_lock_covers_other_spellings_that_sign_in_as_the_same_user(ada, spelling):
    client = Client()
    fail(5, client)

    response = sign_in(client, PASSWORD, username=spelling)

    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_a_fullwidth_spelling_signs_in_as_the_user(ada):
    client = Client()

    response = sign_in(client, PASSWORD, username="\uff41\uff44\uff41")

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(ada.pk)


def test_lock_does_not_affect_another_username(ada):
    UserFactory(username="grace")
    client = Client()
    fail(5, client, username="ada")

    response = sign_in(client, PASSWORD, username="grace")

    assert response.status_code == 302


def test_lock_does_not_affect_another_address(ada):
    fail(5, Client(REMOTE_ADDR="10.0.0.1"))
    client = Client(REMOTE_ADDR="10.0.0.2")

    response = sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(ada.pk)


def test_success_resets_the_failure_counter(ada):
    fail(4, Client())
    assert sign_in(Client(), PASSWORD).status_code == 302
    client = Client()
    fail(4, client)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 302  # 8 failures in all, but never 5 in a row
    assert client.session[SESSION_KEY] == str(ada.pk)


def test_lock_lifts_once_the_window_expires(ada):
    client = Client()
    fail(5, client)
    assert sign_in(client, PASSWORD).status_code == 429

    cache.clear()  # the lockout window expired
    response = sign_in(client, PASSWORD)

    assert response.status_code == 302


# --- Sign-out -------------------------------------------------------------------------------------


def test_logout_by_post_ends_the_session(ada):
    client = Client()
    client.force_login(ada)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response.url == "/login/"
    assert SESSION_KEY not in client.session
    assert client.get("/projects/").status_code == 302


def test_logout_by_get_is_not_allowed(ada):
    client = Client()
    client.force_login(ada)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert client.session[SESSION_KEY] == str(ada.pk)


# --- Password change ------------------------------------------------------------------------------


def change_password(client: Client, new: str, old: str = PASSWORD):
    return client.post(
        "/account/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("8412937560", "This password is entirely numeric."),
        ("ada@example.org", "The password is too similar to the email address."),
    ],
    ids=["short", "common", "numeric", "like-email"],
)
def test_password_change_applies_the_validators(ada, new_password, message):
    client = Client()
    client.force_login(ada)

    response = change_password(client, new_password)

    assert response.status_code == 200
    assert message in response.content.decode()
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD) is True
    assert ada.check_password(new_password) is False


def test_password_change_needs_the_old_password(ada):
    client = Client()
    client.force_login(ada)

    response = change_password(client, "a-much-better-passphrase", old=WRONG)

    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in response.content.decode()
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD) is True


def test_password_change_with_a_good_password_takes_effect(ada):
    client = Client()
    client.force_login(ada)

    response = change_password(client, "a-much-better-passphrase")

    assert response.status_code == 302
    assert response.url == "/account/password/done/"
    assert client.get("/account/password/").status_code == 200  # the session survives the change
    ada.refresh_from_db()
    assert ada.check_password("a-much-better-passphrase") is True
    assert ada.check_password(PASSWORD) is False


def test_password_change_page_needs_a_signed_in_user():
    response = Client().get("/account/password/")

    assert response.status_code == 302
    assert response.url == "/login/?next=/account/password/"
