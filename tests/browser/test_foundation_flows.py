"""The foundation's pages in a real browser: sign-in, projects, live activity over websockets,
members, API tokens, access, XSS, the API docs and keyboard use. Real clicks and keys only."""

import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from accounts.models import ApiToken
from projects.models import Project, ProjectMembership

from ..factories import (
    PASSWORD,
    OrganisationMembershipFactory,
    ProjectFactory,
    ProjectMembershipFactory,
    UserFactory,
    label_schema,
)
from .conftest import login, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=1</script>"
PROJECT_URL = re.compile(r"/projects/(\d+)/$")


def _api_get(url: str, key: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _assert_no_injected_markup(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    assert (
        page.locator("script:not([src])").evaluate_all(
            "els => els.filter(e => e.textContent.includes('__xss')).length"
        )
        == 0
    )


def test_login_rejects_a_wrong_password_and_accepts_the_right_one(page, people):
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in to Tessera")).to_be_visible()
    shot(page, "login")

    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "That username and password do not match. Passwords are case-sensitive."
    )
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_label("Username")).to_have_value("manager")

    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/projects/$"))
    card = page.locator(".project-card").filter(has_text="Reviews")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name="Reviews")).to_be_visible()
    expect(card).to_contain_text("Acme Research")
    # A project manager may create projects by default (Organisation.project_creators "managers").
    expect(page.get_by_role("link", name="Start from a template")).to_be_visible()


def test_org_admin_creates_a_project_and_its_live_feed_connects(page, people):
    errors: list[str] = []  # script errors and CSP violations both land here
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    login(page, people.org_admin)
    expect(page.locator(".project-card")).to_have_count(1)
    shot(page, "projects")

    form = page.locator("form").filter(has=page.get_by_role("button", name="Create project"))
    expect(form.get_by_label("Organisation")).to_have_value(str(people.organisation.id))
    form.get_by_label("Name", exact=True).fill("Support tickets")
    form.get_by_label("Description").fill("Route incoming tickets to the right team.")
    form.get_by_label("Overlap").fill("2")
    form.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(PROJECT_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Support tickets")
    expect(page.locator(".messages")).to_have_text("Project “Support tickets” created.")
    expect(page.locator("#fact-overlap")).to_have_text("2")
    expect(page.locator("#live-status")).to_have_text("Live")
    project_id = int(PROJECT_URL.search(page.url).group(1))
    project = Project.objects.get(pk=project_id)
    assert (project.organisation_id, project.name, project.overlap) == (
        people.organisation.id,
        "Support tickets",
        2,
    )
    assert list(ProjectMembership.objects.filter(project=project).values_list("user__username", "role")) == [
        ("org_admin", "manager")
    ]
    assert errors == []


def test_changes_by_another_user_appear_live_with_updated_counts(page_for, people):
    project = people.project
    watcher = page_for(people.manager)
    watcher.goto(f"/projects/{project.id}/")
    expect(watcher.locator("#live-status")).to_have_text("Live")
    expect(watcher.locator("#live-events li")).to_have_count(0)
    expect(watcher.locator("[data-stat='members']")).to_have_text("—")  # not computed yet
    expect(watcher.locator("#project-changed")).to_be_hidden()
    admin = page_for(people.org_admin)

    admin.goto(f"/projects/{project.id}/")
    admin.get_by_label("Overlap").fill("3")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.locator(".messages")).to_have_text("Project settings saved.")

    events = watcher.locator("#live-events li")
    expect(events).to_have_count(1)
    expect(events.first.locator(".live-activity__text")).to_have_text("org_admin changed overlap")
    notice = watcher.locator("#project-changed")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("org_admin changed this project while you were here.")

    admin.goto(f"/projects/{project.id}/members/")
    admin.get_by_label("Username").fill("org_member")
    admin.get_by_label("Role", exact=True).select_option("reviewer")
    admin.get_by_role("button", name="Add member").click()
    expect(admin.locator(".messages")).to_have_text("org_member added as reviewer.")

    expect(events).to_have_count(2)
    expect(events.first.locator(".live-activity__text")).to_have_text(
        "org_admin added org_member as reviewer"
    )
    expect(watcher.locator("[data-stat='members']")).to_have_text("4")
    expect(watcher.locator("[data-stat='managers']")).to_have_text("1")
    expect(watcher.locator("[data-stat='reviewers']")).to_have_text("2")
    expect(watcher.locator("[data-stat='annotators']")).to_have_text("1")
    expect(watcher.locator("#live-status")).to_have_text("Live")
    shot(watcher, "project-detail")

    # The watcher's form is stale now: saving it is refused instead of undoing the admin's change.
    watcher.get_by_label("Description").fill("Edited from a stale form")
    watcher.get_by_role("button", name="Save settings").click()
    expect(watcher.locator(".alert--error")).to_contain_text(
        "Someone else changed this project after you opened it."
    )
    watcher.goto(f"/projects/{project.id}/")
    expect(watcher.locator("#fact-overlap")).to_have_text("3")
    expect(watcher.locator("#live-status")).to_have_text("Live")


