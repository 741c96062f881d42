"""The labeling and review pages in a real browser (Chromium): every text-family control labelled
with real clicks and keys and checked in the database, the review flow, drafts that survive a
reload, and hostile item data that never executes."""

import shutil

import pytest

from annotation.models import Annotation

from .conftest import REPO_ROOT, select_word, shot
from .labeling_helpers import control_shot, open_label, setup, submit_and_get

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# --- every text-family control ----------------------------------------------------------------------


def test_single_choice_with_a_hotkey(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "sentiment",
                "type": "single_choice",
                "field": "text",
                "required": True,
                "title": "Sentiment",
                "labels": [
                    {"value": "positive", "hotkey": "1", "color": "#2e7d32"},
                    {"value": "negative", "hotkey": "2", "color": "#c62828"},
                    {"value": "neutral", "hotkey": "3"},
                ],
            }
        ],
    )
    page = open_label(page_for, people, project)
    page.keyboard.press("Control+Enter")  # required and empty: refused in the browser
    expect(page.locator("[data-control='sentiment'] .lb-problems")).to_contain_text("Required")
    page.keyboard.press("2")
    page.keyboard.press("Control+z")
    expect(page.get_by_role("radio", name="negative")).to_have_attribute("aria-checked", "false")
    page.keyboard.press("Control+Shift+Z")
    expect(page.get_by_role("radio", name="negative")).to_have_attribute("aria-checked", "true")
    page.keyboard.press("1")
    expect(page.get_by_role("radio", name="positive")).to_have_attribute("aria-checked", "true")
    control_shot(page, "single_choice")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("sentiment: positive")
    shutil.copyfile(
        shot(page, "label-help", full_page=False), REPO_ROOT / "docs" / "screenshots" / "labeling-help.png"
    )
    page.keyboard.press("Escape")
    assert submit_and_get(page, item) == {"sentiment": "positive"}


def test_multiple_choice_by_clicks(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "topics",
                "type": "multiple_choice",
                "field": "text",
                "title": "Topics",
                "labels": [{"value": "battery"}, {"value": "screen"}, {"value": "price"}],
            }
        ],
    )
    page = open_label(page_for, people, project)
    page.get_by_role("checkbox", name="screen").click()
    page.get_by_role("checkbox", name="battery").click()
    control_shot(page, "multiple_choice")
    assert submit_and_get(page, item) == {"topics": ["battery", "screen"]}


def test_taxonomy_with_the_filter(page_for, people):
    tree = [
        {
            "value": "Electronics",
            "children": [{"value": "Phones", "children": [{"value": "Batteries"}]}, {"value": "Laptops"}],
        },
        {"value": "Home", "children": [{"value": "Kitchen"}]},
    ]
    project, item = setup(
        people,
        [{"name": "category", "type": "taxonomy", "field": "text", "title": "Category", "choices": tree}],
    )
    page = open_label(page_for, people, project)
    page.get_by_label("Filter category").fill("batt")
    page.get_by_text("Electronics \u203a Phones \u203a Batteries").click()
    page.get_by_label("Filter category").fill("")
    control_shot(page, "taxonomy")
    assert submit_and_get(page, item) == {"category": ["Electronics", "Phones", "Batteries"]}


def test_rating_with_arrow_keys(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "quality",
                "type": "rating",
                "field": "text",
                "title": "Quality",
                "min": 1,
                "max": 5,
                "min_label": "poor",
                "max_label": "excellent",
            }
        ],
    )
    page = open_label(page_for, people, project)
    page.get_by_role("radio", name="3").click()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="4")).to_be_focused()
    control_shot(page, "rating")
    assert submit_and_get(page, item) == {"quality": 4}


