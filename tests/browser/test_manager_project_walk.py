"""Issue #16's "Done when", end to end in a real browser on DEFAULT settings.

A project manager (an organisation member who manages a project, not the organisation admin)
creates the LLM preference project from the template gallery, imports 30 items through the Data
tab, adds two annotators and a reviewer on the Members tab and makes gold items from the item page
by answering them in the labeling widget. Two annotators then label with the keyboard only until
their queues are empty, the reviewer works through the review sample with the keyboard, and the
counts the manager sees (Data tab, Quality page) are the database's. Screenshots of every page
land in tests/artifacts/screenshots/walk-*.png.
"""

import json
import re
from pathlib import Path

import pytest

from annotation.models import Annotation, Assignment, Item
from annotation.workflow import states
from projects.models import Project, ProjectMembership
from quality.models import GoldStandard

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = 30
GOLD_KEYS = ("pref-05", "pref-12", "pref-21")
MAX_TABS = 30


def item_lines() -> list[str]:
    return [
        json.dumps(
            {
                "id": f"pref-{n:02d}",
                "prompt": f"Prompt {n}: explain how vaccines train the immune system.",
                "responses": [
                    {"id": "a", "text": f"Answer A{n}: they show the body a harmless piece of the germ."},
                    {"id": "b", "text": f"Answer B{n}: vaccines are medicine."},
                ],
            }
        )
        for n in range(1, ITEMS + 1)
    ]


def prompt_number(page) -> int:
    expect(page.locator(".lb-app")).to_contain_text(re.compile(r"Prompt \d+:"))
    text = page.locator(".lb-app").inner_text()
    match = re.search(r"Prompt (\d+):", text)
    assert match, text[:500]
    return int(match.group(1))


def tab_to(page, control: str) -> None:
    """Tab (as the help says) until the focus is inside the control."""
    for _ in range(MAX_TABS):
        if page.evaluate(f"!!document.activeElement?.closest('[data-control={control}]')"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached the {control} control")


def answer_with_keys(page, n: int, *, annotator: int) -> None:
    """Pairwise with its key ([ for A, ] for B), the 1-5 rating with a number key, the rationale
    typed after tabbing to it. Both annotators prefer A on even prompts and B on odd ones; on every
    third prompt the second annotator rates one point lower; each words the rationale their own way."""
    page.keyboard.press("[" if n % 2 == 0 else "]")
    page.keyboard.press("3" if annotator == 1 and n % 3 == 0 else "4")
    tab_to(page, "rationale")
    page.keyboard.type(
        "The chosen answer is accurate and simple."
        if annotator == 0
        else f"I preferred it; the other answer to prompt {n} is vague and cites nothing."
    )


def label_until_empty(page, annotator: int) -> list[int]:
    """Label with the keyboard until the queue is empty; returns the prompt numbers labelled."""
    page.goto(page.project_label_url)
    # The first visit asks the annotator to read the template's guidelines.
    acknowledge = page.get_by_role("button", name=re.compile(r"I have read v\d+"))
    expect(acknowledge.or_(page.locator(".lb-app[data-phase='working']"))).to_be_visible()
    if acknowledge.is_visible():
        shot(page, f"walk-labeling-guidelines-{annotator}", full_page=False)
        acknowledge.click()
    seen: list[int] = []
    for _ in range(ITEMS + 10):
        app = page.locator(".lb-app[data-phase='working'], .lb-app[data-phase='empty']")
        expect(app).to_be_visible()
        if page.locator(".lb-app[data-phase='empty']").count():
            return seen
        n = prompt_number(page)
        assert n not in seen, f"prompt {n} served twice to the same annotator"
        seen.append(n)
        answer_with_keys(page, n, annotator=annotator)
        if len(seen) == 1:
            page.evaluate("window.scrollTo(0, 0)")
            shot(page, f"walk-labeling-{annotator}", full_page=False)
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            """(n) => {
                const app = document.querySelector('.lb-app');
                if (!app) return false;
                if (app.dataset.phase === 'empty') return true;
                if (app.dataset.phase !== 'working') return false;
                const m = app.innerText.match(/Prompt (\\d+):/);
                return !!m && Number(m[1]) !== n;
            }""",
            arg=n,
        )
    raise AssertionError(f"annotator {annotator} never reached an empty queue: {seen}")