def test_manager_adds_changes_and_removes_a_member(page, people):
    project = people.project
    login(page, people.manager)
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.id}/members/$"))
    rows = page.locator("#members tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Username").fill("org_member")
    expect(page.get_by_label("Role", exact=True)).to_have_value("annotator")  # the default
    page.get_by_role("button", name="Add member").click()

    expect(page.locator(".messages")).to_have_text("org_member added as annotator.")
    expect(rows).to_have_count(4)
    expect(page.get_by_label("Role of org_member")).to_have_value("annotator")
    shot(page, "members")

    page.get_by_label("Role of org_member").select_option("reviewer")
    rows.filter(has_text="org_member").get_by_role("button", name="Change").click()

    expect(page.locator(".messages")).to_have_text("Role changed.")
    expect(page.get_by_label("Role of org_member")).to_have_value("reviewer")
    assert ProjectMembership.objects.get(project=project, user=people.org_member).role == "reviewer"

    page.get_by_role("button", name="Remove org_member").click()

    expect(page.locator(".messages")).to_have_text("Member removed.")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="org_member")).to_have_count(0)
    assert ProjectMembership.objects.filter(project=project, user=people.org_member).exists() is False


def test_api_token_is_shown_once_works_and_stops_working_when_revoked(page, people, server_url):
    login(page, people.manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()

    page.get_by_label("Token name").fill("training-pipeline")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create token").click()

    key = page.locator("#new-token").inner_text().strip()
    assert key.startswith("tsr_")
    assert key.startswith(ApiToken.objects.get(user=people.manager).key_prefix)
    expect(page.get_by_role("row").filter(has_text="training-pipeline")).to_contain_text("active")
    shot(page, "tokens")
    assert _api_get(f"{server_url}/api/me/", key)[0] == 200
    assert _api_get(f"{server_url}/api/me/", key)[1]["username"] == "manager"

    page.get_by_role("button", name="Revoke training-pipeline").click()

    expect(page.locator(".messages")).to_have_text(
        "Token “training-pipeline” revoked. Requests using it now fail."
    )
    expect(page.locator("#new-token")).to_have_count(0)  # the key is never shown again
    expect(page.get_by_role("row").filter(has_text="training-pipeline")).to_contain_text("revoked")
    status, body = _api_get(f"{server_url}/api/me/", key)
    assert status == 401
    assert "username" not in body


def test_annotator_sees_no_settings_and_other_organisations_are_not_found(page, people):
    login(page, people.annotator)

    page.get_by_role("link", name="Reviews").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Reviews")
    expect(page.locator(".badge--role")).to_have_text("Annotator")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.get_by_role("heading", name="Settings")).to_have_count(0)
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(page.get_by_role("button", name="Archive project")).to_have_count(0)

    response = page.goto(f"/projects/{people.other_project.id}/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Globex secrets")).to_have_count(0)


def test_user_supplied_text_is_rendered_as_text_never_as_markup(page_for, people):
    name = f"Evil {XSS_IMG} {XSS_SCRIPT}"
    description = f"Try {XSS_SCRIPT} and {XSS_IMG}"
    project = ProjectFactory(organisation=people.organisation, name=name, description=description)
    ProjectMembershipFactory(project=project, user=people.manager, role=ProjectMembership.Role.MANAGER)
    evil = UserFactory(username=XSS_IMG)
    OrganisationMembershipFactory(organisation=people.organisation, user=evil)
    watcher = page_for(people.manager)

    expect(watcher.locator(".project-card h2").filter(has_text="Evil")).to_have_text(name)
    _assert_no_injected_markup(watcher)
    response = watcher.goto(f"/projects/{project.id}/")
    expect(watcher.get_by_role("heading", level=1)).to_have_text(name)
    expect(watcher.locator(".prewrap")).to_have_text(description)
    expect(watcher.locator("#live-status")).to_have_text("Live")
    _assert_no_injected_markup(watcher)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp
    admin = page_for(people.org_admin)

    admin.goto(f"/projects/{project.id}/members/")
    admin.get_by_label("Username").fill(XSS_IMG)
    admin.get_by_role("button", name="Add member").click()
    expect(admin.locator("#members")).to_contain_text(XSS_IMG)

    event = watcher.locator("#live-events li .live-activity__text")
    expect(event).to_have_text(f"org_admin added {XSS_IMG} as annotator")
    _assert_no_injected_markup(watcher)
    _assert_no_injected_markup(admin)


