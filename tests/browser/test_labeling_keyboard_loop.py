"""The lean labeling path as its user meets it: an annotator labels three items with the keyboard
only (a hotkey, then Ctrl+Enter), each submit leading straight to the next item, on default settings
in a fresh project; every answer is stored once."""

import pytest

from annotation.models import Annotation
from tests.factories import make_items

from .conftest import shot
from .labeling_helpers import open_label, setup

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = ["The battery lasts two days.", "The screen cracked in a week.", "It is a phone."]
KEYS = ["1", "2", "3"]  # positive, negative, neutral


def test_an_annotator_labels_three_items_with_the_keyboard(page_for, people):
    project, _first = setup(
        people,
        [
            {
                "name": "sentiment",
                "type": "single_choice",
                "field": "text",
                "required": True,
                "labels": [
                    {"value": "positive", "hotkey": "1"},
                    {"value": "negative", "hotkey": "2"},
                    {"value": "neutral", "hotkey": "3"},
                ],
            }
        ],
        data={"text": TEXTS[0]},
    )
    make_items(project, {"data": {"text": TEXTS[1]}}, {"data": {"text": TEXTS[2]}})
    page = open_label(page_for, people, project)
    app = page.locator(".lb-app")
    for number, (text, key) in enumerate(zip(TEXTS, KEYS, strict=True), start=1):
        expect(app).to_contain_text(text)
        page.keyboard.press(key)
        if number == 2:
            shot(page, "label-keyboard-loop", full_page=False)
        page.keyboard.press("Control+Enter")
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
    assert page.errors == []
    answers = {a.item.data["text"]: a.result["sentiment"] for a in Annotation.objects.select_related("item")}
    assert answers == dict(zip(TEXTS, ["positive", "negative", "neutral"], strict=True))
