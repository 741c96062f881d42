"""Hostile input is a 400 with a machine-readable code, never a 500, and changes nothing.

NUL bytes and lone surrogates (query parameters, JSON and form bodies), forged cursors, deep JSON,
and numbers that are not finite or out of range. docs/API.md lists the codes; docs/SECURITY.md says why.
"""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import ImportJob, Item, MetadataField, SplitOperation
from core.audit import audit_record

from ..factories import make_items


@pytest.fixture
def catalogue(people):
    project = people.project
    make_items(
        project,
        *[
            {
                "text": f"review {i}",
                "meta": {"lang": "en", "score": i},
                "split": "train",
                "licence": "CC0-1.0",
            }
            for i in range(5)
        ],
    )
    MetadataField.objects.create(project=project, name="lang", type="string")
    MetadataField.objects.create(project=project, name="score", type="number")
    return project


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


def _assert_code(response, status: int, code: str):
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["code"] == code and body["detail"], body


# --- NUL bytes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=camera%00battery",
        "split=tr%00ain",
        "licence=%00",
        "source=%00",
        "pool=%00",
        "consent=%00",
        "meta.lang=en%00",
        "meta.lang%00=en",
        "ordering=%00",
    ],
)
def test_nul_in_an_item_filter_is_refused(people, client_for, catalogue, query):
    response = client_for(people.manager).get(f"/api/projects/{catalogue.id}/items/?{query}")

    _assert_code(response, 400, "invalid_character")


@pytest.mark.parametrize("query", ["action=project.%00", "actor=ma%00nager", "cursor=%00"])
def test_nul_in_an_audit_log_filter_is_refused(people, client_for, query):
    response = client_for(people.org_admin).get(
        f"/api/organisations/{people.organisation.id}/audit-events/?{query}"
    )

    _assert_code(response, 400, "invalid_character")


def test_nul_in_a_page_query_is_a_400_page(people, page_for, catalogue):
    response = page_for(people.manager).get(f"/projects/{catalogue.id}/?q=%00")

    assert response.status_code == 400
    assert b"invalid_character" in response.content


@pytest.mark.parametrize("text", ["Re\u0000views", "Re\ud800views"])
def test_nul_or_lone_surrogate_in_a_json_body_is_refused(people, client_for, text):
    body = json.dumps({"name": text, "description": "fine"})  # ensure_ascii: \u0000 / \ud800 escapes

    response = client_for(people.manager).patch(
        f"/api/projects/{people.project.id}/", body, content_type="application/json"
    )

    _assert_code(response, 400, "invalid_character")
    people.project.refresh_from_db()
    assert people.project.name == "Reviews"


def test_nul_in_a_json_key_is_refused(people, client_for):
    response = client_for(people.manager).post(
        f"/api/projects/{people.project.id}/splits/",
        '{"ratios": {"tr\\u0000ain": 1}}',
        content_type="application/json",
    )

    _assert_code(response, 400, "invalid_character")


def test_nul_in_a_multipart_field_is_refused(people, client_for):
    response = client_for(people.manager).post(
        f"/api/projects/{people.project.id}/imports/",
        {"file": SimpleUploadedFile("items.jsonl", b'{"text": "hi"}\n'), "licence": "CC0\x00"},
        format="multipart",
    )

    _assert_code(response, 400, "invalid_character")
    assert not ImportJob.objects.exists()


# --- Cursors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        _cursor("p=abc"),
        _cursor("p=99999999999999999999999999"),
        _cursor("p=1.5"),
        _cursor("o=-1&p=1"),
        _cursor("r=x"),
        _cursor("p=%00"),
    ],
)
def test_forged_item_cursor_is_refused(people, client_for, catalogue, cursor):
    response = client_for(people.manager).get(f"/api/projects/{catalogue.id}/items/", {"cursor": cursor})

    _assert_code(response, 400, "invalid_cursor")


@pytest.mark.parametrize("cursor", [_cursor("p=not a time"), _cursor("p=2026-13-45T99:00:00")])
def test_forged_timestamp_cursor_is_refused(people, client_for, catalogue, cursor):
    response = client_for(people.manager).get(
        f"/api/projects/{catalogue.id}/items/", {"cursor": cursor, "ordering": "-created_at"}
    )

    _assert_code(response, 400, "invalid_cursor")