def test_api_docs_render_without_any_external_request(page, people):
    login(page, people.manager)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="API docs").click()

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tessera API")
    expect(
        page.locator(".opblock-summary-path").filter(has_text=re.compile(r"^/api/projects/$")).first
    ).to_be_visible()
    expect(page.locator(".opblock-summary-path").filter(has_text=re.compile(r"^/api/me/$"))).to_have_count(1)
    page.wait_for_load_state("networkidle")
    shot(page, "api-docs", full_page=False)  # the first screen; the full page is 4000+ px of operations
    fetched = [url for url in requested if urlsplit(url).scheme not in ("data", "blob")]
    assert fetched, "the docs page made no request at all"
    assert [url for url in fetched if urlsplit(url).hostname != "127.0.0.1"] == []


def test_login_form_works_with_the_keyboard_alone(page, people):
    page.goto("/login/")
    username = page.get_by_label("Username")
    password = page.get_by_label("Password")
    expect(username).to_be_focused()  # autofocus

    page.keyboard.type("reviewer")
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type("correct-horse-battery-staple")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(password).to_be_focused()

    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/projects/$"))
    expect(page.locator(".usermenu")).to_contain_text("reviewer")


def test_manager_versions_schema_and_guidelines_and_admin_reads_the_audit_log(page_for, people):
    project = people.project
    manager = page_for(people.manager)
    manager.goto(f"/projects/{project.id}/schema/")
    expect(manager.get_by_text("No schema yet.")).to_be_visible()

    manager.get_by_role("button", name="JSON").click()  # the schema editor's JSON view
    manager.get_by_label("Schema as JSON").fill('{"version": 1, "fields": [')
    manager.get_by_role("button", name="Save as v1").click()
    expect(manager.locator(".se-blocked-save")).to_contain_text("Not saved: the JSON has a syntax error.")

    schema = label_schema("positive", "neutral", "negative")
    manager.get_by_label("Schema as JSON").fill(json.dumps(schema, indent=2))
    manager.get_by_label("What changed").fill("First three sentiment labels")
    manager.get_by_role("button", name="Save as v1").click()

    expect(manager.locator(".messages")).to_have_text("Label schema v1 saved.")
    expect(manager.locator("details.version")).to_have_count(1)
    expect(manager.locator("details.version summary")).to_contain_text("v1")
    # shown as JSON, the format the form takes, not as a Python repr
    expect(manager.locator("details.version pre")).to_contain_text('"required": true')
    expect(manager.get_by_role("button", name="Save as v2")).to_be_visible()
    shot(manager, "schema")

    manager.get_by_role("navigation", name="Project").get_by_role("link", name="Guidelines").click()
    manager.get_by_label("Guidelines (Markdown)").fill(
        "# Sentiment\n\n- **positive**: the reviewer would buy again.\n- **negative**: a complaint.\n"
        "- **neutral**: facts only, no opinion.\n\nWhen unsure, choose neutral."
    )
    manager.get_by_label("What changed").fill("First draft")
    manager.get_by_role("button", name="Save as v1").click()

    expect(manager.locator(".messages")).to_have_text("Guidelines v1 saved.")
    expect(manager.locator(".guidelines-doc .markdown")).to_contain_text("When unsure, choose neutral.")
    shot(manager, "guidelines")
    admin = page_for(people.org_admin)

    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Acme Research").click()
    expect(admin.locator("#org-members tbody tr")).to_have_count(5)
    shot(admin, "organisation")
    admin.get_by_role("link", name="Audit log").click()

    expect(admin.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    actions = admin.locator("#audit tbody tr td:nth-child(3)")
    expect(actions).to_have_text(["guideline.version_created", "schema.version_created"])
    expect(admin.locator("#audit tbody tr").first).to_contain_text("manager")
    shot(admin, "audit-log")
