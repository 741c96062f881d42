"""The Data tab (/projects/<id>/data/) and the import job page, signed in with Django's test client."""

import html
import itertools
import json
import re

import pytest
from django.test import Client

from annotation.items.display import item_preview
from annotation.models import ImportJob, Item, MetadataField, SplitOperation
from tests.factories import make_items

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def data_url(project, query: str = "") -> str:
    return f"/projects/{project.id}/data/{query}"


def shown_ids(response) -> list[int]:
    """Item ids in the table, in order."""
    body = response.content.decode().split('id="item-table"', 1)[1].split("</table>", 1)[0]
    return [int(value) for value in re.findall(r'<td class="num muted">(\d+)</td>', body)]


# --- Access -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["org_admin", "manager", "reviewer"])
def test_people_who_may_view_items_get_the_page(people, page_for, role):
    response = page_for(people.by_role(role)).get(data_url(people.project))

    assert response.status_code == 200
    assert '<h2 id="items-title">Items</h2>' in response.content.decode()


@pytest.mark.parametrize(("role", "status"), [("annotator", 403), ("org_member", 404), ("outsider", 404)])
def test_others_are_refused_without_learning_anything(people, page_for, role, status):
    make_items(people.project, {"text": "confidential review"})

    response = page_for(people.by_role(role)).get(data_url(people.project))

    assert response.status_code == status
    assert "confidential review" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(people):
    response = Client().get(data_url(people.project))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_manager_gets_the_import_panel_and_its_config(people, page_for, settings):
    settings.ANNOTATION_IMPORT_MAX_BYTES = 5000

    response = page_for(people.manager).get(data_url(people.project))

    page = response.content.decode()
    assert '<div id="import-panel">' in page
    config = json.loads(
        page.split('<script id="data-config" type="application/json">', 1)[1].split("</script>")[0]
    )
    assert config == {
        "project_id": people.project.id,
        "ws_path": f"/ws/projects/{people.project.id}/",
        "items_url": f"/projects/{people.project.id}/data/",
        "max_bytes": 5000,
        "modes": [["all_or_nothing", "All or nothing"], ["valid_rows", "Import valid rows, report the rest"]],
        "consents": [
            ["unknown", "Unknown"],
            ["granted", "Granted"],
            ["not_required", "Not required"],
            ["withdrawn", "Withdrawn"],
        ],
        "provenance_sources": [],
    }
    assert 'id="split-form"' in page


def test_reviewer_reads_but_gets_no_import_split_or_type_forms(people, page_for):
    MetadataField.objects.create(
        project=people.project, name="lang", type="category", categories=["en", "de"]
    )

    response = page_for(people.reviewer).get(data_url(people.project))

    page = response.content.decode()
    assert 'id="import-panel"' not in page
    assert "data-config" not in page
    assert "src/entries/data.ts" not in page and "/static/assets/data-" not in page
    assert 'id="split-form"' not in page
    assert 'name="type"' not in page
    assert '<code class="meta-fields__name">lang</code>' in page
    assert '<span class="badge">Category</span>' in page


@pytest.mark.parametrize(("role", "has_tab"), [("manager", True), ("reviewer", True), ("annotator", False)])
def test_data_tab_shows_for_roles_that_may_view_items(people, page_for, role, has_tab):
    response = page_for(people.by_role(role)).get(f"/projects/{people.project.id}/")

    assert (f'href="/projects/{people.project.id}/data/"' in response.content.decode()) is has_tab


