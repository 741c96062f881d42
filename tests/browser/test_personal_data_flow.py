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
