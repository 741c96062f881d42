"""Erasure in the browser, as an organisation admin (docs/GOVERNANCE.md#erasure): a fresh project, an
import through the Data tab, labelled items, a release from the form; then "Erase data subject…" with a
reason, the dry run listing what would go and the release it would withdraw, the confirmation, and the
releases page showing release 1 superseded by release 2 (erasure), which is published without them."""

import json
import re

import pytest

from annotation.models import Item
from exports.models import Release
from governance.models import ErasureTombstone
from quality.services import quality_compute
from tests.annotation.workflow_kit import make_lab
from tests.quality.test_quality_service import label_everything, pattern

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "Call me on 0171 555 0199, Jane Roe"


def test_org_admin_erases_a_data_subject_and_sees_the_successor_release(page_for, people, tmp_path):
    lab = make_lab(people, overlap=1, annotators=1, items=0)
    project = lab.project
    rows = [{"text": f"Order {n} arrived on time.", "meta": {"customer": f"cust-{n}"}} for n in range(1, 7)]
    rows[1] = {"text": SECRET, "meta": {"customer": "cust-jane"}}
    rows[4] = {"text": "Jane again: the parcel was late.", "meta": {"customer": "cust-jane"}}
    upload = tmp_path / "orders.jsonl"
    upload.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")

    page = page_for(people.org_admin)
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    page.locator("#import-file").set_input_files(upload)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported 6 items")

    label_everything(
        lab, pattern
    )  # the annotator labels every item (services: the labeling UI is tested elsewhere)
    quality_compute(project_id=project.id, full=True)

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    page.get_by_label("Name", exact=True).fill("orders-v1")
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("heading", name="Release 1: orders-v1")).to_contain_text("Published")

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    page.get_by_role("link", name="Erase data subject…").click()
    page.get_by_label("Metadata key").select_option("customer")
    page.get_by_label("Value (the data subject)").fill("cust-jane")
    page.get_by_label("Reason (required, kept in the audit trail)").fill("GDPR art. 17 request from Jane Roe")
    page.get_by_role("button", name="Show what would be erased").click()
    preview = page.locator("#erase-preview")
    expect(preview).to_contain_text("2 items would be erased")
    expect(preview.get_by_role("list", name="Releases withdrawn")).to_contain_text("#1 orders-v1 (2 items)")
    expect(preview.get_by_role("list", name="What would go")).to_contain_text("2 annotations")
    assert Item.objects.filter(project=project).count() == 6  # a dry run changes nothing
    shot(page, "erasure-dry-run")

    page.get_by_label("Type 2, the number of items, to confirm").fill("2")
    page.get_by_role("button", name="Erase 2 items for good").click()
    expect(page.locator(".messages")).to_contain_text("Erased 2 items. Releases withdrawn: #1 (successor #2)")
    assert Item.objects.filter(project=project).count() == 4
    assert ErasureTombstone.objects.filter(project=project).count() == 2

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    first = page.get_by_role("row").filter(has=page.get_by_role("link", name="orders-v1", exact=True))
    expect(first).to_contain_text("Withdrawn")
    expect(first.locator("[data-superseded]")).to_have_text("superseded by #2 (erasure)")
    successor = page.get_by_role("row").filter(has=page.get_by_role("link", name="orders-v1-e2", exact=True))
    expect(successor).to_contain_text("Published")
    expect(successor.locator("[data-supersedes]")).to_contain_text("supersedes #1 (erasure)")
    shot(page, "erasure-releases")
    released = Release.objects.get(project=project, number=2)
    assert released.manifest["counts"]["records"] == 4
    assert released.manifest["supersedes"][0]["erased_items"] == 2

    page.get_by_role("link", name="#1", exact=True).click()
    expect(page.locator("#release-withdrawn")).to_contain_text("held 2 erased items")
    expect(page.locator("#release-withdrawn").get_by_role("link")).to_contain_text("release #2")
    shot(page, "erasure-withdrawn-release")


def test_org_admin_erases_an_import_from_its_row_and_sees_the_successor_release(page_for, people, tmp_path):
    """Two imports, a release of both; the admin erases the second import from its row in Recent
    imports: the dry run, a wrong number refused, the typed count, then release 1 withdrawn and
    release 2 built from the first import only."""
    lab = make_lab(people, overlap=1, annotators=1, items=0)
    project = lab.project
    kept = tmp_path / "kept.jsonl"
    kept.write_text("".join(json.dumps({"text": f"Kept review {n}."}) + "\n" for n in range(1, 5)), "utf-8")
    licensed = tmp_path / "licence-ended.jsonl"
    licensed.write_text(
        "".join(json.dumps({"text": f"Licensed text {n}."}) + "\n" for n in range(1, 4)), "utf-8"
    )

    page = page_for(people.org_admin)
    page.goto(f"/projects/{project.id}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    for upload, count in ((kept, 4), (licensed, 3)):
        page.locator("#import-file").set_input_files(upload)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator("#import-status")).to_contain_text(f"Imported {count} items")
    label_everything(lab, pattern)
    quality_compute(project_id=project.id, full=True)

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    page.get_by_label("Name", exact=True).fill("reviews-v1")
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("heading", name="Release 1: reviews-v1")).to_contain_text("Published")

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    row = page.locator("#import-jobs tbody tr").filter(has_text="licence-ended.jsonl")
    expect(row.get_by_role("link", name=re.compile("Erase the items"))).to_be_visible()
    page.locator("#imports").scroll_into_view_if_needed()
    shot(page, "erasure-import-row", full_page=False)
    row.get_by_role(
        "link", name=re.compile(r"Erase the items of import #\d+ \(licence-ended\.jsonl\)")
    ).click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Erase import #\d+ \(licence-ended\.jsonl\)"))
    ).to_be_visible()
    page.get_by_label("Reason (required, kept in the audit trail)").fill("The licence of this batch ended")
    page.get_by_role("button", name="Show what would be erased").click()
    preview = page.locator("#erase-preview")
    expect(preview).to_contain_text("3 items would be erased")
    expect(preview.get_by_role("list", name="Releases withdrawn")).to_contain_text("#1 reviews-v1 (3 items)")
    shot(page, "erasure-import-dry-run")

    confirm = page.get_by_label("Type 3, the number of items, to confirm")
    confirm.fill("7")
    page.get_by_role("button", name="Erase 3 items for good").click()
    expect(page.locator(".messages")).to_contain_text("Type 3 (the number of items that would be erased)")
    assert Item.objects.filter(project=project).count() == 7  # refused: nothing changed
    page.get_by_label("Type 3, the number of items, to confirm").fill("3")
    page.get_by_role("button", name="Erase 3 items for good").click()
    expect(page.locator(".messages")).to_contain_text("Erased 3 items. Releases withdrawn: #1 (successor #2)")
    assert sorted(Item.objects.filter(project=project).values_list("data__text", flat=True)) == [
        f"Kept review {n}." for n in range(1, 5)
    ]

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    first = page.get_by_role("row").filter(has=page.get_by_role("link", name="reviews-v1", exact=True))
    expect(first).to_contain_text("Withdrawn")
    expect(first.locator("[data-superseded]")).to_have_text("superseded by #2 (erasure)")
    successor = page.get_by_role("row").filter(has=page.get_by_role("link", name="reviews-v1-e2", exact=True))
    expect(successor).to_contain_text("Published")
    expect(successor.locator("[data-supersedes]")).to_contain_text("supersedes #1 (erasure)")
    shot(page, "erasure-import-releases")
    assert Release.objects.get(project=project, number=2).manifest["counts"]["records"] == 4
