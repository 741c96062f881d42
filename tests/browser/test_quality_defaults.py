"""The Quality page of issue #16's preference project on default settings, as its manager sees it:
per-control gold accuracy (the free-text rationale reported, not counted), nobody paused, and the
settings warning that two annotators at overlap 2 leave nobody to escalate to."""

import shutil
from pathlib import Path

import pytest

from annotation.workflow.services import claim, submit
from projects.models import ProjectMembership
from quality import services
from tests.quality.test_defaults_end_to_end import answer, preference_project

from .conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "quality-defaults.png"


def test_manager_sees_gold_accuracy_per_control_and_the_settings_warnings(page_for, people):
    project = preference_project(people)
    claim._random.seed(7)
    annotators = [people.annotator, ProjectMembership.objects.get(user__username="second").user]
    for _ in range(60):
        progressed = False
        for index, user in enumerate(annotators):
            outcome = claim.next_item_for_annotator(project=project, annotator=user)
            if outcome.assignment is None:
                continue
            submit.annotation_submit(
                project=project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result=answer(index, outcome.assignment.item),
                active_ms=4000,
            )
            progressed = True
        if not progressed:
            break
    services.quality_compute(project_id=project.id, full=True)

    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/quality/")

    warnings = page.get_by_role("status", name="Settings warnings")
    expect(warnings.locator("[data-warning=no_spare_annotator]")).to_contain_text("go to review instead")
    table = page.get_by_test_id("gold-by-control")
    expect(table.locator("[data-control=preference]")).to_contain_text("100%")
    expect(table.locator("[data-control=rationale]")).to_contain_text("no (reported only)")
    expect(table.locator("[data-control=quality] td").first).to_have_text("yes")
    expect(page.locator("#annotators-table tbody tr")).to_have_count(2)
    expect(page.locator("#annotators-table")).not_to_contain_text("Paused")
    path = shot(page, "quality-defaults")
    shutil.copyfile(path, DOCS_SHOT)