@pytest.mark.parametrize("cursor", ["garbage", _cursor("p=abc"), _cursor("p=1e999")])
def test_forged_audit_log_cursor_is_refused(people, client_for, cursor):
    response = client_for(people.org_admin).get(
        f"/api/organisations/{people.organisation.id}/audit-events/", {"cursor": cursor}
    )

    _assert_code(response, 400, "invalid_cursor")


def test_genuine_cursors_still_page(people, client_for, catalogue):
    for _ in range(3):
        audit_record(
            actor=people.manager,
            organisation_id=people.organisation.id,
            action="test.event",
            target=catalogue,
        )
    client = client_for(people.org_admin)
    first = client.get(f"/api/organisations/{people.organisation.id}/audit-events/?page_size=2").json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and second["results"]

    items = client_for(people.manager)
    for ordering in ("id", "-created_at"):
        page = items.get(f"/api/projects/{catalogue.id}/items/?page_size=2&ordering={ordering}").json()
        assert items.get(page["next"]).status_code == 200


# --- Deep JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [101, 10_000, 200_000])
def test_deeply_nested_json_is_refused_before_validation(people, client_for, depth):
    body = '{"name": ' + "[" * depth + "]" * depth + "}"

    response = client_for(people.manager).patch(
        f"/api/projects/{people.project.id}/", body, content_type="application/json"
    )

    _assert_code(response, 400, "json_too_deep")


def test_deep_json_inside_a_label_schema_is_refused(people, client_for):
    nested = "[" * 5000 + "]" * 5000
    body = '{"schema": {"version": 1, "fields": ' + nested + ', "controls": []}}'

    response = client_for(people.manager).post(
        f"/api/projects/{people.project.id}/schema-versions/", body, content_type="application/json"
    )

    _assert_code(response, 400, "json_too_deep")


def test_moderately_nested_json_reaches_validation(people, client_for):
    body = '{"name": ' + "[" * 20 + "]" * 20 + "}"

    response = client_for(people.manager).patch(
        f"/api/projects/{people.project.id}/", body, content_type="application/json"
    )

    _assert_code(response, 400, "invalid")