# --- Item table ---------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(people):
    MetadataField.objects.create(
        project=people.project, name="lang", type="category", categories=["en", "de"]
    )
    MetadataField.objects.create(project=people.project, name="stars", type="number")
    items = make_items(
        people.project,
        {"text": "Great battery life", "meta": {"lang": "en", "stars": 5}, "split": "train",
         "consent": "granted"},
        {"text": "Battery died after a week", "meta": {"lang": "en", "stars": 1}, "split": "test"},
        {"text": "Akku hält lange", "meta": {"lang": "de", "stars": 4}, "split": "train", "synthetic": True,
         "generator": "llm-x"},
        {"text": "Screen is too dim", "meta": {"lang": "en", "stars": 2}, "source": "api"},
    )  # fmt: skip
    make_items(people.other_project, {"text": "Battery of another organisation"})
    return [item.id for item in items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [0, 1, 2, 3]),
        ("?q=battery", [0, 1]),
        ("?split=train", [0, 2]),
        ("?split=(none)", [3]),
        ("?source=api", [3]),
        ("?consent=granted", [0]),
        ("?synthetic=true", [2]),
        ("?synthetic=false", [0, 1, 3]),
        ("?meta_key=lang&meta_value=de", [2]),
        ("?meta_key=stars&meta_value=1", [1]),
        ("?q=battery&split=test&meta_key=lang&meta_value=en", [1]),
    ],
)
def test_filters_narrow_the_table(people, page_for, catalogue, query, expected):
    response = page_for(people.reviewer).get(data_url(people.project, query))

    assert response.status_code == 200
    assert shown_ids(response) == [catalogue[index] for index in expected]


def test_filtered_table_counts_its_matches_and_the_project_total(people, page_for, catalogue):
    response = page_for(people.reviewer).get(data_url(people.project, "?q=battery"))

    count = re.search(r'<p class="muted" id="item-count">(.*?)</p>', response.content.decode()).group(1)
    assert count == "2 matching · 4 in the project"


def test_split_summary_counts_items_per_split(people, page_for, catalogue):
    response = page_for(people.reviewer).get(data_url(people.project))

    summary = response.content.decode().split('id="split-summary"', 1)[1].split("</ul>", 1)[0]
    names = re.findall(r'class="split-list__name">(.*?)</a>', summary)
    counts = re.findall(r'class="split-list__count">([\d,]+) ', summary)
    assert list(zip(names, counts, strict=True)) == [
        ("test", "1"),
        ("train", "2"),
        ('<span class="muted">no split</span>', "1"),
    ]


def test_split_summary_follows_new_items(people, page_for, catalogue):
    client = page_for(people.reviewer)
    client.get(data_url(people.project))

    make_items(people.project, {"text": "late arrival", "split": "train"})
    response = client.get(data_url(people.project))

    assert '<strong id="total-items">5</strong>' in response.content.decode()


def test_keyset_pages_of_fifty_follow_the_next_link(people, page_for):
    ids = [item.id for item in make_items(people.project, *({} for _ in range(120)))]
    client = page_for(people.manager)

    first = client.get(data_url(people.project, "?split="))
    next_url = html.unescape(
        re.search(r'href="(\?[^"]*after=\d+)#items" rel="next"', first.content.decode()).group(1)
    )
    second = client.get(data_url(people.project, next_url))
    third_url = html.unescape(
        re.search(r'href="(\?[^"]*after=\d+)#items" rel="next"', second.content.decode()).group(1)
    )
    third = client.get(data_url(people.project, third_url))

    assert shown_ids(first) == ids[:50]
    assert next_url == f"?split=&after={ids[49]}"
    assert shown_ids(second) == ids[50:100]
    assert shown_ids(third) == ids[100:]
    assert 'rel="next"' not in third.content.decode()
    assert "First page</a>" in third.content.decode()


def test_keyset_paging_keeps_the_filters(people, page_for):
    train = [item.id for item in make_items(people.project, *({"split": "train"} for _ in range(60)))]
    make_items(people.project, *({"split": "test"} for _ in range(10)))

    response = page_for(people.manager).get(data_url(people.project, f"?split=train&after={train[49]}"))

    assert shown_ids(response) == train[50:]


def test_a_bad_metadata_filter_shows_the_reason_with_400(people, page_for, catalogue):
    response = page_for(people.reviewer).get(data_url(people.project, "?meta_key=stars&meta_value=lots"))

    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "meta.stars is a number field; 'lots' is not a number." in page
    assert 'id="item-table"' not in page


def test_an_unknown_metadata_field_is_a_form_error_with_400(people, page_for, catalogue):
    response = page_for(people.reviewer).get(data_url(people.project, "?meta_key=nope&meta_value=1"))

    assert response.status_code == 400
    assert "Select a valid choice. nope is not one of the available choices." in response.content.decode()


