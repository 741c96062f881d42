"""Near-duplicate review after two imports, in a real browser, by a manager on DEFAULT settings from a
fresh project: the first import makes two groups; the second brings a review that resembles both, so
detection (incremental, after the import) merges them into one; the manager keeps one of its five."""

import json
import re

import pytest

from annotation.models import Item, NearDuplicateGroup, NearDuplicateIndexed
from projects import services
from tests.factories import label_schema

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = (
    "Battery life is excellent: two full days with GPS on, and it charges from zero to full in about "
    "an hour. The strap is comfortable enough to sleep with, the screen stays readable in bright "
    "sunlight, and the heart rate readings match my chest strap on long runs. Setup took ten "
    "minutes with the phone app."
)
BRIDGE = WATCH.replace("excellent", "superb").replace("ten minutes", "five minutes")  # like both below
LATER = BRIDGE.replace("bright sunlight", "direct sun").replace("two full days", "two whole days")
KETTLE = (
    "Arrived a week late and the box was crushed, but the kettle itself was fine. It boils a full jug in "
    "under three minutes and switches off reliably."
)
FIRST = [
    ("watch-1", WATCH),
    ("watch-2", WATCH + " Recommended."),
    ("watch-3", LATER),
    ("watch-4", LATER + " Recommended."),
    ("other-1", "The headphones pinch after an hour and the left cup crackles at high volume."),
]
SECOND = [
    ("watch-5", BRIDGE),
    ("kettle-1", KETTLE),
    ("kettle-2", KETTLE.replace("three minutes", "3 minutes") + " Would buy again."),
    ("other-2", "Good value for a first tripod, though the legs wobble when fully extended."),
]


def _import(page, path) -> None:
    page.locator("#import-file").set_input_files(path)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported")


def test_manager_reviews_near_duplicates_after_two_imports(page_for, people, tmp_path):
    project = people.project
    services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative")
    )
    files = []
    for name, rows in (("first.jsonl", FIRST), ("second.jsonl", SECOND)):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"id": key, "text": text}) + "\n" for key, text in rows))
        files.append(path)
    errors: list[str] = []
    page = page_for(people.manager)
    page.on("pageerror", lambda error: errors.append(str(error)))
    ids = lambda *keys: sorted(  # noqa: E731
        Item.objects.filter(project=project, external_id__in=keys).values_list("id", flat=True)
    )

    page.goto(f"/projects/{project.id}/data/")
    _import(page, files[0])
    groups = NearDuplicateGroup.objects.filter(project=project).order_by("id")
    assert [sorted(g.items.values_list("id", flat=True)) for g in groups] == [
        ids("watch-1", "watch-2"),
        ids("watch-3", "watch-4"),
    ]
    older = groups[0]

    page.goto(f"/projects/{project.id}/data/")
    _import(page, files[1])
    assert NearDuplicateIndexed.objects.filter(project=project).count() == len(FIRST) + len(SECOND)

    page.get_by_role("link", name="Review near duplicates").click()
    expect(page.get_by_role("heading", name="Near duplicates")).to_be_visible()
    expect(page.locator("#open-count")).to_have_text("2")
    merged = page.locator(f"#group-{older.id}")
    expect(merged.locator(".neardup-member")).to_have_count(5)
    kettles = NearDuplicateGroup.objects.get(items__external_id="kettle-1")
    expect(page.locator(f"#group-{kettles.id} .neardup-member")).to_have_count(2)
    shot(page, "near-duplicates-after-two-imports")

    (keep,) = ids("watch-5")
    merged.locator(f"#item-{keep}").get_by_role("button", name=re.compile("^Keep this one")).click()
    expect(page.locator(".messages")).to_have_text(
        f"Group #{older.id}: kept item #{keep}; 4 other items excluded from labeling and releases."
    )
    expect(page.locator("#open-count")).to_have_text("1")
    assert ids("watch-1", "watch-2", "watch-3", "watch-4") == sorted(
        Item.objects.filter(project=project, excluded=True).values_list("id", flat=True)
    )
    assert errors == []
