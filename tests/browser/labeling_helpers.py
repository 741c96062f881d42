"""The labeling page helpers the labeling browser tests share (one place, not a copy per file)."""

import shutil

import pytest

from annotation.models import Annotation
from projects import services
from projects.models import Project
from tests.factories import make_items

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

DOCS_SHOTS = REPO_ROOT / "docs" / "screenshots" / "controls"
TRAP = "window.__pwned = (window.__pwned || 0) + 1"


def setup(people, controls, fields=None, data=None, settings=None, overlap=1):
    project = people.project
    if overlap != project.overlap:
        # Set directly: project_update would also queue a target sync job that races the test's setup.
        Project.objects.filter(pk=project.pk).update(overlap=overlap)
        project.refresh_from_db()
    definition = {"version": 1, "fields": fields or [{"name": "text", "type": "text"}], "controls": controls}
    services.schema_version_create(project=project, actor=people.manager, definition=definition)
    if settings:
        services.project_update(project=project, actor=people.manager, settings={"labeling": settings})
    project.refresh_from_db()
    (item,) = make_items(project, {"data": data or {"text": "The battery lasts two days."}})
    return project, item


def open_label(page_for, people, project):
    page = page_for(people.annotator)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/projects/{project.id}/label/")
    expect(page.locator(".lb-app[data-phase='working']")).to_be_visible()
    page.errors = errors
    return page


def submit_and_get(page, item) -> dict:
    page.keyboard.press("Control+Enter")
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
    assert page.errors == []
    assert page.evaluate("window.__pwned") is None
    return Annotation.objects.get(item=item).result


def control_shot(page, control_type: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    path = shot(page, f"label-{control_type}", full_page=False)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SHOTS / f"{control_type}.png")
