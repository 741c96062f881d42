"""The quality dashboard as a manager sees it: a project with real annotations (submitted through the
labeling services, so the quality backend computed real reports), the tables, heatmap and chart, a CSV
download, and a live update when an annotator submits through the API while the page is open."""

import csv
import io
import json
import urllib.request

import pytest

from accounts.services import api_token_create
from annotation.workflow.services.claim import next_item_for_annotator
from annotation.workflow.services.submit import annotation_submit
from projects.models import ProjectMembership
from projects.services import project_member_pause
from quality.models import QualityRun
from quality.services import gold_set, quality_compute
from tests.annotation.workflow_kit import make_lab
from tests.factories import ProjectMembershipFactory, UserFactory, make_items

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "<img src=x onerror=window.__xss=1>"
TRUTH = ["positive", "negative", "neutral", "positive", "negative", "positive", "neutral", "negative"]
FLIP = {"positive": "negative", "negative": "neutral", "neutral": "positive"}


def _label_all(lab, annotators, items) -> int:
    """Every annotator labels until the queue is empty; the hostile-named one flips every other answer."""
    index = {item.id: i for i, item in enumerate(items)}
    submitted = 0
    for _ in range(len(items) * len(annotators)):
        progressed = False
        for user in annotators:
            assignment = next_item_for_annotator(project=lab.project, annotator=user).assignment
            if assignment is None:
                continue
            i = index.get(assignment.item_id, 0)
            label = TRUTH[i % len(TRUTH)]
            if user.username == HOSTILE and i % 2 == 0:
                label = FLIP[label]
            annotation_submit(
                project=lab.project,
                annotator=user,
                assignment_id=assignment.pk,
                result={"sentiment": label},
                active_ms=3000 + 700 * i,
            )
            submitted += 1
            progressed = True
        if not progressed:
            return submitted
    return submitted


def _api_post(url: str, key: str, body: dict | None = None) -> dict:
    data = json.dumps(body or {}).encode()
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test server
        return json.loads(response.read() or b"{}")


def _labelled_project(people):
    """Three honest annotators and one with a hostile username who flips every other answer; one gold item.
    Each submission schedules a recompute (eager here), so the project has a history of runs."""
    lab = make_lab(people, overlap=3, annotators=3, items=0)
    hostile = ProjectMembershipFactory(
        project=lab.project, user=UserFactory(username=HOSTILE), role=ProjectMembership.Role.ANNOTATOR
    ).user
    annotators = [*lab.annotators, hostile]
    items = make_items(
        lab.project,
        *[
            {"text": f"Headline {n}: the council votes today", "split": ["train", "test"][n % 2]}
            for n in range(len(TRUTH))
        ],
    )
    gold_set(project=lab.project, actor=people.manager, item_id=items[1].id, result={"sentiment": "negative"})
    submitted = _label_all(lab, annotators, items)
    assert submitted >= 2 * len(TRUTH)
    if not QualityRun.objects.filter(project=lab.project, status=QualityRun.Status.DONE).exists():
        quality_compute(project_id=lab.project.id, full=True)  # normally scheduled by each submission
    return lab, annotators, hostile, submitted


