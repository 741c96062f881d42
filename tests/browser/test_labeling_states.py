"""The labeling workflow as a manager sees it on the Data tab: progress by state, the state of each
item, and filtering by state, with work submitted through the real services."""

import pytest

from annotation.models import Item
from annotation.workflow.services.claim import next_item_for_annotator
from annotation.workflow.services.submit import annotation_submit
from projects import services
from tests.factories import label_schema, make_items

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sees_item_states_and_filters_by_them(page_for, people):
    project = people.project
    services.project_update(
        project=project, actor=people.manager, settings={"labeling": {"review_fraction": 1.0}}
    )
    services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    project.refresh_from_db()
    items = make_items(project, *[f"Headline {n}: the council <b>votes</b> today" for n in range(6)])
    for label in ("positive", "negative"):
        assignment = next_item_for_annotator(project=project, annotator=people.annotator).assignment
        annotation_submit(
            project=project,
            annotator=people.annotator,
            assignment_id=assignment.pk,
            result={"sentiment": label},
        )
    next_item_for_annotator(project=project, annotator=people.annotator)  # one item held right now
    assert list(Item.objects.filter(project=project).order_by("id").values_list("state", flat=True)) == [
        "in_review",
        "in_review",
        "open",
        "open",
        "open",
        "open",
    ]

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/data/")

    card = page.locator("#labeling")
    expect(card.get_by_role("link", name="In review")).to_be_visible()
    expect(card.locator("li").filter(has_text="In review")).to_contain_text("2")
    expect(card.locator("li").filter(has_text="Open")).to_contain_text("4")
    expect(card).to_contain_text("2 annotations · 2 waiting for review · 1 item being labeled now")
    rows = page.locator("#items tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("In review")
    expect(rows.first).to_contain_text("1/1")
    expect(rows.first).to_contain_text("<b>votes</b>")  # task text is shown as text, never as markup
    shot(page, "data-labeling-states")

    card.get_by_role("link", name="In review").click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?state=in_review#items")
    expect(rows).to_have_count(2)
    expect(page.get_by_label("State", exact=True)).to_have_value("in_review")
    texts = rows.locator(".item-text").all_inner_texts()
    assert texts == [f"Headline {n}: the council <b>votes</b> today" for n in (0, 1)]
    assert [item.id for item in items[:2]] == [int(t) for t in rows.locator("td.num").all_inner_texts()]