def test_item_data_and_metadata_are_escaped(people, page_for):
    MetadataField.objects.create(project=people.project, name="<b>key</b>", type="string")
    make_items(
        people.project,
        {"text": "<script>alert(1)</script> hello", "meta": {"<b>key</b>": '<img src=x onerror="alert(2)">'}},
    )

    response = page_for(people.manager).get(data_url(people.project))

    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in page
    assert "<img src=x" not in page
    assert "<b>key</b>" not in page


def test_preview_uses_text_or_the_first_string_and_cuts_at_120_characters():
    assert item_preview({"text": "  two\n\nlines  "}) == "two lines"
    assert item_preview({"id": 3, "messages": [{"role": "user", "content": "hi"}]}) == "user"
    assert item_preview({"prompt": "p" * 200}) == "p" * 119 + "…"
    assert item_preview({"n": 1}) == ""


def test_items_of_one_import_are_listed_with_a_way_back(people, page_for):
    job = ImportJob.objects.create(
        project=people.project, format="jsonl", original_name="a.jsonl", status="succeeded"
    )
    mine = make_items(people.project, {"import_job": job}, {"import_job": job})
    make_items(people.project, {})

    response = page_for(people.manager).get(data_url(people.project, f"?import_job={job.id}"))

    assert shown_ids(response) == [item.id for item in mine]
    assert (
        f'the items of <a href="/projects/{people.project.id}/data/imports/{job.id}/">import #{job.id}</a>'
        in (response.content.decode())
    )


def test_a_bad_import_filter_is_explained_with_400(people, page_for):
    response = page_for(people.reviewer).get(data_url(people.project, "?import_job=latest"))

    assert response.status_code == 400
    assert "<p>Import: Enter a whole number.</p>" in response.content.decode()


# --- Import jobs --------------------------------------------------------------------------------------


@pytest.fixture
def failed_job(people):
    return ImportJob.objects.create(
        project=people.project,
        created_by=people.manager,
        status=ImportJob.Status.FAILED,
        format="jsonl",
        original_name="reviews <1>.jsonl",
        size_bytes=2048,
        received=3,
        rejected=2,
        error_count=2,
        error_sample=[
            {"line": 2, "field": "", "reason": "not valid JSON: Expecting value"},
            {"line": 3, "field": "data.text", "reason": "<script>bad()</script> control character"},
        ],
        error_report="import-errors/2025/03/import-1-errors.csv",
        detail="2 problem(s) found; nothing was imported.",
    )


def test_data_page_lists_recent_imports(people, page_for, failed_job):
    response = page_for(people.reviewer).get(data_url(people.project))

    page = response.content.decode()
    row = page.split('id="import-jobs"', 1)[1].split("</tr>", 2)[1]
    assert '<span class="badge badge--danger">Failed</span>' in row
    assert (
        f'<a href="/projects/{people.project.id}/data/imports/{failed_job.id}/">reviews &lt;1&gt;.jsonl</a>'
        in row
    )
    assert f'href="/api/projects/{people.project.id}/imports/{failed_job.id}/errors/"' in row
    assert '<span class="muted small">by manager</span>' in row