# --- Numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ratios",
    [
        '{"train": 1e308, "test": 1e308}',
        '{"train": 1e400}',
        '{"train": -1e400, "test": 1}',
        '{"train": NaN}',
        '{"train": Infinity}',
        '{"train": -0.5, "test": 1.5}',
        '{"train": 2, "test": -1}',
        '{"train": 100000000000000000000000000}',
        '{"train": "nan"}',
        '{"train": "inf"}',
    ],
)
def test_split_ratios_out_of_range_are_refused(people, client_for, catalogue, ratios):
    response = client_for(people.manager).post(
        f"/api/projects/{catalogue.id}/splits/", '{"ratios": ' + ratios + "}", content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_number", "invalid_ratios", "invalid"}
    assert not SplitOperation.objects.exists()
    assert set(Item.objects.values_list("split", flat=True)) == {"train"}


def test_infinite_number_anywhere_in_a_body_is_invalid_number(people, client_for):
    response = client_for(people.manager).patch(
        f"/api/projects/{people.project.id}/",
        '{"settings": {"labeling": {"review_fraction": 1e999}}}',
        content_type="application/json",
    )

    _assert_code(response, 400, "invalid_number")


@pytest.mark.parametrize("value", ["1e999", "-1e999", "nan", "inf"])
def test_metadata_number_filter_must_be_finite(people, client_for, catalogue, value):
    response = client_for(people.manager).get(f"/api/projects/{catalogue.id}/items/?meta.score={value}")

    _assert_code(response, 400, "invalid_filter")


@pytest.mark.parametrize("query", ["import_job=%C2%B2", "import_job=99999999999999999999999"])
def test_integer_filters_out_of_range_are_refused(people, client_for, catalogue, query):
    response = client_for(people.manager).get(f"/api/projects/{catalogue.id}/items/?{query}")

    _assert_code(response, 400, "invalid_filter")


@pytest.mark.parametrize("value", ["%C2%B2", "99999999999999999999999"])
def test_audit_project_filter_out_of_range_is_refused(people, client_for, value):
    response = client_for(people.org_admin).get(
        f"/api/organisations/{people.organisation.id}/audit-events/?project={value}"
    )

    _assert_code(response, 400, "invalid_filter")


@pytest.mark.parametrize("rate", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_gold_rate_must_be_a_finite_share(people, client_for, rate):
    """A guard: DRF 3.18's FloatField refuses non-finite values; this keeps it so."""
    from projects.models import ProjectMembership

    membership = ProjectMembership.objects.get(project=people.project, user=people.annotator)

    response = client_for(people.manager).patch(
        f"/api/projects/{people.project.id}/members/{membership.id}/workflow/",
        {"gold_rate": rate},
        format="json",
    )

    _assert_code(response, 400, "invalid")
    membership.refresh_from_db()
    assert membership.gold_rate is None


def test_nul_in_the_session_cookie_is_ignored(people, client_for):
    from django.test import Client

    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    client.cookies["csrftoken"] = "\x00"

    response = client.get("/api/me/")

    assert response.status_code in {401, 403}


@pytest.mark.parametrize("header", ["Bearer tsr_\x00abcdef", "Token \x00"])
def test_nul_in_the_authorization_header_is_refused(people, header):
    from django.test import Client

    response = Client().get("/api/me/", HTTP_AUTHORIZATION=header)

    assert response.status_code in {400, 401}


def test_page_number_parameters_read_only_decimal_digits():
    """ "²".isdigit() is true but int("²") raises: the pages' number parameters use isdecimal()."""
    from django.test import RequestFactory

    from projects.views import _parse_diff, _version_param

    assert _parse_diff("²..1") is None
    assert _parse_diff("1..٣") == (1, 3)  # other decimal digits are numbers to int()
    assert _version_param(RequestFactory().get("/", {"version": "²"}), "version") is None


@pytest.mark.parametrize(
    "definition",
    ["[" * 5000 + "]" * 5000, '{"version": 1, "fields": [], "controls": [], "x": "\\u0000"}', '{"a": 1e999}'],
)
def test_the_schema_editor_form_refuses_hostile_json(definition):
    from projects.forms import SchemaVersionForm

    form = SchemaVersionForm(data={"definition": definition, "note": ""})

    assert not form.is_valid()
    assert "definition" in form.errors


def test_the_gold_page_refuses_deeply_nested_json(people, page_for, catalogue):
    item = Item.objects.filter(project=catalogue).first()

    response = page_for(people.manager).post(
        f"/projects/{catalogue.id}/quality/gold/",
        {"action": "set", "item": str(item.id), "result": "[" * 5000 + "]" * 5000},
    )

    assert response.status_code < 500
    assert not item.__class__.objects.filter(pk=item.pk, is_gold=True).exists()


def test_nul_in_the_path_is_refused(people, client_for):
    response = client_for(people.manager).get(
        f"/api/projects/{people.project.id}/releases/1/files/a%00b.jsonl"
    )

    _assert_code(response, 400, "invalid_character")


@pytest.mark.parametrize("against", ["²", "٣", "99999999999999999999", "-1", "1.0"])
def test_release_diff_against_reads_only_a_release_number(people, client_for, page_for, against):
    """`?against=` of the release diff (API and page): anything but a plain release number is a 400
    (the API's code, the page's own message), never a 500 from int("²") or an out-of-range query."""
    from django.utils import timezone

    from exports.models import Release

    Release.objects.create(
        project=people.project,
        number=1,
        name="v1",
        status=Release.Status.PUBLISHED,
        manifest={},
        storage_prefix=f"releases/{people.project.id}/1/a1/",
        published_at=timezone.now(),
    )

    api = client_for(people.manager).get(
        f"/api/projects/{people.project.id}/releases/1/diff/", {"against": against}
    )
    page = page_for(people.manager).get(
        f"/projects/{people.project.id}/releases/1/diff/", {"against": against}
    )

    _assert_code(api, 400, "bad_against")
    assert page.status_code == 400
    assert b"Choose the release to compare with." in page.content
