"""An organisation admin migrating from Label Studio: pastes a labeling config with one tag Tessera
cannot express, previews the controls and the untranslated list, creates the project and lands on
it with the controls in place. Real clicks and keys only; default settings."""

import re
import shutil

import pytest

from projects.models import LabelSchemaVersion, Project

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFIG = """<View>
  <Text name="text" value="$review"/>
  <Choices name="sentiment" toName="text" choice="single" required="true">
    <Choice value="Positive" hotkey="1"/>
    <Choice value="Negative" hotkey="2"/>
  </Choices>
  <Labels name="entities" toName="text">
    <Label value="Product" background="#1d4ed8"/>
    <Label value="Feature" background="orange"/>
  </Labels>
  <Image name="photo" value="$photo"/>
  <BrushLabels name="mask" toName="photo">
    <Label value="Scratch"/>
  </BrushLabels>
</View>"""


def test_org_admin_creates_a_project_from_a_label_studio_config(page_for, people):
    page = page_for(people.org_admin)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.get_by_role("link", name="Start from a Label Studio config").click()
    expect(page).to_have_url(re.compile(r"/projects/new/labelstudio/$"))
    page.get_by_label("Name").fill("Migrated reviews")
    page.get_by_label("Label Studio config (XML)").fill(CONFIG)
    page.get_by_role("button", name="Preview").click()

    controls = page.locator("#labelstudio-controls tbody tr")
    expect(controls).to_have_count(2)
    expect(controls.nth(0)).to_contain_text("sentiment")
    expect(controls.nth(1)).to_contain_text("Product, Feature")
    untranslated = page.locator("#labelstudio-untranslated tbody tr")
    expect(untranslated).to_have_count(1)
    expect(untranslated).to_contain_text("<BrushLabels>")
    expect(untranslated).to_contain_text("Tessera has no brush (mask) control.")
    preview = page.get_by_test_id("schema-preview")
    expect(preview.locator(".pv-choice__text")).to_have_text(["Positive", "Negative"])
    expect(page.get_by_label("Label Studio config (XML)")).to_have_value(CONFIG)
    path = shot(page, "labelstudio-new-project")
    (REPO_ROOT / "docs" / "screenshots").mkdir(exist_ok=True)
    shutil.copyfile(path, REPO_ROOT / "docs" / "screenshots" / "labelstudio-new-project.png")
    assert not Project.objects.filter(name="Migrated reviews").exists()  # a preview creates nothing

    page.get_by_role("button", name="Create project").click()

    project = Project.objects.get(name="Migrated reviews")
    expect(page).to_have_url(re.compile(rf"/projects/{project.id}/$"))
    expect(page.locator(".messages")).to_contain_text(
        "created from a Label Studio config. 1 element(s) were not translated"
    )
    page.get_by_role("link", name="v1").click()
    expect(page.get_by_test_id("schema-preview").locator(".pv-choice__text")).to_have_text(
        ["Positive", "Negative"]
    )
    definition = LabelSchemaVersion.objects.get(project=project).definition
    assert [c["name"] for c in definition["controls"]] == ["sentiment", "entities"]
    assert errors == []