def test_a_manager_runs_the_preference_project_to_completion_on_defaults(page_for, people, tmp_path):
    errors: list[str] = []
    manager = page_for(people.manager)  # an organisation member who manages "Reviews"; not an admin
    manager.on("pageerror", lambda error: errors.append(str(error)))

    # 1. From the template gallery: preview, then create.
    manager.get_by_role("link", name="Start from a template").click()
    manager.get_by_role("link", name="LLM pairwise preference").click()
    expect(manager.get_by_test_id("schema-preview")).to_be_visible()
    shot(manager, "walk-template-preview")
    manager.get_by_label("Name").fill("LLM preferences")
    manager.get_by_role("button", name="Create project").click()
    expect(manager).to_have_url(re.compile(r"/projects/\d+/(#.*)?$"))
    project = Project.objects.get(name="LLM preferences")
    assert project.overlap == 2

    # 2. Import 30 items through the Data tab's import panel.
    upload = tmp_path / "preferences.jsonl"
    upload.write_text("\n".join(item_lines()) + "\n", encoding="utf-8")
    manager.get_by_role("navigation", name="Project").get_by_role("link", name="Data").click()
    manager.locator("#import-file").set_input_files(Path(upload))
    manager.get_by_role("button", name="Import", exact=True).click()
    expect(manager.locator("#import-status")).to_contain_text(f"Imported {ITEMS} items")
    assert Item.objects.filter(project=project).count() == ITEMS

    # 3. Two annotators and a reviewer on the Members tab.
    manager.get_by_role("link", name="Members", exact=True).click()
    for username, role in (("annotator", "annotator"), ("org_member", "annotator"), ("reviewer", "reviewer")):
        manager.get_by_label("Username", exact=True).fill(username)
        manager.get_by_label("Role", exact=True).select_option(role)
        manager.get_by_role("button", name="Add member").click()
        expect(manager.locator("#members")).to_contain_text(username)

    # 4. The settings area, untouched: its defaults and the one warning it gives.
    manager.get_by_role("link", name="Settings", exact=True).click()
    expect(manager.get_by_label("Review sample")).to_have_value("0.1")
    expect(manager.locator("#settings-warnings li")).to_have_count(1)
    expect(manager.locator('#settings-warnings li[data-code="no_spare_annotator"]')).to_be_visible()
    shot(manager, "walk-settings")

    # 5. Gold items from the item page: answer them in the labeling widget, with the keyboard.
    for key in GOLD_KEYS:
        manager.goto(f"/projects/{project.id}/data/")
        manager.get_by_label("External id").fill(key)
        manager.get_by_role("button", name="Filter").click()
        expect(manager.locator("#item-table tbody tr")).to_have_count(1)
        manager.locator("#item-table tbody tr").first.get_by_role("link", name=key).click()
        expect(manager.get_by_role("heading", name=key)).to_be_visible()
        manager.get_by_role("link", name="Set as gold by answering it").click()
        expect(manager.locator("#gold-mode")).to_contain_text("Gold-authoring mode")
        expect(manager.locator(".lb-app[data-phase='working']")).to_be_visible()
        n = int(key.split("-")[1])
        answer_with_keys(manager, n, annotator=0)
        if key == GOLD_KEYS[0]:
            shot(manager, "walk-gold-widget", full_page=False)
        manager.get_by_role("button", name="Save as gold").click()
        expect(manager).to_have_url(re.compile(rf"/projects/{project.id}/items/\d+/$"))
        expect(manager.locator("#gold-badge")).to_be_visible()
    shot(manager, "walk-item-page-gold")
    golds = GoldStandard.objects.filter(item__project=project)
    assert sorted(golds.values_list("item__external_id", flat=True)) == list(GOLD_KEYS)
    for gold in golds:
        n = int(gold.item.external_id.split("-")[1])
        assert gold.result["preference"]["choice"] == ("A" if n % 2 == 0 else "B")
        assert gold.result["rating"] == 4

    manager.goto(f"/projects/{project.id}/data/")
    expect(manager.locator("#item-table tbody tr")).to_have_count(ITEMS)
    shot(manager, "walk-data-manager")

    # 6. Two annotators label with the keyboard until their queues are empty.
    annotators = [people.annotator, people.org_member]
    served: list[list[int]] = []
    for index, user in enumerate(annotators):
        page = page_for(user)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.project_label_url = f"/projects/{project.id}/label/"
        served.append(label_until_empty(page, index))
        expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
        expect(page.get_by_text("Submitted. That was the last item for now.")).to_be_visible()
        expect(page.get_by_text("Here is your next item")).to_have_count(0)
        shot(page, f"walk-labeling-empty-{index}", full_page=False)

    gold_ids = set(Item.objects.filter(project=project, is_gold=True).values_list("id", flat=True))
    assert len(gold_ids) == len(GOLD_KEYS)
    work = Item.objects.filter(project=project, is_gold=False)
    assert work.count() == ITEMS - len(GOLD_KEYS)
    for index, user in enumerate(annotators):
        assert Assignment.objects.filter(project=project, annotator=user, is_gold=True).exists(), (
            f"{user.username} was never served a gold item (gold is served once gold items exist)"
        )
        labelled = Annotation.objects.filter(project=project, annotator=user, is_gold=False)
        assert labelled.count() == work.count(), (index, served[index])
    # Both annotated every work item: nothing escalated to a third annotator who does not exist.
    assert set(work.values_list("target", "done", "extra")) == {(2, 2, 0)}
    sampled = {item.id for item in work if states.sampled_for_review(item.id, 0.1)}
    assert set(work.filter(state="in_review").values_list("id", flat=True)) == sampled
    assert 1 <= len(sampled) <= 8, sampled
    assert set(work.exclude(id__in=sampled).values_list("state", flat=True)) == {"completed"}
    assert not ProjectMembership.objects.filter(project=project, paused_at__isnull=False).exists()

    # 7. The reviewer works through the sample with the keyboard: accept both annotations.
    reviewer = page_for(people.reviewer)
    reviewer.on("pageerror", lambda error: errors.append(str(error)))
    reviewer.goto(f"/projects/{project.id}/review/")
    reviewed: list[str] = []
    for _ in range(len(sampled) + 1):
        expect(reviewer.locator(".rv-app[data-phase='working'], .rv-app[data-phase='empty']")).to_be_visible()
        if reviewer.locator(".rv-app[data-phase='empty']").count():
            break
        title = reviewer.locator(".lb-bar__title").inner_text()
        assert title not in reviewed, title
        reviewed.append(title)
        if len(reviewed) == 1:
            shot(reviewer, "walk-review", full_page=False)
        reviewer.keyboard.press("a")  # accept the selected annotation; the next one is selected
        expect(reviewer.get_by_text("annotator's annotation accepted")).to_be_visible()
        expect(reviewer.get_by_role("button", name=re.compile("^Accept"))).to_be_enabled()  # the next one
        reviewer.keyboard.press("a")
        reviewer.wait_for_function(
            """(title) => {
                const app = document.querySelector('.rv-app');
                if (!app) return false;
                if (app.dataset.phase === 'empty') return true;
                const bar = app.querySelector('.lb-bar__title');
                return app.dataset.phase === 'working' && !!bar && bar.textContent !== title;
            }""",
            arg=title,
        )
    expect(reviewer.get_by_text("Nothing to review")).to_be_visible()
    assert len(reviewed) == len(sampled), reviewed
    assert set(work.values_list("state", flat=True)) == {"completed"}
    assert not ProjectMembership.objects.filter(project=project, paused_at__isnull=False).exists()

    # 8. What the manager sees matches the database: the Data tab's state counts and the Quality page.
    manager.goto(f"/projects/{project.id}/data/")
    # Every item is counted: the work items by state, the gold items apart (they are checks, not work).
    summary = manager.locator("#labeling")
    completed = summary.locator("#state-summary li").filter(has=manager.locator(".badge--state-completed"))
    expect(completed.locator(".split-list__count")).to_have_text(str(ITEMS - len(GOLD_KEYS)))
    for state in ("open", "in_review", "correction"):
        row = summary.locator("#state-summary li").filter(has=manager.locator(f".badge--state-{state}"))
        expect(row.locator(".split-list__count")).to_have_text("0")
    expect(summary.locator("#items-apart")).to_contain_text(f"{len(GOLD_KEYS)} gold items")
    assert Item.objects.filter(project=project, is_gold=True, state="open").count() == len(GOLD_KEYS)
    assert Item.objects.filter(project=project, state="completed").count() == ITEMS - len(GOLD_KEYS)
    shot(manager, "walk-data-done")
    item = work.get(external_id="pref-02")
    manager.goto(f"/projects/{project.id}/items/{item.id}/")
    expect(manager.locator("#answers-table thead")).to_contain_text("org_member")
    expect(manager.locator("#answers-table thead")).to_contain_text("Consensus")
    shot(manager, "walk-item-page")
    manager.goto(f"/projects/{project.id}/quality/")
    expect(manager.locator("#annotators-table tbody tr")).to_have_count(2)
    expect(manager.locator("#annotators-table")).not_to_contain_text("Paused")
    expect(manager.get_by_test_id("gold-by-control").locator("[data-control=rationale]")).to_contain_text(
        "no (reported only)"
    )
    # The agreement tiles (first control) count the database's work items and their annotations.
    tiles = manager.locator(".q-kpi__value")
    expect(tiles.nth(4)).to_have_text(str(work.count()))
    expect(tiles.nth(5)).to_have_text(str(Annotation.objects.filter(project=project, is_gold=False).count()))
    shot(manager, "walk-quality")
    manager.goto(f"/projects/{project.id}/")
    members = ProjectMembership.objects.filter(project=project)
    expect(manager.locator("[data-stat=annotators]")).to_have_text(
        str(members.filter(role="annotator").count())
    )
    expect(manager.locator("[data-stat=reviewers]")).to_have_text(
        str(members.filter(role="reviewer").count())
    )
    shot(manager, "walk-overview")
    assert errors == []
