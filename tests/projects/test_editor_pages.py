"""The label schema and guideline editor pages, signed in with Django's test client; plus the pure
Markdown renderer, line diff and docs example loader they use."""

import html
import json
import re

import pytest

from projects import services
from projects.markdown import diff_lines, render_markdown
from projects.models import GuidelineVersion, LabelSchemaVersion
from projects.schema import CONTROLS, validate_schema
from projects.schema.examples import parse_examples, schema_examples
from tests.factories import label_schema

XSS_LABEL = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('owned')</script>"


def script_tags(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", page)


def json_script(page: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert match, f"no #{element_id} on the page"
    return json.loads(match.group(1))


def between(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


# --- Schema page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_page_renders_the_editor_and_its_config_for_a_manager(people, page_for):
    services.schema_version_create(
        project=people.project, actor=people.manager, definition=label_schema("pos", "neg"), note="first"
    )

    response = page_for(people.manager).get(f"/projects/{people.project.id}/schema/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="schema-editor"' in page
    assert "Save as v2" in page
    assert 'name="definition"' in page
    config = json_script(page, "schema-editor-config")
    assert config["editable"] is True
    assert config["current"] == label_schema("pos", "neg")
    assert config["issues"] == []
    assert sorted(control["type"] for control in config["controls"]) == sorted(CONTROLS)
    assert {example["name"] for example in config["examples"]} >= set(CONTROLS)
    assert [tag for tag in script_tags(page) if "application/json" not in tag] == [
        tag for tag in script_tags(page) if 'type="module"' in tag
    ]


@pytest.mark.django_db
def test_schema_page_without_versions_starts_from_a_skeleton(people, page_for):
    response = page_for(people.manager).get(f"/projects/{people.project.id}/schema/")

    page = response.content.decode()
    textarea = html.unescape(between(page, 'name="definition"', "</textarea>").split(">", 1)[1])
    assert json.loads(textarea) == {
        "version": 1,
        "fields": [{"name": "text", "type": "text"}],
        "controls": [],
    }
    assert "Save as v1" in page
    assert json_script(page, "schema-editor-config")["current"] is None


@pytest.mark.django_db
def test_invalid_schema_lists_every_issue_escaped_and_saves_nothing(people, page_for):
    definition = label_schema("pos", "pos", XSS_LABEL)
    definition["controls"][0]["labels"][0]["hotkey"] = "toolong"

    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/schema/", {"definition": json.dumps(definition), "note": "bad"}
    )

    page = response.content.decode()
    issues = [
        {"path": issue.path, "code": issue.code, "message": issue.message}
        for issue in validate_schema(definition)
    ]
    assert response.status_code == 400
    assert len(issues) >= 1
    assert f"The schema has {len(issues)} problem" in page
    listed = between(page, 'id="schema-issues"', "</div>")
    for issue in issues:
        assert html.escape(issue["message"]) in listed
        assert html.escape(issue["path"]) in listed
    assert XSS_LABEL not in page
    assert json_script(page, "schema-editor-config")["issues"] == issues
    assert LabelSchemaVersion.objects.exists() is False


@pytest.mark.django_db
def test_semantic_schema_issues_are_all_listed(people, page_for):
    definition = label_schema("pos", "pos", XSS_LABEL)

    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/schema/", {"definition": json.dumps(definition)}
    )

    page = response.content.decode()
    listed = between(page, 'id="schema-issues"', "</div>")
    assert response.status_code == 400
    assert "The schema has 2 problems; nothing was saved." in page
    assert "duplicate_label" in listed
    assert "markup_in_label" in listed
    assert html.escape("The label 'pos' is listed twice.") in listed
    assert html.escape(f"The label '{XSS_LABEL}' contains '<' or '>'; markup is not allowed.") in listed
    assert "<img src=x" not in page
    assert LabelSchemaVersion.objects.exists() is False


@pytest.mark.django_db
def test_schema_invalid_json_keeps_the_text_and_saves_nothing(people, page_for):
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/schema/", {"definition": '{"version": 1,', "note": ""}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 15)." in page
    assert html.escape('{"version": 1,') in page
    assert LabelSchemaVersion.objects.exists() is False


@pytest.mark.django_db
def test_schema_base_parameter_prefills_an_earlier_version(people, page_for):
    for labels in [("a", "b"), ("c", "d")]:
        services.schema_version_create(
            project=people.project, actor=people.manager, definition=label_schema(*labels)
        )

    response = page_for(people.manager).get(f"/projects/{people.project.id}/schema/?base=1")

    page = response.content.decode()
    textarea = html.unescape(between(page, 'name="definition"', "</textarea>").split(">", 1)[1])
    assert json.loads(textarea) == label_schema("a", "b")
    assert "Starting from v1" in page
    assert "Save as v3" in page


@pytest.mark.django_db
def test_reviewer_sees_the_schema_but_cannot_edit_it(people, page_for):
    services.schema_version_create(project=people.project, actor=people.manager, definition=label_schema())
    client = page_for(people.reviewer)

    read = client.get(f"/projects/{people.project.id}/schema/")
    posted = client.post(
        f"/projects/{people.project.id}/schema/", {"definition": json.dumps(label_schema("x", "y"))}
    )

    page = read.content.decode()
    assert (read.status_code, posted.status_code) == (200, 403)
    assert 'id="schema-form"' not in page
    assert 'id="schema-preview"' in page
    config = json_script(page, "schema-editor-config")
    assert (config["editable"], config["examples"]) == (False, [])
    assert list(LabelSchemaVersion.objects.values_list("version", flat=True)) == [1]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_the_schema_page(people, page_for, method):
    response = getattr(page_for(people.outsider), method)(f"/projects/{people.project.id}/schema/")

    assert response.status_code == 404
    assert LabelSchemaVersion.objects.exists() is False


# --- Guidelines page ------------------------------------------------------------------------------


def guidelines(project, actor, *bodies: str) -> list[GuidelineVersion]:
    return [
        services.guideline_version_create(project=project, actor=actor, body=body, note=f"note {i}")
        for i, body in enumerate(bodies, start=1)
    ]


@pytest.mark.django_db
def test_guidelines_page_renders_markdown_and_the_history(people, page_for):
    guidelines(people.project, people.manager, "# Old", "# Rules\n\nLabel **every** person.\n\n- one\n- two")

    response = page_for(people.annotator).get(f"/projects/{people.project.id}/guidelines/")

    page = response.content.decode()
    document = between(page, '<div class="markdown">', "</div>")
    assert response.status_code == 200
    assert document == (
        "<h3>Rules</h3>\n<p>Label <strong>every</strong> person.</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
    )
    assert "Guidelines v2" in page
    assert 'href="?version=1"' in page
    assert 'href="?diff=1..2#diff"' in page
    assert "note 1" in page
    assert "note 2" in page
    assert 'id="guidelines-form"' not in page  # annotators read only


@pytest.mark.django_db
def test_script_and_html_in_guidelines_are_shown_as_text(people, page_for):
    body = f"# Hi {SCRIPT}\n\n{XSS_LABEL}\n\n[click](javascript:alert(1)) <a href='javascript:x'>a</a>"
    guidelines(people.project, people.manager, body)

    response = page_for(people.manager).get(f"/projects/{people.project.id}/guidelines/")

    page = response.content.decode()
    document = between(page, '<div class="markdown">', "</div>")
    assert "<script" not in document
    assert "<img" not in document
    assert "javascript:" not in re.findall(r'href="([^"]*)"', document)
    assert html.escape(SCRIPT, quote=False) in document
    assert html.escape(XSS_LABEL, quote=False) in document
    assert all('type="module"' in tag or "application/json" in tag for tag in script_tags(page))
    assert "<img src=x" not in page


@pytest.mark.django_db
def test_guidelines_version_parameter_shows_an_earlier_version(people, page_for):
    guidelines(people.project, people.manager, "First *draft*", "Second")

    response = page_for(people.reviewer).get(f"/projects/{people.project.id}/guidelines/?version=1")

    page = response.content.decode()
    assert "<p>First <em>draft</em></p>" in page
    assert "You are reading v1." in page


@pytest.mark.django_db
def test_guidelines_preview_renders_without_saving(people, page_for):
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/guidelines/",
        {"body": f"## Draft\n\n{SCRIPT}", "note": "", "preview": "1"},
    )

    page = response.content.decode()
    preview = between(page, 'id="guidelines-preview-body">', "</div>")
    assert response.status_code == 200
    assert preview == f"<h4>Draft</h4>\n<p>{html.escape(SCRIPT, quote=False)}</p>\n"
    assert GuidelineVersion.objects.exists() is False


@pytest.mark.django_db
def test_guidelines_diff_marks_added_and_removed_lines(people, page_for):
    guidelines(people.project, people.manager, "# Rules\nKeep\nOld line\n", f"# Rules\nKeep\nNew {SCRIPT}\n")

    response = page_for(people.reviewer).get(f"/projects/{people.project.id}/guidelines/?diff=1..2")

    page = response.content.decode()
    table = between(page, '<table class="diff"', "</table>")
    rows = re.findall(r'<tr class="diff__row diff__row--(\w+)">(.*?)</tr>', table, re.DOTALL)
    texts = [
        (kind, re.search(r'class="diff__text">(.*?)</td>', row, re.DOTALL).group(1)) for kind, row in rows
    ]
    assert response.status_code == 200
    assert "Changes from v1 to v2" in page
    assert texts == [
        ("same", "# Rules"),
        ("same", "Keep"),
        ("removed", "Old line"),
        ("added", f"New {html.escape(SCRIPT)}"),
    ]
    assert "<script>alert" not in page


@pytest.mark.django_db
def test_guidelines_compare_form_redirects_to_the_diff_address(people, page_for):
    guidelines(people.project, people.manager, "a", "b")

    response = page_for(people.manager).get(f"/projects/{people.project.id}/guidelines/?from=1&to=2")

    assert response.status_code == 302
    assert response.url == f"/projects/{people.project.id}/guidelines/?diff=1..2#diff"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1..9", "There is no version 9 of these guidelines."),
        ("x", "Choose two versions to compare, e.g. ?diff=1..2."),
    ],
)
def test_guidelines_diff_with_a_bad_range_says_so(people, page_for, value, message):
    guidelines(people.project, people.manager, "a", "b")

    response = page_for(people.manager).get(f"/projects/{people.project.id}/guidelines/?diff={value}")

    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.django_db
