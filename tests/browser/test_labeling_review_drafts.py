"""The labeling and review pages in a real browser (Chromium): the review flow, drafts that survive
a reload, and hostile item data that never executes (every text-family control: test_labeling_ui.py)."""

import shutil

import pytest

from annotation.models import Annotation
from annotation.workflow.services.claim import next_item_for_annotator
from annotation.workflow.services.submit import annotation_submit
from projects.models import ProjectMembership
from tests.factories import ProjectMembershipFactory, UserFactory

from .conftest import REPO_ROOT, select_word, shot
from .labeling_helpers import TRAP, control_shot, open_label, setup, submit_and_get

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# --- review, drafts, hostile data -------------------------------------------------------------------

SENTIMENT = [
    {
        "name": "sentiment",
        "type": "single_choice",
        "field": "text",
        "required": True,
        "labels": [{"value": "positive", "hotkey": "1"}, {"value": "neutral", "hotkey": "2"}],
    },
    {"name": "note", "type": "text", "field": "text", "title": "Note"},
]


def test_a_lease_taken_by_someone_else_is_reported_at_once_not_at_the_next_heartbeat(
    page_for, people, server_url
):
    import json
    import urllib.request

    from accounts.services import api_token_create
    from annotation.models import Assignment

    project, item = setup(people, SENTIMENT)  # overlap 1, leases of 600 s: a heartbeat a minute
    page = open_label(page_for, people, project)
    expect(page.locator(".lb-live--open")).to_be_visible()  # the project feed is connected
    # The annotator's hold runs out (a laptop asleep), and before their next heartbeat a colleague
    # asks for an item over the API: the server releases the expired hold and gives them this one.
    Assignment.objects.filter(item=item, annotator=people.annotator).update(
        lease_expires_at="2000-01-01T00:00:00Z"
    )
    colleague = ProjectMembershipFactory(
        project=project, user=UserFactory(username="carol"), role=ProjectMembership.Role.ANNOTATOR
    ).user
    _, token = api_token_create(user=colleague, name="next")
    request = urllib.request.Request(  # noqa: S310 - the test server on loopback
        f"{server_url}/api/projects/{project.id}/queue/next/",
        method="POST",
        data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert json.loads(response.read())["assignment"]["item"]["id"] == item.id

    # The feed's lease.expired / item.leased make the page check its lease now (well inside the
    # 60 s heartbeat), and it says so, keeping the work in the browser.
    expect(page.locator(".lb-app[data-phase='lost']")).to_be_visible(timeout=5000)
    expect(page.get_by_text("Your work is kept in this browser.")).to_be_visible()


def test_review_accept_and_reject_then_the_annotator_sees_the_comment(page_for, people):
    project, item = setup(
        people, SENTIMENT, settings={"review_fraction": 1.0, "max_escalation": 0}, overlap=2
    )  # no automatic escalation when the two disagree: straight to review
    second = ProjectMembershipFactory(
        project=project, user=UserFactory(username="bob"), role=ProjectMembership.Role.ANNOTATOR
    ).user
    hostile_note = '<img src=x onerror="' + TRAP + '">'
    for who, label, note in ((people.annotator, "positive", "fine"), (second, "neutral", hostile_note)):
        assignment = next_item_for_annotator(project=project, annotator=who).assignment
        result = {"sentiment": label, "note": note}
        annotation_submit(project=project, annotator=who, assignment_id=assignment.pk, result=result)

    reviewer = page_for(people.reviewer)
    reviewer.goto(f"/projects/{project.id}/review/")
    table = reviewer.locator(".rv-compare")
    expect(table).to_contain_text(hostile_note)  # another annotator's free text, as text
    expect(table.locator("tr.rv-differs")).to_have_count(2)
    shutil.copyfile(
        shot(reviewer, "review-page", full_page=False),
        REPO_ROOT / "docs" / "screenshots" / "labeling-review.png",
    )
    reviewer.keyboard.press("a")  # accept annotator's
    expect(reviewer.get_by_text("annotator's annotation accepted")).to_be_visible()
    reviewer.keyboard.press("r")  # bob's is selected next
    dialog = reviewer.get_by_role("dialog")
    dialog.get_by_label("Reason").select_option("wrong_label")
    dialog.get_by_label("Comment for the annotator").fill("Rule 2: a complaint is <b>not</b> neutral.")
    shot(reviewer, "review-reject", full_page=False)
    reviewer.keyboard.press("Control+Enter")
    expect(reviewer.get_by_text("Nothing to review")).to_be_visible()
    assert reviewer.evaluate("window.__pwned") is None
    assert Annotation.objects.get(item=item, annotator=people.annotator).review == "accepted"
    assert Annotation.objects.get(item=item, annotator=second).review == "rejected"

    page = page_for(second)
    page.goto(f"/projects/{project.id}/label/")
    correction = page.get_by_role("region", name="Reviewer's feedback")
    expect(correction).to_contain_text("Rule 2: a complaint is <b>not</b> neutral.")
    expect(correction).to_contain_text("wrong label")
    shot(page, "label-correction", full_page=False)
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
    annotation = Annotation.objects.get(item=item, annotator=second)
    assert annotation.result["sentiment"] == "positive"
    assert annotation.revision == 2
    assert page.evaluate("window.__pwned") is None


def test_a_draft_survives_a_reload(page_for, people):
    project, item = setup(people, SENTIMENT)
    page = open_label(page_for, people, project)
    page.keyboard.press("2")
    page.get_by_role("textbox", name="Note").fill("half-way thought")
    expect(page.locator(".lb-save")).to_have_text("Draft saved")
    page.reload()
    expect(page.locator(".lb-app[data-phase='working']")).to_be_visible()
    expect(page.get_by_role("radio", name="neutral")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("textbox", name="Note")).to_have_value("half-way thought")
    assert submit_and_get(page, item) == {"sentiment": "neutral", "note": "half-way thought"}


def test_a_draft_made_offline_survives_a_reload(page_for, people):
    project, item = setup(people, SENTIMENT)
    page = open_label(page_for, people, project)
    page.context.set_offline(True)
    page.keyboard.press("1")
    expect(page.locator(".lb-save")).to_contain_text("kept in this browser", timeout=8000)
    page.context.set_offline(False)
    page.reload()
    expect(page.get_by_role("radio", name="positive")).to_have_attribute("aria-checked", "true")
    assert submit_and_get(page, item) == {"sentiment": "positive"}


HOSTILE = (
    '<script>window.__pwned=(window.__pwned||0)+1</script><img src=x onerror="' + TRAP + '">'
    '<a href="javascript:' + TRAP + '">click</a><svg onload="' + TRAP + '"></svg>'
)


MARKDOWN_ANSWER = (
    "## Summary\n\n"
    "The contract between **Acme Corp** and *Globex* was signed in `Lisbon`.\n"
    "- first point\n- second point with [a source](https://example.org/report)\n\n"
    "[click me](javascript:window.__pwned=1) and ![x](javascript:alert(1))\n\n"
    "```\nprint('not run')\n```\n\n"
    "| Party | Role |\n|---|---|\n| Initech | supplier |"
)


def test_markdown_rich_text_is_rendered_and_spans_keep_source_offsets(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "entities",
                "type": "spans",
                "field": "answer",
                "labels": [{"value": "ORG", "hotkey": "o"}],
            }
        ],
        fields=[{"name": "answer", "type": "rich_text", "title": "Model answer"}],
        data={"answer": MARKDOWN_ANSWER},
    )
    page = open_label(page_for, people, project)
    body = page.locator(".tx-body--md")
    expect(body.locator("h2")).to_have_text("Summary")
    expect(body.locator("strong")).to_have_text("Acme Corp")
    expect(body.locator("li")).to_have_count(2)
    expect(body.locator("a")).to_have_count(1)  # the https link only
    assert body.locator("a").get_attribute("href") == "https://example.org/report"
    expect(body.locator("pre code")).to_have_text("print('not run')")
    expect(body.locator("table td").first).to_have_text("Initech")
    expect(body).not_to_contain_text("**")
    select_word(page, "Acme Corp", field="answer")
    page.keyboard.press("o")
    select_word(page, "Globex", field="answer")
    page.keyboard.press("o")
    select_word(page, "Initech", field="answer")  # inside a table cell
    page.keyboard.press("o")
    control_shot(page, "markdown")

    result = submit_and_get(page, item)

    spans = sorted((s["start"], s["end"]) for s in result["entities"])
    assert [MARKDOWN_ANSWER[a:b] for a, b in spans] == ["Acme Corp", "Globex", "Initech"]  # source offsets


def test_hostile_item_text_and_rich_text_never_execute(page_for, people):
    project, item = setup(
        people,
        [{"name": "entities", "type": "spans", "field": "body", "labels": [{"value": "ORG", "hotkey": "o"}]}],
        fields=[{"name": "title", "type": "text"}, {"name": "body", "type": "rich_text"}],
        data={"title": HOSTILE, "body": "<p>Report by <b>Acme</b> &amp; co.</p>" + HOSTILE},
    )
    page = open_label(page_for, people, project)
    expect(page.locator(".lb-fieldcard").first).to_contain_text("<script>")  # text, not markup
    rich = page.locator(".tx-body--rich")
    assert rich.locator("script, img, svg, iframe").count() == 0
    link = rich.locator("a")
    assert link.count() == 0 or link.get_attribute("href") is None
    select_word(page, "Acme", field="body")
    page.keyboard.press("o")
    shot(page, "label-rich-text", full_page=False)
    result = submit_and_get(page, item)
    source = "<p>Report by <b>Acme</b> &amp; co.</p>" + HOSTILE
    (span,) = result["entities"]
    assert source[span["start"] : span["end"]] == "Acme"