def test_rating_with_number_keys_and_the_keyboard_only(page_for, people):
    """Issue #16: on default settings an annotator rates with a number key anywhere on the page,
    tabs between controls, and submits, never touching the mouse; the answer is read back over the API."""
    project, item = setup(
        people,
        [
            {"name": "quality", "type": "rating", "field": "text", "title": "Quality", "min": 1, "max": 5},
            {"name": "note", "type": "text", "field": "text", "title": "Note"},
        ],
    )
    page = open_label(page_for, people, project)
    hint = page.locator("[data-control=quality] .lb-rating__keys")
    expect(hint).to_contain_text("rate anywhere on the page")
    page.keyboard.press("4")  # nothing focused: the form's only rating takes the digit
    expect(page.get_by_role("radio", name="4")).to_have_attribute("aria-checked", "true")
    for _ in range(20):  # past the top bar and the item, to the rating scale: one stop, on its value
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('[data-control=quality]')"):
            break
    expect(page.get_by_role("radio", name="4")).to_be_focused()
    page.keyboard.press("Tab")  # the scale is one stop: next is the note
    expect(page.get_by_role("textbox", name="Note")).to_be_focused()
    page.keyboard.type("Lasts 2 days")  # digits typed into a text box stay text
    expect(page.get_by_role("radio", name="4")).to_have_attribute("aria-checked", "true")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("radio", name="4")).to_be_focused()
    page.keyboard.press("5")
    expect(page.get_by_role("radio", name="5")).to_be_focused()
    expect(page.get_by_role("radio", name="5")).to_have_attribute("aria-checked", "true")
    page.evaluate("window.scrollTo(0, 0)")
    shutil.copyfile(
        shot(page, "label-rating-keys", full_page=False),
        REPO_ROOT / "docs" / "screenshots" / "labeling-rating-keys.png",
    )
    page.keyboard.press("Enter")  # on the focused scale: submits, does not click (clear) the value
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
    assert page.errors == []
    response = page.request.get(f"/api/projects/{project.id}/annotations/")
    assert response.ok, response.text()
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    stored = [(row["item"], row["result"]) for row in rows]
    assert stored == [(item.id, {"quality": 5, "note": "Lasts 2 days"})]


def test_free_text_is_one_undo_step(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "demonstration",
                "type": "text",
                "field": "text",
                "title": "Ideal answer",
                "required": True,
                "placeholder": "Write the ideal answer",
            }
        ],
    )
    page = open_label(page_for, people, project)
    box = page.get_by_placeholder("Write the ideal answer")
    box.click()
    box.type("Two days <b>of</b> battery.")
    page.keyboard.press("1")  # typing never triggers hotkeys
    control_shot(page, "text")
    box.press("Control+Enter")
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
    assert Annotation.objects.get(item=item).result == {"demonstration": "Two days <b>of</b> battery.1"}


def test_ranking_by_keys_and_drag(page_for, people):
    project, item = setup(
        people,
        [{"name": "order", "type": "ranking", "field": "responses", "required": True, "title": "Best first"}],
        fields=[{"name": "prompt", "type": "text"}, {"name": "responses", "type": "candidates"}],
        data={
            "prompt": "Summarise the review.",
            "responses": [
                {"id": "r1", "text": "Good battery."},
                {"id": "r2", "text": "Battery lasts two days."},
                {"id": "r3", "text": "Phone."},
            ],
        },
    )
    page = open_label(page_for, people, project)
    rows = page.locator(".lb-rank__row")
    rows.nth(1).focus()
    page.keyboard.press("Alt+ArrowUp")  # r2 first
    expect(rows.nth(0)).to_have_attribute("data-id", "r2")
    rows.nth(2).drag_to(rows.nth(1))  # r3 above r1
    expect(rows.nth(1)).to_have_attribute("data-id", "r3")
    control_shot(page, "ranking")
    assert submit_and_get(page, item) == {"order": ["r2", "r3", "r1"]}


def test_pairwise_with_strength(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "preference",
                "type": "pairwise",
                "field": "responses",
                "required": True,
                "strength": True,
                "title": "Preference",
            }
        ],
        fields=[{"name": "prompt", "type": "text"}, {"name": "responses", "type": "candidates"}],
        data={"prompt": "Summarise:", "responses": ["A short summary.", "A longer, more careful summary."]},
    )
    page = open_label(page_for, people, project)
    page.keyboard.press("]")
    page.get_by_role("radio", name="Much better").click()
    control_shot(page, "pairwise")
    assert submit_and_get(page, item) == {"preference": {"choice": "B", "strength": 3}}


SPAN_TEXT = "😀 Zoë Adams joined Acme in May."