def test_reviewer_reads_guidelines_but_gets_403_on_post(people, page_for):
    guidelines(people.project, people.manager, "# Rules")
    client = page_for(people.reviewer)

    read = client.get(f"/projects/{people.project.id}/guidelines/")
    posted = client.post(f"/projects/{people.project.id}/guidelines/", {"body": "# Mine"})
    previewed = client.post(f"/projects/{people.project.id}/guidelines/", {"body": "# Mine", "preview": "1"})

    assert (read.status_code, posted.status_code, previewed.status_code) == (200, 403, 403)
    assert 'id="guidelines-form"' not in read.content.decode()
    assert list(GuidelineVersion.objects.values_list("body", flat=True)) == ["# Rules"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["", "?diff=1..1", "?version=1"])
def test_outsider_gets_404_on_the_guidelines_page(people, page_for, path):
    guidelines(people.project, people.manager, "# Secret")

    response = page_for(people.outsider).get(f"/projects/{people.project.id}/guidelines/{path}")
    posted = page_for(people.outsider).post(f"/projects/{people.project.id}/guidelines/", {"body": "x"})

    assert (response.status_code, posted.status_code) == (404, 404)
    assert "Secret" not in response.content.decode()
    assert GuidelineVersion.objects.count() == 1


# --- Pure helpers ---------------------------------------------------------------------------------


