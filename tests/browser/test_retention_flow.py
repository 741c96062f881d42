"""Retention and account deletion in the browser (docs/GOVERNANCE.md): on a fresh project with default
settings, the manager sets retention rules on the Settings tab and sees what the next run would delete,
runs a dry run on the retention page; the organisation admin deletes the annotator's account from the
members page and the audit log names the work's author "deleted user"."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from annotation.models import Assignment, Item
from tests.factories import make_items

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sets_retention_and_admin_deletes_an_annotators_account(page_for, people):
    project = people.project
    items = make_items(project, "an old photo", "an old note", "a new note")
    items[0].media.save("old.png", ContentFile(b"\x89PNG old"), save=True)
    long_ago = timezone.now() - timedelta(days=400)  # time travel: two items were imported a year ago
    Item.objects.filter(id__in=[items[0].id, items[1].id]).update(created_at=long_ago)
    Assignment.objects.create(
        project=project,
        item=items[2],
        annotator=people.annotator,
        status="expired",
        leased_at=long_ago,
        draft={"note": "half done"},
        draft_saved_at=long_ago,
    )

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Settings").click()
    section = page.locator("#settings-retention")
    expect(section.get_by_role("heading", name="Retention")).to_be_visible()
    expect(section).to_contain_text("No retention rule is set")
    section.get_by_label("Delete raw media after (days)").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-retention")).to_contain_text("from 1 to 36500")
    section = page.locator("#settings-retention")
    section.get_by_label("Delete raw media after (days)").fill("90")
    section.get_by_label("Erase items never released after (days)").fill("365")
    section.get_by_label("Delete unsubmitted drafts after (days)").fill("30")
    page.get_by_role("button", name="Save settings").click()
    preview = page.locator("#retention-preview")
    expect(preview).to_contain_text("The next run would delete")
    expect(preview).to_contain_text("1 media files")
    expect(preview).to_contain_text("2 items never released")
    expect(preview).to_contain_text("1 unsubmitted drafts")
    section = page.locator("#settings-retention")
    section.scroll_into_view_if_needed()
    shot(page, "retention-settings-preview", full_page=False)

    preview.get_by_role("link", name="Retention runs").click()
    page.get_by_role("button", name="Dry run now (deletes nothing)").click()
    expect(page.locator("#retention-runs")).to_contain_text("dry run")
    assert Item.objects.filter(project=project).count() == 3
    shot(page, "retention-runs-page")

    admin = page_for(people.org_admin)
    admin.goto(f"/organisations/{people.organisation.id}/members/")
    admin.get_by_role("link", name="Delete the account of annotator").click()
    expect(admin.get_by_role("heading", name="Delete the account of annotator")).to_be_visible()
    shot(admin, "account-delete-confirm")
    admin.locator("#delete-account-confirm").click()
    expect(admin.get_by_text("The account of annotator was deleted.")).to_be_visible()
    expect(admin.locator("#org-members")).not_to_contain_text("annotator")
    shot(admin, "account-deleted-members")
    people.annotator.refresh_from_db()
    assert people.annotator.username == f"deleted-{people.annotator.pk}"
