"""Personal data (#18), as the people who use it, on default settings from a fresh project: the manager
scans the Data tab, sees the counts per type and the spans highlighted on the item page, and turns on
"Annotators see placeholders" on the Settings tab; the annotator labels the masked item, and neither
the page nor any network response (HTTP or websocket) carries the raw email or phone number, while the
span they drew over the placeholder is stored on the original text's offsets."""

import pytest

from annotation.models import Annotation, PiiFinding
from projects import services
from tests.factories import make_items

from .conftest import select_word, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "jane.doe@example.com"
PHONE = "+1 415-555-2671"
PHONE_DIGITS = "415-555-2671"
TEXT = f"Please write to {EMAIL} or call {PHONE} about the Acme order."


def test_manager_masks_and_annotator_never_sees_the_raw_values(page_for, people):
    project = people.project
    services.schema_version_create(
        project=project,
        actor=people.manager,
        definition={
            "version": 1,
            "fields": [{"name": "text", "type": "text"}],
            "controls": [
                {
                    "name": "entities",
                    "type": "spans",
                    "field": "text",
                    "title": "Entities",
                    "labels": [{"value": "CONTACT", "hotkey": "c"}, {"value": "ORG", "hotkey": "o"}],
                }
            ],
        },
    )
    (item,) = make_items(project, TEXT)

    # The manager scans on the Data tab and sees the counts per type.
    manager = page_for(people.manager)
    manager.goto(f"/projects/{project.id}/data/")
    manager.get_by_role("button", name="Scan for personal data").click()
    expect(manager.get_by_text("Scanning the items for personal data")).to_be_visible()
    counts = manager.locator("#pii-counts")
    expect(counts).to_contain_text("EMAIL")
    expect(counts).to_contain_text("PHONE")
    expect(manager.locator("#pii-items")).to_have_text("1")
    manager.locator("#personal-data").scroll_into_view_if_needed()
    shot(manager, "pii-data-tab")
    assert set(PiiFinding.objects.filter(item=item).values_list("type", flat=True)) == {"EMAIL", "PHONE"}

    # The data manager's filter finds the item; its page highlights the spans with their type.
    manager.goto(f"/projects/{project.id}/data/?personal_data=true#items")
    expect(manager.locator("#items .badge--pii").first).to_be_visible()
    manager.goto(f"/projects/{project.id}/items/{item.id}/")
    expect(manager.locator("mark.pii[data-pii-type='EMAIL']")).to_contain_text(EMAIL)
    expect(manager.locator("#pii-findings tbody tr")).to_have_count(2)
    manager.get_by_role("button", name=f"Confirm EMAIL {EMAIL} as personal data").click()
    expect(manager.locator("mark.pii--confirmed")).to_contain_text(EMAIL)
    shot(manager, "pii-item-page")

    # Settings: annotators see placeholders.
    manager.goto(f"/projects/{project.id}/settings/")
    manager.get_by_label("Annotators see placeholders").check()
    manager.locator("#settings-privacy").scroll_into_view_if_needed()
    shot(manager, "pii-settings", full_page=False)
    manager.get_by_role("button", name="Save settings").click()
    expect(manager.get_by_text("Settings saved.")).to_be_visible()
    project.refresh_from_db()
    assert project.settings["privacy"] == {"mask_for_annotators": True}

    # The annotator labels the masked item; every response is recorded.
    annotator = page_for(people.annotator)
    responses = []
    frames: list[str] = []
    annotator.on("response", lambda response: responses.append(response))
    annotator.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    annotator.goto(f"/projects/{project.id}/label/")
    expect(annotator.locator(".lb-app[data-phase='working']")).to_be_visible()
    body = annotator.locator(".tx-body")
    expect(body).to_contain_text("[EMAIL]")
    expect(body).to_contain_text("[PHONE]")
    select_word(annotator, "[EMAIL]")
    annotator.keyboard.press("c")
    select_word(annotator, "Acme")
    annotator.keyboard.press("o")
    expect(annotator.locator("[data-control='entities'] .lb-list")).to_contain_text("CONTACT")
    shot(annotator, "pii-annotator-masked", full_page=False)
    html = annotator.content()
    annotator.keyboard.press("Control+Enter")
    expect(annotator.locator(".lb-app[data-phase='empty']")).to_be_visible()

    for raw in (EMAIL, PHONE_DIGITS):
        assert raw not in html
        assert not any(raw in frame for frame in frames)
    seen = 0
    for response in responses:
        try:
            content = response.body().decode("utf-8", "replace")
        except Exception:  # noqa: S112  (redirects and aborted requests have no body)
            continue
        seen += 1
        assert EMAIL not in content and PHONE_DIGITS not in content, response.url
    assert seen >= 3  # the page, its API calls (next, submit) at least

    spans = Annotation.objects.get(item=item).result["entities"]
    assert [(TEXT[s["start"] : s["end"]], s["label"]) for s in spans] == [(EMAIL, "CONTACT"), ("Acme", "ORG")]


