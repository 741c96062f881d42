"""Consent, licences and the release policy in a real browser (#18), by a project manager on DEFAULT
settings from a fresh project: import items, withdraw consent on two of them from the data manager,
give one a non-commercial licence on its item page (and see the change history), set the release
policy on the Settings tab, build a CC-BY-4.0 release and see what it left out and why."""

import json
from pathlib import Path

import pytest

from annotation.models import Item
from core.models import AuditEvent
from exports.models import Release
from projects import services
from quality.models import ConsensusResult
from tests.factories import label_schema

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = 8


def test_manager_withdraws_consent_sets_policy_and_sees_the_exclusions(page_for, people, tmp_path):
    project = people.project
    services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    upload = tmp_path / "reviews.jsonl"
    upload.write_text(
        "".join(
            json.dumps({"id": f"rev-{n}", "text": f"Review number {n}"}) + "\n" for n in range(1, ITEMS + 1)
        ),
        encoding="utf-8",
    )
    errors: list[str] = []
    page = page_for(people.manager)
    page.on("pageerror", lambda error: errors.append(str(error)))

    # 1. Import through the Data tab.
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    page.locator("#import-file").set_input_files(Path(upload))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text(f"Imported {ITEMS} items")
    # (labeling is not this test's subject: every item gets a consensus answer directly)
    ConsensusResult.objects.bulk_create(
        ConsensusResult(
            project=project,
            item=item,
            control="sentiment",
            method="majority_vote",
            method_version="1",
            answer="positive",
            confidence=1.0,
            agreement=1.0,
        )
        for item in Item.objects.filter(project=project)
    )

    # 2. Withdraw consent on two items from the data manager.
    page.goto(f"/projects/{project.id}/data/")
    page.get_by_label("Select rev-1", exact=True).check()
    page.get_by_label("Select rev-2", exact=True).check()
    page.get_by_label("Action", exact=True).select_option("consent")
    page.get_by_label("Value", exact=True).fill("withdrawn")
    shot(page, "consent-bulk-withdraw")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messages")).to_contain_text("Set consent")
    assert sorted(
        Item.objects.filter(project=project, consent="withdrawn").values_list("external_id", flat=True)
    ) == [
        "rev-1",
        "rev-2",
    ]

    # 3. A non-commercial licence on one item, on its item page; a typo is refused first.
    page.goto(f"/projects/{project.id}/data/")
    page.get_by_role("link", name="rev-3", exact=True).click()
    page.get_by_label("Licence (SPDX").fill("CC-BY-NC-9.0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("CC-BY-NC-9.0")
    page.get_by_label("Licence (SPDX").fill("cc-by-nc-4.0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#item-licence-value")).to_have_text("CC-BY-NC-4.0")
    expect(page.locator("#consent-history")).to_contain_text("licence: none → CC-BY-NC-4.0")
    shot(page, "consent-item-page")

    # 4. The release policy on the Settings tab.
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Release policy")).to_be_visible()
    page.get_by_label("Allow no-derivatives sources").check()
    shot(page, "consent-release-policy")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    project.refresh_from_db()
    assert project.settings["release"] == {"allow_no_derivatives": True}

    # 5. Build a CC-BY-4.0 release and see the exclusions.
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    page.get_by_label("Name", exact=True).fill("consented")
    page.get_by_label("Licence", exact=True).fill("CC-BY-4.0")
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("heading", name="Release 1: consented")).to_contain_text("Published")
    exclusions = page.locator("#release-exclusions")
    expect(exclusions).to_contain_text("consent_withdrawn")
    expect(exclusions.get_by_role("row", name="consent_withdrawn")).to_contain_text("2")
    expect(exclusions.get_by_role("row", name="licence_non_commercial")).to_contain_text("1")
    expect(page.get_by_role("link", name="excluded.jsonl")).to_be_visible()
    exclusions.scroll_into_view_if_needed()
    shot(page, "consent-release-exclusions")
    release = Release.objects.get(project=project, number=1)
    assert release.manifest["counts"]["records"] == ITEMS - 3
    assert AuditEvent.objects.filter(action="item.consent_changed").count() == 2
    assert errors == []