def test_markdown_links_get_rel_and_unsafe_schemes_are_dropped():
    rendered = render_markdown(
        "[ok](https://example.org) [bad](javascript:alert(1)) [data](data:text/html,x)"
    )

    assert rendered == (
        '<p><a href="https://example.org" rel="noopener noreferrer nofollow">ok</a> '
        "[bad](javascript:alert(1)) [data](data:text/html,x)</p>\n"
    )


def test_markdown_keeps_tables_and_shifts_headings():
    rendered = render_markdown("# A\n\n###### F\n\n| x | y |\n|:-|-:|\n| 1 | 2 |")

    assert rendered.startswith("<h3>A</h3>\n<h6>F</h6>\n<table>")
    assert '<td style="text-align:right">2</td>' in rendered


def test_diff_collapses_long_unchanged_runs():
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 10", "line ten")

    result = diff_lines(old, new, context=2)

    assert [(line.kind, line.old_number, line.new_number, line.text) for line in result.lines] == [
        ("skip", None, None, "7 unchanged lines"),
        ("same", 8, 8, "line 8"),
        ("same", 9, 9, "line 9"),
        ("removed", 10, None, "line 10"),
        ("added", None, 10, "line ten"),
        ("same", 11, 11, "line 11"),
        ("same", 12, 12, "line 12"),
        ("skip", None, None, "8 unchanged lines"),
    ]
    assert (result.added, result.removed, result.aligned) == (1, 1, True)