def test_reviewer_with_placeholders_reads_no_raw_value_outside_the_labeling_page(page_for, people):
    """ "Reviewers see placeholders" on: the reviewer walks the Data tab (list, a search for the email),
    the near-duplicate page, the item page and the Quality tab (a flagged gold item whose reference
    span is the email); no page and no response carries the raw email or phone number."""
    from annotation.models import Item, NearDuplicateGroup
    from annotation.pii.services import pii_detect
    from quality.models import QualityRun
    from quality.services import quality_compute

    project = people.project
    services.schema_version_create(
        project=project,
        actor=people.manager,
        definition={
            "version": 1,
            "fields": [{"name": "text", "type": "text"}],
            "controls": [
                {"name": "entities", "type": "spans", "field": "text", "labels": [{"value": "CONTACT"}]}
            ],
        },
    )
    item, twin = make_items(
        project,
        {"text": TEXT, "external_id": "ticket-1"},
        {"text": TEXT + " Thanks!", "external_id": "ticket-2"},
    )
    pii_detect(project_id=project.id)
    project.refresh_from_db()
    services.project_update(
        project=project,
        actor=people.manager,
        settings={**project.settings, "privacy": {"mask_for_reviewers": True}},
    )
    group = NearDuplicateGroup.objects.create(project=project, kind="text", similarity=0.95)
    Item.objects.filter(pk__in=[item.id, twin.id]).update(near_duplicate_group=group)
    # A real report (computed over the two items), with one flagged gold item whose reference span
    # is the email: the Quality tab lists flagged gold items with their reference answers.
    quality_compute(project_id=project.id, full=True)
    run = QualityRun.objects.filter(project=project).latest("id")
    at = TEXT.index(EMAIL)
    reference = [{"start": at, "end": at + len(EMAIL), "label": "CONTACT", "text": EMAIL}]
    flagged = {
        "item_id": item.id,
        "control": "entities",
        "reference": reference,
        "answers": 2,
        "failure_rate": 1.0,
    }
    run.report = {**run.report, "gold": {**run.report.get("gold", {}), "items": 1, "flagged": [flagged]}}
    run.save(update_fields=["report"])

    reviewer = page_for(people.reviewer)
    responses = []
    reviewer.on("response", lambda response: responses.append(response))
    pages: list[str] = []

    reviewer.goto(f"/projects/{project.id}/data/")
    expect(reviewer.locator("#item-table")).to_contain_text("[EMAIL]")
    pages.append(reviewer.content())
    reviewer.get_by_label("Search").fill(EMAIL)
    reviewer.get_by_role("button", name="Filter").click()
    expect(reviewer.locator("#filter-error")).to_contain_text("Text search is off for you in this project")
    expect(reviewer.locator("#item-table")).to_have_count(0)  # nothing says which item matched
    reviewer.locator("#items").scroll_into_view_if_needed()
    shot(reviewer, "pii-reviewer-search-refused", full_page=False)
    pages.append(reviewer.content())

    reviewer.goto(f"/projects/{project.id}/data/duplicates/")
    expect(reviewer.get_by_text("[EMAIL]").first).to_be_visible()
    pages.append(reviewer.content())

    reviewer.goto(f"/projects/{project.id}/items/{item.id}/")
    expect(reviewer.get_by_text("[EMAIL]").first).to_be_visible()
    pages.append(reviewer.content())

    reviewer.goto(f"/projects/{project.id}/quality/")
    expect(reviewer.locator("body")).to_contain_text("ticket-1")  # the flagged gold item, by its key
    shot(reviewer, "pii-reviewer-quality")
    pages.append(reviewer.content())

    def without_the_typed_query(content: str) -> str:  # the search box shows what the reviewer typed
        return content.replace(f'value="{EMAIL}"', "")

    for content in pages:
        content = without_the_typed_query(content)
        assert EMAIL not in content and PHONE_DIGITS not in content
    checked = 0
    for response in responses:
        try:
            content = response.body().decode("utf-8", "replace")
        except Exception:  # noqa: S112  (redirects and aborted requests have no body)
            continue
        checked += 1
        content = without_the_typed_query(content)
        assert EMAIL not in content and PHONE_DIGITS not in content, response.url
    assert checked >= 5
    assert any("/api/projects/" in r.url and "/quality/" in r.url for r in responses)