def test_job_page_shows_the_detail_the_first_errors_and_the_report_link(people, page_for, failed_job):
    response = page_for(people.reviewer).get(f"/projects/{people.project.id}/data/imports/{failed_job.id}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "2 problem(s) found; nothing was imported." in page
    errors = page.split('id="job-errors"', 1)[1].split("</table>", 1)[0]
    assert re.findall(
        r"<tr><td class=\"num\">(\d+)</td><td><code>(.*?)</code></td><td class=\"wrap\">(.*?)</td></tr>",
        errors,
    ) == [
        ("2", "—", "not valid JSON: Expecting value"),
        ("3", "data.text", "&lt;script&gt;bad()&lt;/script&gt; control character"),
    ]
    assert (
        f'href="/api/projects/{people.project.id}/imports/{failed_job.id}/errors/" id="error-report" download'
        in page
    )


@pytest.mark.parametrize(("role", "status"), [("annotator", 403), ("outsider", 404)])
def test_job_page_is_refused_like_the_data_page(people, page_for, failed_job, role, status):
    response = page_for(people.by_role(role)).get(
        f"/projects/{people.project.id}/data/imports/{failed_job.id}/"
    )

    assert response.status_code == status


def test_job_of_another_project_is_not_found(people, page_for):
    elsewhere = ImportJob.objects.create(
        project=people.other_project, format="csv", original_name="secret.csv"
    )

    response = page_for(people.manager).get(f"/projects/{people.project.id}/data/imports/{elsewhere.id}/")

    assert response.status_code == 404
    assert "secret.csv" not in response.content.decode()


# --- Metadata field types -----------------------------------------------------------------------------


@pytest.fixture
def lang_field(people):
    return MetadataField.objects.create(project=people.project, name="lang", type="string", inferred=True)


def test_manager_changes_a_metadata_type_with_the_page_form(people, page_for, lang_field):
    client = page_for(people.manager)
    url = f"/projects/{people.project.id}/data/metadata-fields/{lang_field.id}/"

    response = client.post(url, {"type": "category"})

    assert response.status_code == 302
    assert response["Location"] == f"/projects/{people.project.id}/data/#metadata"
    assert MetadataField.objects.filter(pk=lang_field.pk).values_list("type", "inferred").get() == (
        "category",
        False,
    )
    page = client.get(response["Location"]).content.decode()
    assert "“lang” is now a category field." in page
    assert '<option value="category" selected>Category</option>' in page


def test_reviewer_may_not_change_a_metadata_type(people, page_for, lang_field):
    url = f"/projects/{people.project.id}/data/metadata-fields/{lang_field.id}/"

    response = page_for(people.reviewer).post(url, {"type": "category"})

    assert response.status_code == 403
    assert MetadataField.objects.filter(pk=lang_field.pk).values_list("type", "inferred").get() == (
        "string",
        True,
    )


def test_an_unknown_metadata_type_is_refused(people, page_for, lang_field):
    url = f"/projects/{people.project.id}/data/metadata-fields/{lang_field.id}/"

    response = page_for(people.manager).post(url, {"type": "colour"})

    assert response.status_code == 400
    assert MetadataField.objects.get(pk=lang_field.pk).type == "string"


# --- Splits -------------------------------------------------------------------------------------------


def test_manager_assigns_splits_with_the_page_form(people, page_for):
    make_items(people.project, *({} for _ in range(10)))
    client = page_for(people.manager)

    response = client.post(data_url(people.project), {"ratios": "train=0.8, test=0.2", "seed": "7"})

    assert response.status_code == 302
    splits = sorted(Item.objects.filter(project=people.project).values_list("split", flat=True))
    assert splits == ["test"] * 2 + ["train"] * 8
    operation = SplitOperation.objects.get(project=people.project)
    assert (operation.ratios, operation.seed, operation.counts) == (
        {"train": 0.8, "test": 0.2},
        7,
        {"train": 8, "test": 2},
    )
    assert "Split saved: train 8 · test 2 (seed 7)." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("ratios", "message"),
    [
        ("train 0.8", "Write each split as name=share, e.g. train=0.8 (not &#x27;train 0.8&#x27;)."),
        ("train=0.5, test=0.2", "sum"),
    ],
)
def test_bad_split_input_is_shown_on_the_form_with_400(people, page_for, ratios, message):
    make_items(people.project, {"split": ""})

    response = page_for(people.manager).post(data_url(people.project), {"ratios": ratios})

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert '<details class="split-assign" open>' in page
    assert SplitOperation.objects.exists() is False


def test_reviewer_may_not_assign_splits(people, page_for):
    make_items(people.project, {})

    response = page_for(people.reviewer).post(data_url(people.project), {"ratios": "train=1"})

    assert response.status_code == 403
    assert list(Item.objects.filter(project=people.project).values_list("split", flat=True)) == [""]


def test_the_labeling_summary_names_the_gold_items_it_keeps_apart(people, page_for):
    """Issue #16 walk: the state counts must add up to the project's items, or say what is apart."""
    items = make_items(people.project, {"text": "a"}, {"text": "b"}, {"text": "c"})
    Item.objects.filter(pk=items[0].pk).update(is_gold=True)

    body = page_for(people.manager).get(data_url(people.project)).content.decode()

    summary = body.split('id="labeling"', 1)[1].split("</section>", 1)[0]
    assert 'id="items-apart"' in summary and "1 gold item" in summary