def test_diff_of_a_huge_change_is_bounded_and_not_aligned():
    old = "\n".join(f"old {i}" for i in range(5000))
    new = "\n".join(f"new {i}" for i in range(0, 5000, 2))

    result = diff_lines(old, new)

    assert (result.added, result.removed, result.aligned) == (2500, 5000, False)


def test_examples_come_from_the_docs_with_their_headings():
    examples = schema_examples()

    by_name = {example["name"]: example for example in examples}
    assert set(CONTROLS) <= set(by_name)
    assert by_name["use_case_ner"]["title"] == "Named entities with relations and a conditional note"
    assert (by_name["rating"]["title"], by_name["rating"]["kind"]) == ("rating", "control")
    assert all(validate_schema(example["schema"]) == [] for example in examples)


def test_parse_examples_reads_blocks_under_their_heading():
    markdown = (
        "### `single_choice`\n\ntext\n\n<!-- example: single_choice -->\n```json\n"
        '{"schema": {"version": 1}, "data": {}, "result": {}}\n```\n'
        "### Something else\n<!-- example: mine -->\n```json\n"
        '{"schema": {"version": 2}}\n```\n'
    )

    assert parse_examples(markdown) == [
        {"name": "single_choice", "title": "single_choice", "kind": "control", "schema": {"version": 1}},
        {"name": "mine", "title": "Something else", "kind": "use_case", "schema": {"version": 2}},
    ]


def test_an_annotator_confirms_the_newest_guidelines_on_the_page(people, page_for):
    from projects.models import GuidelineAcknowledgement

    services.guideline_version_create(project=people.project, actor=people.manager, body="# One")
    services.guideline_version_create(project=people.project, actor=people.manager, body="# Two")
    client = page_for(people.annotator)
    url = f"/projects/{people.project.id}/guidelines/"

    before = client.get(url).content.decode()
    stale = client.post(url, {"acknowledge": "1"}, follow=True).content.decode()
    done = client.post(url, {"acknowledge": "2"}, follow=True).content.decode()

    assert "I have read v2" in before
    assert "Guidelines version 1 is not the newest (version 2 is); read it first." in stale
    assert "Thanks: you confirmed guidelines v2." in done
    assert "You confirmed v2." in done and "I have read v2" not in done
    assert list(
        GuidelineAcknowledgement.objects.values_list("user__username", "guideline_version__version")
    ) == [(people.annotator.username, 2)]