def test_manager_reads_the_dashboard_downloads_a_csv_and_sees_a_live_update(page_for, people, server_url):
    lab, annotators, _, submitted = _labelled_project(people)
    before = QualityRun.objects.filter(project=lab.project).order_by("-id").first()
    assert before is not None and before.annotations == submitted

    page = page_for(people.manager)
    page.goto(f"/projects/{lab.project.id}/quality/")

    expect(page.locator("#quality-live")).to_have_text("Live")
    expect(page.locator("#quality-stamp")).to_contain_text(f"from {submitted} annotations")
    expect(page.locator("[data-kpi=alpha] .q-kpi__value")).to_have_text(_two_decimals())
    rows = page.locator("#annotators-table tbody tr")
    expect(rows).to_have_count(len(annotators))
    expect(page.locator("#annotators-table td.q-name").filter(has_text=HOSTILE)).to_have_count(1)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    heat_cells = page.locator("[data-cell]")
    expect(heat_cells).to_have_count(len(annotators) ** 2)
    expect(page.locator(".q-chart__svg circle").first).to_be_attached()
    expect(page.locator(".q-confusion tbody tr")).to_have_count(3)

    # The heatmap is reachable by keyboard: one tab stop, arrows move, the detail line follows.
    page.locator("[data-cell][tabindex='0']").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".q-heatmap__detail")).to_contain_text("shared item")

    with page.expect_download() as download_info:
        page.locator("#quality-annotators").get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename == "quality-annotators.csv"
    with open(download.path(), encoding="utf-8") as handle:
        table = list(csv.DictReader(io.StringIO(handle.read())))
    assert sorted(row["username"].lstrip("'") for row in table) == sorted(u.username for u in annotators)

    # An annotator submits through the API (so in the server process): the server recomputes after
    # commit, broadcasts quality.updated, and the open page refetches.
    make_items(lab.project, "Late headline: the council adjourns")
    _, key = api_token_create(user=people.annotator, name="browser test")
    base = f"{server_url}/api/projects/{lab.project.id}/"
    assignment = _api_post(f"{base}queue/next/", key)["assignment"]
    assert assignment is not None
    _api_post(f"{base}assignments/{assignment['id']}/submit/", key, {"result": {"sentiment": "positive"}})

    expect(page.locator("#quality-updated")).to_have_text("Updated just now")
    expect(page.locator("#quality-stamp")).to_contain_text(f"from {submitted + 1} annotations")
    after = QualityRun.objects.filter(project=lab.project).order_by("-id").first()
    assert after.id > before.id

    # Three of four annotators always give the true label, so each consensus row of the confusion
    # matrix must peak on its own label (the diagonal).
    for row in page.locator(".q-confusion tbody tr").all():
        label = row.locator("th").inner_text()
        counts = [int(c.replace(",", "")) for c in row.locator(".q-confusion__count").all_inner_texts()]
        assert counts.index(max(counts)) == ["positive", "negative", "neutral"].index(label), (label, counts)


def test_first_report_is_computed_from_the_empty_state(page_for, people):
    lab = make_lab(people, overlap=2, annotators=2, items=3)

    page = page_for(people.manager)
    page.goto(f"/projects/{lab.project.id}/quality/")

    empty = page.locator("#quality-empty")
    expect(empty.get_by_role("heading", name="No quality report yet")).to_be_visible()
    expect(page.locator("#quality-stamp")).to_have_text("Not computed yet")
    assert QualityRun.objects.filter(project=lab.project).count() == 0

    page.get_by_role("button", name="Recompute now").first.click()

    expect(empty).to_have_count(0)
    expect(page.locator("#quality-stamp")).to_contain_text("from 0 annotations, full recompute")
    expect(page.locator("#quality-annotators")).to_contain_text("No annotator has submitted anything yet.")
    assert QualityRun.objects.filter(project=lab.project, status=QualityRun.Status.DONE).count() == 1


def test_reviewer_sees_a_paused_annotator_and_only_a_manager_can_requalify(page_for, people):
    lab, _, hostile, _ = _labelled_project(people)
    member = ProjectMembership.objects.get(project=lab.project, user=hostile)
    reason = "Gold accuracy 0.40 < 0.70"
    project_member_pause(project=lab.project, actor=people.manager, membership_id=member.id, reason=reason)
    quality_compute(project_id=lab.project.id, full=True)
    url = f"/projects/{lab.project.id}/quality/"

    reviewer = page_for(people.reviewer)
    reviewer.goto(url)
    row = reviewer.locator("#annotators-table tbody tr").filter(has_text=HOSTILE)
    expect(row.locator(".badge")).to_have_text("Paused")
    expect(row).to_contain_text(reason)
    expect(reviewer.get_by_role("button", name="Re-qualify")).to_have_count(0)
    expect(reviewer.get_by_role("button", name="Recompute now")).to_have_count(0)

    manager = page_for(people.manager)
    manager.goto(url)
    row = manager.locator("#annotators-table tbody tr").filter(has_text=HOSTILE)
    expect(manager.locator("#slices-table tbody tr").first).to_contain_text("source")
    manager.locator("[data-cell][tabindex='0']").focus()
    manager.keyboard.press("ArrowRight")
    expect(manager.locator(".q-heatmap__detail")).to_contain_text("shared item")
    manager.evaluate("window.scrollTo(0, 0)")  # the sticky top bar would otherwise sit mid-page in the shot
    shot(manager, "quality-dashboard")
    row.get_by_role("button", name=f"Re-qualify {HOSTILE}").click()

    expect(row.locator(".badge")).to_have_text("Active")
    expect(row.get_by_role("button", name="Re-qualify")).to_have_count(0)
    member.refresh_from_db()
    assert member.paused_at is None


def _two_decimals():
    import re

    return re.compile(r"^-?\d\.\d\d$")
