"""Text search in the Data tab with the PostgreSQL trigram index (annotation.items.search_index), by a
project manager from a fresh project on default settings (the index is on by default; the test settings
turn it off, so this test turns it back on): import through the Data tab, the index is built after the
import, and searching a rare word, several words and an external id finds the same items as without it."""

import json
import re
import time
from pathlib import Path

import pytest
from django.db import connection

from annotation.items.search_index import search_index_drop, search_index_exists

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = 120


def test_manager_searches_the_data_tab_with_the_search_index(page_for, people, tmp_path):
    project = people.project
    lines = [
        json.dumps(
            {
                "id": f"rev-{n:03d}",
                "text": f"Review {n}: {'the hinge cracked' if n % 4 == 0 else 'works fine'}"
                + (" shipped via zanzibar" if n == 77 else ""),
            }
        )
        for n in range(1, ITEMS + 1)
    ]
    upload = tmp_path / "reviews.jsonl"
    upload.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = page_for(people.manager)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.get_by_role("link", name="Reviews").click()
        page.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
        page.locator("#import-file").set_input_files(Path(upload))
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator("#import-status")).to_contain_text(f"Imported {ITEMS} items")
        if connection.vendor == "postgresql":  # built after the import's commit, by the index task
            deadline = time.monotonic() + 30
            while not search_index_exists(project_id=project.id) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert search_index_exists(project_id=project.id)
        page.goto(f"/projects/{project.id}/data/")

        for query, count, first in (
            ("Zanzibar", 1, "rev-077"),  # a rare word, any case
            ("hinge cracked", ITEMS // 4, "rev-004"),  # every word, substring
            ("rev-042", 1, "rev-042"),  # exactly an external id
        ):
            page.get_by_label("Search").fill(query)
            page.get_by_role("button", name="Filter").click()
            expect(page).to_have_url(re.compile(r"q=" + re.escape(query.split()[0])))
            expect(page.locator("#item-count")).to_have_text(f"{count} matching · {ITEMS} in the project")
            expect(page.locator("#item-table tbody tr").first.get_by_role("link", name=first)).to_be_visible()
            if query == "Zanzibar":
                shot(page, "data-search-rare-word")
        shot(page, "data-search-external-id")
        assert errors == []
    finally:
        search_index_drop(project_id=project.id)
