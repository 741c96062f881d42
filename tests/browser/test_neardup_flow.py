"""Near-duplicate review in a real browser: a manager keeps one of two near-identical reviews, the
other shows as excluded; another group is kept whole with the keyboard only."""

import re
from itertools import count

import pytest

import core.realtime
from annotation.models import Item, NearDuplicateGroup
from annotation.neardup.services import near_duplicates_detect

from .conftest import (
    shot,
)

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REVIEW = (
    "Battery life is excellent: two full days with GPS on, and it charges from zero to full in about "
    "an hour. The strap is comfortable enough to sleep with."
)
REVIEW_COPY = REVIEW.replace("two full days", "two whole days").replace("an hour", "one hour")
DELIVERY = (
    "Arrived a week late and the box was crushed, but the kettle itself was fine. It boils a full jug in "
    "under three minutes and switches off reliably."
)
DELIVERY_COPIES = [
    DELIVERY.replace("a week late", "a week late!"),
    DELIVERY.replace("three minutes", "3 minutes") + " Would buy again.",
]
OTHERS = [
    "The headphones pinch after an hour and the left cup crackles at high volume.",
    "Good value for a first tripod, though the legs wobble when fully extended.",
]


# --- The flow ---------------------------------------------------------------------------------------


_serial = count(1)


def make_items(project, *texts: str) -> list[Item]:
    numbers = [next(_serial) for _ in texts]
    return Item.objects.bulk_create(
        Item(
            project=project,
            external_id=f"review-{number}",
            data={"text": text},
            content_hash=f"hash-{project.id}-{number}",
            checksum=f"sum-{project.id}-{number}",
            search_text=text.lower(),
        )
        for number, text in zip(numbers, texts, strict=True)
    )


def test_manager_keeps_one_review_and_the_other_shows_as_excluded(page_for, people, monkeypatch):
    monkeypatch.setattr(core.realtime, "broadcast", lambda *args: None)  # no socket in this process
    project = people.project
    delivery, *delivery_copies = make_items(project, DELIVERY, *DELIVERY_COPIES, *OTHERS)[:3]
    review, review_copy = make_items(project, REVIEW, REVIEW_COPY)
    assert near_duplicates_detect(project_id=project.id) == 2
    review_group = NearDuplicateGroup.objects.get(items=review)
    delivery_group = NearDuplicateGroup.objects.get(items=delivery)
    errors: list[str] = []
    page = page_for(people.manager)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(f"/projects/{project.id}/data/duplicates/")

    expect(page.get_by_role("heading", name="Near duplicates")).to_be_visible()
    expect(page.locator("#open-count")).to_have_text("2")
    group = page.locator(f"#group-{review_group.id}")
    expect(group.get_by_role("heading")).to_contain_text(f"Group #{review_group.id}")
    expect(group.locator(".neardup-member")).to_have_count(2)
    expect(group.locator(f"#item-{review.id}")).to_contain_text("two full days")
    expect(group.locator(f"#item-{review_copy.id}")).to_contain_text("two whole days")
    expect(page.locator(f"#group-{delivery_group.id} .neardup-member")).to_have_count(3)
    shot(page, "near-duplicates")

    group.locator(f"#item-{review.id}").get_by_role("button", name=re.compile("^Keep this one")).click()

    expect(page.locator(".messages")).to_have_text(
        f"Group #{review_group.id}: kept item #{review.id}; 1 other item excluded from labeling and releases."
    )
    expect(page.locator(f"#group-{review_group.id}")).to_have_count(0)  # no longer open
    expect(page.locator("#open-count")).to_have_text("1")
    page.get_by_role("link", name=re.compile("^Resolved")).click()
    resolved = page.locator(f"#group-{review_group.id}")
    expect(resolved.locator(f"#item-{review_copy.id}")).to_contain_text("excluded")
    expect(resolved.locator(f"#item-{review_copy.id}")).to_have_class(re.compile("neardup-member--excluded"))
    expect(resolved.locator(f"#item-{review.id}")).to_contain_text("kept")
    expect(resolved.locator(f"#item-{review.id}").get_by_role("button")).to_have_count(0)
    assert list(
        Item.objects.filter(pk__in=[review.id, review_copy.id])
        .order_by("id")
        .values_list("excluded", flat=True)
    ) == [False, True]
    shot(page, "near-duplicates-resolved")

    # The other group, keyboard only: Tab to "Not duplicates — keep all", press Enter.
    page.get_by_role("link", name=re.compile("^Open")).click()
    keep_all = page.get_by_role(
        "button", name=f"Not duplicates — keep all items of group #{delivery_group.id}"
    )
    for _ in range(40):
        page.keyboard.press("Tab")
        if keep_all.evaluate("button => button === document.activeElement"):
            break
    expect(keep_all).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_have_text(
        f"Group #{delivery_group.id}: not duplicates, every item kept."
    )
    expect(page.get_by_text("No open groups.")).to_be_visible()
    delivery_group.refresh_from_db()
    assert delivery_group.resolution == "kept_all"
    assert not Item.objects.filter(
        pk__in=[delivery.id, *(i.id for i in delivery_copies)], excluded=True
    ).exists()
    assert errors == []
