"""The Data tab in a real browser: uploads through the real file input, progress, results, error
reports, splits and the item table. Real clicks and keys only; the import runs eagerly in the server."""

import json
import re
from pathlib import Path

import pytest

from annotation.models import ImportJob, Item

from .conftest import login, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = 2000
SPECIAL_LINE = 1234  # the one review about a cracked screen


def _review(n: int) -> dict:
    text = (
        "The screen arrived cracked and support never answered."
        if n == SPECIAL_LINE
        else f"Review {n}: the battery lasts {n % 17 + 2} hours and charging takes {n % 5 + 1} hours."
    )
    return {
        "text": text,
        "meta": {"lang": "de" if n % 2 else "en", "stars": n % 5 + 1, "shop": f"shop-{n % 7}"},
    }


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _record_progress(page) -> None:
    """Collect every aria-valuenow the progress bar takes, from the moment it appears."""
    page.evaluate(
        """() => {
        window.__progress = [];
        const seen = (bar) => window.__progress.push(Number(bar.getAttribute("aria-valuenow")));
        new MutationObserver(() => {
            const bar = document.getElementById("import-progress");
            if (bar && bar.getAttribute("aria-valuenow") !== String(window.__progress.at(-1))) seen(bar);
        }).observe(document.body, {subtree: true, childList: true, attributes: true,
                                   attributeFilter: ["aria-valuenow"]});
    }"""
    )


def test_manager_imports_splits_sees_a_failed_import_and_searches(page_for, people, tmp_path):
    project = people.project
    good = _write_jsonl(tmp_path / "reviews.jsonl", [json.dumps(_review(n)) for n in range(1, ITEMS + 1)])
    broken_lines = [json.dumps({"text": f"Fresh review number {n}"}) for n in range(1, 11)]
    broken_lines[3] = '{"text": "this line never ends'
    broken = _write_jsonl(tmp_path / "more-reviews.jsonl", broken_lines)
    errors: list[str] = []
    page = page_for(people.manager)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.get_by_role("link", name="Reviews").click()
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    expect(page.get_by_role("heading", name="Import data")).to_be_visible()
    expect(page.locator("#item-table tbody")).to_contain_text("No items yet. Import a file above.")
    _record_progress(page)

    # 1. A clean file of 2,000 lines, all or nothing (the default).
    page.locator("#import-file").set_input_files(good)
    expect(page.locator("#import-file-name")).to_contain_text("reviews.jsonl")
    page.get_by_role("button", name="Import", exact=True).click()

    progress = page.get_by_role("progressbar", name="Import progress")
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#import-status")).to_have_text(
        "Imported 2,000 items · 0 duplicates skipped · 0 rejected"
    )
    values = page.evaluate("window.__progress")
    assert values[-1] == 100
    assert values == sorted(values), values  # never moves backwards
    assert Item.objects.filter(project=project).count() == ITEMS
    job = ImportJob.objects.get(project=project)
    assert (job.status, job.created, job.created_by_id) == ("succeeded", ITEMS, people.manager.id)

    page.get_by_role("link", name="Show the imported items").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.id}/data/\?import_job={job.id}"))
    expect(page.locator("#item-table tbody tr")).to_have_count(50)
    expect(page.locator("#item-count")).to_have_text("More than 1,000 matching · 2,000 in the project")
    expect(page.locator("#item-table tbody tr").first).to_contain_text("Review 1: the battery lasts 3 hours")
    expect(page.locator("#metadata-fields > li")).to_have_count(3)
    expect(page.get_by_role("link", name="Next 50 →")).to_be_visible()

    # 2. Splits, with the form in the splits card.
    page.get_by_text("Assign splits…").click()
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Assign splits").click()
    expect(page.locator(".messages")).to_have_text(
        "Split saved: train 1,600 · validation 200 · test 200 (seed 7)."
    )
    expect(page.locator("#split-summary li")).to_have_count(3)
    expect(page.locator("#split-summary")).to_contain_text("train 1,600 (80.0 %)")

    # 3. A file with one broken line, all or nothing: nothing is imported.
    page.locator("#import-file").set_input_files(broken)
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.locator("#import-status")).to_have_text("Nothing was imported.")
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(page.locator(".import-result__detail")).to_contain_text("nothing was imported")
    first_error = page.locator("#import-errors tbody tr").first
    expect(first_error.locator("td").first).to_have_text("4")
    expect(first_error).to_contain_text("JSON")
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page puts the sticky bar mid-page
    shot(page, "data-import-failed")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the error report")).click()
    report = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert report[0] == "line,field,reason"
    assert report[1].startswith("4,,")
    assert Item.objects.filter(project=project).count() == ITEMS

    page.reload()
    expect(page.locator("#total-items")).to_have_text("2,000")
    expect(page.locator("#import-jobs tbody tr")).to_have_count(2)
    expect(page.locator("#import-jobs tbody tr").first).to_contain_text("Failed")

    # 4. Search and filter the table.
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Search").fill("cracked screen")
    page.get_by_role("button", name="Filter").click()

    rows = page.locator("#item-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("The screen arrived cracked and support never answered.")
    expect(page.locator("#item-count")).to_have_text("1 matching · 2,000 in the project")

    page.get_by_label("Search").fill("")
    page.get_by_label("Metadata field", exact=True).select_option("shop")
    page.get_by_label("equals").fill("shop-3")
    page.get_by_label("Split", exact=True).select_option("test")
    page.get_by_role("button", name="Filter").click()

    expected = Item.objects.filter(project=project, meta__shop="shop-3", split="test").count()
    assert 0 < expected < 50
    expect(rows).to_have_count(expected)
    expect(page.locator("#item-count")).to_have_text(f"{expected} matching · 2,000 in the project")
    page.get_by_label("Metadata field", exact=True).select_option("")
    page.get_by_label("equals").fill("")
    page.get_by_label("Split", exact=True).select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(50)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "data")
    assert errors == []