def test_spans_select_then_key_in_code_points(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "entities",
                "type": "spans",
                "field": "text",
                "title": "Named entities",
                "labels": [
                    {"value": "PER", "hotkey": "p", "color": "#1565c0"},
                    {"value": "ORG", "hotkey": "o", "color": "#6a1b9a"},
                ],
            }
        ],
        data={"text": SPAN_TEXT},
    )
    page = open_label(page_for, people, project)
    select_word(page, "Zoë Adams")
    page.keyboard.press("p")
    select_word(page, "Acme")
    page.keyboard.press("p")
    # relabel the selected span with a key, then undo/redo keeps it
    page.keyboard.press("o")
    expect(page.locator("[data-control='entities'] .lb-list")).to_contain_text("ORG")
    # overlap refused
    select_word(page, "Adams joined")
    page.keyboard.press("o")
    expect(page.locator("section[data-control='entities']")).to_contain_text("may not overlap")
    page.keyboard.press("Escape")
    control_shot(page, "spans")
    result = submit_and_get(page, item)["entities"]
    assert [(s["start"], s["end"], s["label"], s["text"]) for s in result] == [
        (2, 11, "PER", "Zoë Adams"),
        (19, 23, "ORG", "Acme"),
    ]
    assert SPAN_TEXT[2:11] == "Zoë Adams"  # Python str: code points


def test_relations_between_spans(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "entities",
                "type": "spans",
                "field": "text",
                "title": "Entities",
                "labels": [{"value": "PER", "hotkey": "p"}, {"value": "ORG", "hotkey": "o"}],
            },
            {
                "name": "links",
                "type": "relations",
                "field": "text",
                "spans": "entities",
                "title": "Relations",
                "labels": [{"value": "works_for", "hotkey": "w"}],
            },
        ],
        data={"text": SPAN_TEXT},
    )
    page = open_label(page_for, people, project)
    select_word(page, "Zoë Adams")
    page.keyboard.press("p")
    select_word(page, "Acme")
    page.keyboard.press("o")
    page.get_by_label("From").select_option(label="PER: Zoë Adams")
    page.get_by_label("To").select_option(label="ORG: Acme")
    page.get_by_role("button", name="+ works_for").click()
    expect(page.get_by_role("list", name="Relations of links")).to_contain_text("works_for")
    # drawn over the text: an arc from Zoë Adams up and over to Acme, with its label at the top
    arrow = page.locator("svg.tx-arrows .tx-arrow")
    expect(arrow).to_have_count(1)
    expect(arrow.locator("text")).to_have_text("works_for")
    start, end = (page.locator(".tx-mark", has_text=t).first.bounding_box() for t in ("Zoë Adams", "Acme"))
    arc = arrow.locator("path").bounding_box()
    assert arc["x"] <= start["x"] + start["width"] / 2 + 2  # from the middle of the first mark
    assert arc["x"] + arc["width"] >= end["x"] + end["width"] / 2 - 2  # to the middle of the second
    assert arc["y"] < min(start["y"], end["y"])  # it rises above the line
    control_shot(page, "relations")
    result = submit_and_get(page, item)
    assert result["links"] == [{"from": "s1", "to": "s2", "label": "works_for"}]


def test_chat_turn_labels_on_the_focused_turn(page_for, people):
    project, item = setup(
        people,
        [
            {
                "name": "turn_labels",
                "type": "chat_turn_labels",
                "field": "chat",
                "multiple": True,
                "title": "Turn quality",
                "per_turn_roles": ["assistant"],
                "labels": [{"value": "helpful", "hotkey": "h"}, {"value": "hallucination", "hotkey": "x"}],
            }
        ],
        fields=[{"name": "chat", "type": "conversation", "source": "messages"}],
        data={
            "messages": [
                {"role": "user", "content": "Capital of Australia?"},
                {"role": "assistant", "content": "Sydney."},
                {"role": "user", "content": "Sure?"},
                {"role": "assistant", "content": "Sorry: Canberra."},
            ]
        },
    )
    page = open_label(page_for, people, project)
    page.keyboard.press("x")  # the first labelable turn
    page.keyboard.press("j")  # next assistant turn
    page.keyboard.press("h")
    page.get_by_role("group", name="turn_labels for turn 3").get_by_role(
        "button", name="hallucination"
    ).click()
    page.get_by_role("group", name="turn_labels for turn 3").get_by_role(
        "button", name="hallucination"
    ).click()
    control_shot(page, "chat_turn_labels")
    assert submit_and_get(page, item) == {"turn_labels": {"1": ["hallucination"], "3": ["helpful"]}}
