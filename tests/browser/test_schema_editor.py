"""The label schema and guideline editors in a real browser: the form builder and its live preview,
YAML, saving a version, every server error listed and escaped, Markdown preview, history and diff.
Real clicks and keys only."""

import re

import pytest

from projects import services
from projects.models import GuidelineVersion, LabelSchemaVersion

from ..factories import label_schema
from .conftest import shot as full_shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS_LABEL = '<img src=x onerror="window.__xss=1">'


def shot(page, name: str) -> None:
    """A full-page screenshot taken from the top, so sticky bars are drawn where they belong."""
    page.evaluate("window.scrollTo(0, 0)")
    full_shot(page, name)


def _collect_errors(page) -> list[str]:
    """Script errors and CSP violations (console errors) of `page`."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def _assert_no_injected_markup(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0


def _schema(project, actor):
    definition = label_schema("positive", "negative")
    definition["controls"][0]["labels"][0].update(hotkey="1", color="#2e7d32")
    definition["controls"][0]["title"] = "Overall sentiment"
    return services.schema_version_create(project=project, actor=actor, definition=definition, note="first")


def test_manager_edits_a_label_in_the_form_builder_sees_the_preview_and_saves(page_for, people):
    _schema(people.project, people.manager)
    page = page_for(people.manager)
    errors = _collect_errors(page)

    page.goto(f"/projects/{people.project.id}/schema/")

    preview = page.get_by_test_id("schema-preview")
    expect(page.get_by_role("button", name="Form")).to_have_attribute("aria-pressed", "true")
    expect(preview.locator(".pv-choice__text")).to_have_text(["positive", "negative"])
    expect(preview.get_by_role("heading", name="Overall sentiment")).to_be_visible()
    expect(page.locator("#schema-definition-field")).to_be_hidden()

    page.get_by_label("sentiment label 2: value").fill("mixed")
    page.get_by_label("sentiment label 2: hotkey").fill("3")
    page.get_by_label("sentiment label 2: colour", exact=True).fill("#f59e0b")
    page.get_by_role("button", name="+ Add label").click()

    expect(preview.locator(".pv-choice__text")).to_have_text(["positive", "mixed", "label"])
    expect(preview.locator(".pv-kbd")).to_have_text(["1", "3"])
    expect(page.locator(".se-status")).to_have_text("✓ Valid JSON · 1 field · 1 control")
    shot(page, "schema-editor-form-builder")

    page.get_by_role("button", name="YAML").click()
    code = page.get_by_label("Schema as YAML")
    expect(code).to_have_value(re.compile(r"- value: mixed\n\s+hotkey: \"3\"\n\s+color: \"#f59e0b\""))
    code.fill(code.input_value().replace("value: label", "value: unsure"))
    expect(preview.locator(".pv-choice__text")).to_have_text(["positive", "mixed", "unsure"])
    shot(page, "schema-editor-yaml")

    page.get_by_label("What changed").fill("Mixed instead of negative")
    page.get_by_role("button", name="Save as v2").click()
    # "negative" is gone: the page asks what its answers become before saving (issue #16 item 6).
    migration = page.locator("#label-migration")
    expect(migration).to_contain_text("negative")
    expect(page.get_by_label("What happens to sentiment label negative")).to_have_value("keep")
    shot(page, "schema-editor-label-migration")
    assert LabelSchemaVersion.objects.filter(project=people.project).count() == 1
    migration.get_by_role("button", name="Apply the label migration and save").click()

    expect(page.get_by_role("status").filter(has_text="Label schema v2 saved.")).to_be_visible()
    expect(page.locator("details.version summary").first).to_contain_text("v2")
    expect(page.locator("details.version summary").first).to_contain_text("Mixed instead of negative")
    expect(page.get_by_role("button", name="Save as v3")).to_be_visible()
    expect(page.get_by_test_id("schema-preview").locator(".pv-choice__text")).to_have_text(
        ["positive", "mixed", "unsure"]
    )
    shot(page, "schema-editor-saved")
    latest = LabelSchemaVersion.objects.get(project=people.project, version=2)
    assert [label["value"] for label in latest.definition["controls"][0]["labels"]] == [
        "positive",
        "mixed",
        "unsure",
    ]
    mixed = latest.definition["controls"][0]["labels"][1]
    assert mixed == {"value": "mixed", "hotkey": "3", "color": "#f59e0b"}
    assert errors == []


def test_invalid_schema_lists_every_problem_escaped_and_saves_nothing(page_for, people):
    _schema(people.project, people.manager)
    page = page_for(people.manager)
    errors = _collect_errors(page)
    page.goto(f"/projects/{people.project.id}/schema/")

    page.get_by_role("button", name="+ Add label").click()
    page.get_by_label("sentiment label 3: value").fill(XSS_LABEL)
    page.get_by_role("button", name="+ Add label").click()
    page.get_by_label("sentiment label 4: value").fill("positive")
    preview = page.get_by_test_id("schema-preview")
    expect(preview.locator(".pv-choice__text").nth(2)).to_have_text(XSS_LABEL)
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".se-check li")).to_have_count(2)
    _assert_no_injected_markup(page)

    page.get_by_role("button", name="Save as v2").click()

    issues = page.locator("#schema-issues")
    expect(issues).to_contain_text("The schema has 2 problems; nothing was saved.")
    expect(issues.locator("li")).to_have_count(2)
    expect(issues).to_contain_text(f"The label '{XSS_LABEL}' contains '<' or '>'; markup is not allowed.")
    expect(issues).to_contain_text("The label 'positive' is listed twice.")
    preview = page.get_by_test_id("schema-preview")
    expect(preview.locator(".pv-control--invalid .pv-issues li")).to_have_count(2)
    _assert_no_injected_markup(page)
    shot(page, "schema-editor-server-errors")
    assert list(LabelSchemaVersion.objects.values_list("version", flat=True)) == [1]
    assert [e for e in errors if "400" not in e] == []  # the refused POST itself is logged as a 400


def test_manager_starts_a_new_schema_from_an_example(page_for, people):
    page = page_for(people.manager)
    errors = _collect_errors(page)
    page.goto(f"/projects/{people.project.id}/schema/")
    expect(page.get_by_test_id("schema-preview")).to_contain_text("No controls yet.")

    page.get_by_label("Start from an example").select_option(
        label="Image detection, boxes only for usable images"
    )

    preview = page.get_by_test_id("schema-preview")
    expect(page.locator(".se-notice")).to_contain_text("Loaded the example")
    expect(preview.locator(".pv-control")).to_have_count(2)
    expect(preview.locator(".pv-showif")).to_contain_text("Shown when")
    shot(page, "schema-editor-example")
    page.get_by_role("button", name="Save as v1").click()

    expect(page.get_by_role("status").filter(has_text="Label schema v1 saved.")).to_be_visible()
    saved = LabelSchemaVersion.objects.get().definition
    assert [control["type"] for control in saved["controls"]] == ["image_class", "bbox"]
    assert errors == []


def test_reviewer_sees_a_read_only_preview(page_for, people):
    _schema(people.project, people.manager)
    page = page_for(people.reviewer)
    errors = _collect_errors(page)

    page.goto(f"/projects/{people.project.id}/schema/")

    expect(page.get_by_role("heading", name="What annotators see")).to_be_visible()
    preview = page.get_by_test_id("schema-preview")
    expect(preview.locator(".pv-choice__text")).to_have_text(["positive", "negative"])
    expect(page.get_by_role("button", name="Save as v2")).to_have_count(0)
    shot(page, "schema-reviewer-preview")
    assert errors == []


def test_manager_writes_guidelines_previews_saves_and_opens_the_diff(page_for, people):
    services.guideline_version_create(
        project=people.project,
        actor=people.manager,
        body="# Sentiment\n\nLabel the **overall** tone.\n\n- positive\n- negative\n",
        note="first draft",
    )
    page = page_for(people.manager)
    errors = _collect_errors(page)
    page.goto(f"/projects/{people.project.id}/guidelines/")
    document = page.locator(".guidelines-doc .markdown")
    expect(document.get_by_role("heading", name="Sentiment")).to_be_visible()
    expect(document.locator("strong")).to_have_text("overall")

    body = page.get_by_label("Guidelines (Markdown)")
    body.fill(
        "# Sentiment\n\nLabel the **overall** tone.\n\n- positive\n- mixed\n\n"
        "## Hard cases\n\n| Text | Label |\n|---|---|\n| Great, another delay. | negative |\n\n"
        f"Sarcasm counts as negative. {XSS_LABEL}\n"
    )
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#guidelines-preview-body")
    expect(preview.get_by_role("heading", name="Hard cases")).to_be_visible()
    expect(preview.locator("table td").first).to_have_text("Great, another delay.")
    expect(preview).to_contain_text(XSS_LABEL)
    _assert_no_injected_markup(page)
    assert GuidelineVersion.objects.count() == 1
    shot(page, "guidelines-preview")

    page.get_by_label("What changed").fill("Hard cases")
    page.get_by_role("button", name="Save as v2").click()

    expect(page.get_by_role("status").filter(has_text="Guidelines v2 saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Guidelines v2")).to_be_visible()
    expect(document.get_by_role("heading", name="Hard cases")).to_be_visible()
    shot(page, "guidelines-saved")

    page.get_by_role("link", name="Changes from v1").click()

    expect(page).to_have_url(re.compile(r"\?diff=1\.\.2#diff$"))
    diff = page.locator("table.diff")
    expect(page.get_by_role("heading", name="Changes from v1 to v2")).to_be_visible()
    expect(diff.locator(".diff__row--removed .diff__text")).to_have_text(["- negative"])
    expect(diff.locator(".diff__row--added .diff__text").first).to_have_text("- mixed")
    expect(diff.locator(".diff__row--added .diff__text").last).to_have_text(
        f"Sarcasm counts as negative. {XSS_LABEL}"
    )
    _assert_no_injected_markup(page)
    shot(page, "guidelines-diff")

    page.get_by_label("From version").select_option("2")
    page.get_by_label("To version").select_option("1")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", name="Changes from v2 to v1")).to_be_visible()
    assert errors == []
