"""Gold items in the browser: from the Quality tab to the gold page, a refused reference answer with
its problems listed, a saved one, promotion of a consensus answer, and unmarking."""

import pytest

from annotation.models import Item
from quality.models import GoldStandard
from quality.services import quality_compute
from tests.annotation.workflow_kit import make_lab
from tests.quality.test_quality_service import label_everything, pattern

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_manages_gold_items_from_the_quality_tab(page_for, people):
    lab = make_lab(people, overlap=3, annotators=3, items=4)
    label_everything(lab, pattern)
    quality_compute(project_id=lab.project.id, full=True)
    first, second = lab.items[0], lab.items[1]

    page = page_for(people.manager)
    page.goto(f"/projects/{lab.project.id}/quality/")
    page.get_by_role("link", name="Quality").first.wait_for()
    page.get_by_role("link", name="Gold items", exact=True).click()
    expect(page.get_by_role("heading", name="Make an item gold")).to_be_visible()

    page.get_by_label("Item number").fill(str(first.id))
    page.get_by_label("Reference answer (JSON)").fill('{"sentiment": "ecstatic"}')
    page.get_by_role("button", name="Save reference answer").click()
    expect(page.get_by_role("list", name="Problems with the reference answer")).to_contain_text("sentiment")
    assert not GoldStandard.objects.exists()

    page.get_by_label("Reference answer (JSON)").fill('{"sentiment": "negative"}')
    page.get_by_role("button", name="Save reference answer").click()
    expect(page.get_by_role("cell", name=f"#{first.id}")).to_be_visible()
    assert GoldStandard.objects.get(item=first).result == {"sentiment": "negative"}

    page.get_by_label("Item number").fill(str(second.id))
    page.get_by_role("button", name="Use consensus").click()
    expect(page.get_by_role("cell", name=f"#{second.id}")).to_be_visible()
    assert GoldStandard.objects.get(item=second).source == "consensus"
    shot(page, "gold-items")

    page.get_by_role("button", name=f"Unmark item {first.id} as gold").click()
    expect(page.get_by_text("is no longer a gold item")).to_be_visible()
    assert not Item.objects.get(pk=first.id).is_gold


def test_manager_changes_quality_settings_from_the_quality_tab(page_for, people):
    from projects.quality_settings import quality_settings

    lab = make_lab(people, overlap=2, annotators=2, items=2)
    page = page_for(people.manager)
    page.goto(f"/projects/{lab.project.id}/quality/")
    page.locator(".q-pagehead__links").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("sentiment single_choice").select_option("majority")
    page.get_by_label("Pause annotators whose gold accuracy is below").fill("2")
    page.get_by_role("button", name="Save quality settings").click()
    expect(page.get_by_text("min_gold_accuracy must be")).to_be_visible()
    page.get_by_label("Pause annotators whose gold accuracy is below").fill("0.85")
    page.get_by_role("button", name="Save quality settings").click()
    expect(page.get_by_text("Quality settings saved")).to_be_visible()
    shot(page, "quality-settings")
    lab.project.refresh_from_db()
    knobs = quality_settings(lab.project)
    assert knobs.methods == {"sentiment": "majority"} and knobs.min_gold_accuracy == 0.85