def _choose_with_space(page):
    """Space on the focused file input opens the chooser. On a loaded machine Chromium sometimes drops
    the first key press before the input is ready for user activation, so press again once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        with page.expect_file_chooser(timeout=5000) as chooser:
            page.keyboard.press("Space")
    except PlaywrightTimeout:
        with page.expect_file_chooser(timeout=10000) as chooser:
            page.keyboard.press("Space")
    return chooser.value


def test_keyboard_only_import_of_valid_rows_and_api_errors_shown(page, people, tmp_path):
    project = people.project
    mixed = _write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            json.dumps({"text": "first"}),
            "not json at all",
            json.dumps({"text": "third"}),
            json.dumps({"text": "4th"}),
        ],
    )
    unknown = tmp_path / "items.xml"
    unknown.write_text("<items><item>hello</item></items>\n", encoding="utf-8")
    login(page, people.manager)
    page.goto(f"/projects/{project.id}/data/")
    file_input = page.locator("#import-file")
    expect(file_input).to_be_attached()

    # Tab from the last tab of the project nav into the drop zone's file input, and open the chooser.
    page.get_by_role("navigation", name="Project").get_by_role("link").last.focus()
    page.keyboard.press("Tab")
    expect(file_input).to_be_focused()
    _choose_with_space(page).set_files(mixed)
    expect(page.locator("#import-file-name")).to_contain_text("mixed.jsonl")
    page.keyboard.press("Tab")
    expect(page.get_by_role("radio", name=re.compile("all or nothing"))).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="Import the valid rows and report the rest")).to_be_checked()
    page.get_by_role("button", name="Import", exact=True).focus()
    page.keyboard.press("Enter")

    expect(page.locator("#import-status")).to_have_text(
        "Imported 3 items · 0 duplicates skipped · 1 rejected"
    )
    expect(page.locator("#import-errors tbody tr")).to_have_count(1)
    expect(page.locator("#import-errors tbody td").first).to_have_text("2")
    expect(page.locator("#import-error-report")).to_be_visible()
    assert sorted(Item.objects.filter(project=project).values_list("data__text", flat=True)) == [
        "4th",
        "first",
        "third",
    ]

    file_input.set_input_files(unknown)
    page.get_by_role("button", name="Import", exact=True).click()

    alert = page.locator("#import-error")
    expect(alert).to_contain_text('Cannot tell the format of "items.xml".')
    expect(alert.locator("code")).to_have_text("unknown_format")
    assert ImportJob.objects.filter(project=project).count() == 1


def test_reviewer_reads_the_data_page_without_the_import_card(page_for, people):
    reviewer = page_for(people.reviewer)

    reviewer.goto(f"/projects/{people.project.id}/data/")

    expect(reviewer.get_by_role("heading", name="Items")).to_be_visible()
    expect(reviewer.get_by_role("heading", name="Import data")).to_have_count(0)
    expect(reviewer.locator("#import-file")).to_have_count(0)
    expect(reviewer.get_by_text("Assign splits…")).to_have_count(0)
