"""A project manager on default settings (issue #16 items 3 and 4): from the project list they start
from a template, preview the LLM preference template, create the project, add two annotators, open
Settings, change the review sample, set one annotator's quota on the Members tab, and see the warning
when the overlap asks for more annotators than the project has. Real clicks and keys only."""

import re

import pytest

from projects.models import Project, ProjectMembership

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_creates_from_a_template_and_tunes_settings(page_for, people):
    page = page_for(people.manager)  # manages the fresh project "Reviews"; default organisation settings
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.get_by_role("link", name="Start from a template").click()
    expect(page).to_have_url(re.compile(r"/projects/new/$"))
    expect(page.locator("#template-gallery li")).to_have_count(10)
    page.get_by_role("link", name="LLM pairwise preference").click()
    preview = page.get_by_test_id("schema-preview")
    expect(preview).to_be_visible()
    expect(page.locator("#template-controls tbody tr")).to_have_count(3)
    expect(page.locator("#template-controls")).to_contain_text("pairwise")
    shot(page, "manager-template-preview")

    page.get_by_label("Name").fill("Preferences")
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/projects/\d+/(#.*)?$"))
    project = Project.objects.get(name="Preferences")
    assert project.overlap == 2 and project.settings == {"labeling": {"review_fraction": 0.1}}

    # Two annotators on the Members tab.
    page.get_by_role("link", name="Members", exact=True).click()
    for username in ("annotator", "org_member"):
        page.get_by_label("Username", exact=True).fill(username)
        page.get_by_label("Role", exact=True).select_option("annotator")
        page.get_by_role("button", name="Add member").click()
        expect(page.locator("#members")).to_contain_text(username)

    # Settings: overlap 2 with two annotators can finish (escalation has nobody spare: it says so);
    # review sample 10% by default.
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("#settings-warnings li")).to_have_count(1)
    expect(page.locator('#settings-warnings li[data-code="no_spare_annotator"]')).to_be_visible()
    review = page.get_by_label("Review sample")
    expect(review).to_have_value("0.1")
    review.fill("0.25")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    project.refresh_from_db()
    assert project.settings["labeling"]["review_fraction"] == 0.25
    shot(page, "manager-settings")

    # A server-side error lands next to its field and saves nothing.
    page.get_by_label("Lease length (seconds)").fill("5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#setting-labeling-lease-seconds-error")).to_contain_text("from 30 to 86400")

    # Per-member quota on the Members tab.
    page.get_by_role("link", name="Members", exact=True).click()
    page.get_by_label("Quota of annotator").fill("5")
    page.get_by_role("button", name="Save overrides of annotator").click()
    expect(page.get_by_text("Member overrides saved.")).to_be_visible()
    assert ProjectMembership.objects.get(project=project, user=people.annotator).quota == 5
    shot(page, "manager-member-overrides")

    # Overlap above the number of annotators: the warning is the first thing on the page.
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Annotators per item (overlap)").fill("3")
    page.get_by_role("button", name="Save settings").click()
    warning = page.locator("#settings-warnings")
    expect(warning).to_be_visible()
    expect(warning.locator('li[data-code="overlap_exceeds_annotators"]')).to_contain_text(
        "Each item wants 3 annotators but the project has 2"
    )
    shot(page, "manager-settings-warning")
    assert errors == []
