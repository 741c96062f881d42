"""Credentials in a real browser (issue #14): a token asks for the password; a password change signs
the other browser out and revokes tokens; an organisation admin revokes a member's sessions and
tokens. Two browser contexts play two devices of the same person. Screenshots go to docs/screenshots/."""

import json
import re
import shutil
import urllib.error
import urllib.request

import pytest

from accounts.models import ApiToken
from core.models import AuditEvent

from ..factories import PASSWORD
from .conftest import REPO_ROOT, login, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_SHOTS = REPO_ROOT / "docs" / "screenshots"
NEW_PASSWORD = "a-much-better-passphrase-42"


def docs_shot(page, name: str, *, full_page: bool = True) -> None:
    path = shot(page, name, full_page=full_page)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SHOTS / f"{name}.png")


def _api_status(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test server
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _create_token(page, name: str) -> str:
    page.goto("/account/tokens/")
    page.get_by_label("Token name").fill(name)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create token").click()
    return page.locator("#new-token").inner_text().strip()


def test_token_asks_for_the_password_and_a_password_change_revokes_the_rest(new_context, people, server_url):
    laptop = new_context().new_page()
    phone = new_context().new_page()
    login(laptop, people.manager)
    login(phone, people.manager)

    # A token needs the password: a wrong one is refused with a message, nothing is created.
    laptop.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(laptop.get_by_text("A token keeps working after you sign out")).to_be_visible()
    laptop.get_by_label("Token name").fill("training-pipeline")
    laptop.get_by_label("Your password").fill("not-my-password")
    laptop.get_by_role("button", name="Create token").click()
    expect(laptop.get_by_role("alert")).to_have_text("That is not your current password.")
    assert not ApiToken.objects.filter(user=people.manager).exists()
    docs_shot(laptop, "token-create-password")

    laptop.get_by_label("Your password").fill(PASSWORD)
    laptop.get_by_role("button", name="Create token").click()
    key = laptop.locator("#new-token").inner_text().strip()
    assert key.startswith("tsr_")
    assert _api_status(f"{server_url}/api/me/", key) == 200
    docs_shot(laptop, "tokens")

    # The password page: tokens are revoked by default, and it says how many there are.
    laptop.locator(".usermenu").get_by_role("link", name="Password").click()
    form = laptop.get_by_role("region", name="Change your password")
    expect(form.get_by_text("You have 1 active API token.")).to_be_visible()
    expect(form.get_by_label("Also revoke all my API tokens")).to_be_checked()
    form.get_by_label("Old password").fill(PASSWORD)
    form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    docs_shot(laptop, "password-change")
    form.get_by_role("button", name="Change password").click()

    expect(laptop.get_by_role("heading", name="Password changed")).to_be_visible()
    expect(laptop.locator(".messages")).to_have_text(
        "Password changed. Every other session was signed out; 1 API token revoked."
    )
    docs_shot(laptop, "password-changed")

    # The other device is signed out, the token is dead, this browser stays signed in.
    phone.goto("/projects/")
    expect(phone).to_have_url(re.compile(r"/login/\?next=/projects/$"))
    assert _api_status(f"{server_url}/api/me/", key) == 401
    laptop.goto("/account/tokens/")
    expect(laptop.get_by_role("row").filter(has_text="training-pipeline")).to_contain_text("revoked")
    assert AuditEvent.objects.get(action="user.password_changed").changes == {
        "other_sessions_revoked": True,
        "tokens_revoked": 1,
    }


def test_sign_out_everywhere_from_the_password_page(new_context, people, server_url):
    laptop = new_context().new_page()
    phone = new_context().new_page()
    login(laptop, people.annotator)
    login(phone, people.annotator)
    key = _create_token(laptop, "notebook")

    laptop.goto("/account/password/")
    section = laptop.get_by_role("region", name="Sign out everywhere")
    expect(section.get_by_label("Also revoke all my API tokens")).to_be_checked()
    section.get_by_role("button", name="Sign out everywhere").click()

    expect(laptop).to_have_url(re.compile(r"/login/$"))
    expect(laptop.locator(".messages")).to_have_text(
        "You were signed out everywhere and 1 API token revoked."
    )
    phone.goto("/projects/")
    expect(phone).to_have_url(re.compile(r"/login/\?next=/projects/$"))
    assert _api_status(f"{server_url}/api/me/", key) == 401


def test_organisation_admin_revokes_a_members_sessions_and_tokens(new_context, people, server_url):
    member = new_context().new_page()
    login(member, people.annotator)
    key = _create_token(member, "laptop-script")
    admin = new_context().new_page()
    login(admin, people.org_admin)

    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Acme Research").click()
    rows = admin.locator("#org-members tbody tr")
    expect(rows.filter(has_text="annotator")).to_contain_text("annotator@example.org")  # admins see emails
    admin.get_by_role("button", name="Sign annotator out everywhere and revoke their API tokens").click()

    expect(admin.locator(".messages")).to_have_text(
        "annotator was signed out everywhere; 1 API token revoked."
    )
    docs_shot(admin, "organisation-members")
    member.goto("/projects/")
    expect(member).to_have_url(re.compile(r"/login/\?next=/projects/$"))
    assert _api_status(f"{server_url}/api/me/", key) == 401
    event = AuditEvent.objects.get(action="user.credentials_revoked")
    assert (event.organisation_id, event.actor_id) == (people.organisation.id, people.org_admin.id)

    # An annotator sees colleagues' names, not their email addresses.
    login(member, people.annotator)
    member.goto(f"/organisations/{people.organisation.id}/members/")
    expect(member.locator("#org-members")).not_to_contain_text("@example.org")
    expect(member.get_by_role("button", name=re.compile("out everywhere"))).to_have_count(0)
