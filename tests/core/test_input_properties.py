"""Property tests over the input parsers: whatever arrives, the answer is below 500.

Random unicode (NUL, lone surrogates, any plane), random nesting and huge numbers go into the JSON
parser directly, into the item and audit-log filters as query strings, and into JSON bodies of
endpoints that take them. Derandomized, so CI sees the same examples every run.
"""

import contextlib
import io
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from annotation.models import MetadataField
from core.exceptions import DomainError
from core.parsers import JSONParser

from ..factories import make_items

PROPERTY = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "a", "é", "😀", " ", "%", "'", '"', "\\"])),
    st.sampled_from(["\x00", "\ud800", "1e999", "nan", "-inf", "99999999999999999999999", "²", "٣", ""]),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 2**63, -(2**63) - 1, 5e-324]),
)
json_values = st.recursive(
    st.none() | st.booleans() | huge_numbers | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=30,
)


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _json_text(value) -> str:
    return json.dumps(value)  # ensure_ascii: NUL and surrogates as \u escapes, huge ints as digits


# --- The parser itself -----------------------------------------------------------------------------


@PROPERTY
@given(value=json_values)
def test_json_parser_refuses_or_returns_clean_data(value):
    try:
        parsed = JSONParser().parse(io.BytesIO(_json_text(value).encode()))
    except (DomainError, ParseError):
        return
    _assert_clean(parsed, depth=0)


@PROPERTY
@given(depth=st.integers(min_value=0, max_value=50_000), opener=st.sampled_from(["[", '{"a":']))
def test_json_parser_never_recurses_out_of_stack(depth, opener):
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()
    try:
        JSONParser().parse(io.BytesIO(body))
    except DomainError as error:
        assert error.code == "json_too_deep"
        assert depth > 100


@PROPERTY
@given(data=st.binary(max_size=200))
def test_json_parser_on_random_bytes(data):
    with contextlib.suppress(DomainError, ParseError):
        JSONParser().parse(io.BytesIO(data))


def _assert_clean(value, depth):
    assert depth <= 100
    if isinstance(value, str):
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogate
    elif isinstance(value, float):
        assert value == value and abs(value) != float("inf")
    elif isinstance(value, int) and not isinstance(value, bool):
        assert -(2**63) <= value < 2**63
    elif isinstance(value, dict):
        for key, child in value.items():
            _assert_clean(key, depth + 1)
            _assert_clean(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            _assert_clean(child, depth + 1)


# --- Endpoints -------------------------------------------------------------------------------------

ITEM_FILTERS = [
    "q", "split", "source", "consent", "licence", "pool", "state", "import_job", "synthetic", "is_gold",
    "ordering", "cursor", "page", "page_size", "meta.lang", "meta.score", "meta.score__gte",
    "meta.score__lte", "meta.missing", "meta.lang__lte",
]  # fmt: skip


def _query(pairs) -> str:
    return "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in pairs
    )


@pytest.fixture
def lab(people, client_for):
    make_items(people.project, *[{"meta": {"lang": "en", "score": i}, "split": "train"} for i in range(3)])
    MetadataField.objects.create(project=people.project, name="lang", type="string")
    MetadataField.objects.create(project=people.project, name="score", type="number")
    return people, client_for(people.manager), client_for(people.org_admin)


@pytest.mark.django_db
@PROPERTY
@given(pairs=st.lists(st.tuples(st.sampled_from(ITEM_FILTERS) | hostile_text, hostile_text), max_size=4))
def test_item_filters_never_fail_with_a_server_error(lab, pairs):
    people, manager, _ = lab
    response = manager.get(f"/api/projects/{people.project.id}/items/?{_query(pairs)}")
    assert response.status_code < 500, (pairs, response.content[:300])


@pytest.mark.django_db
@PROPERTY
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["action", "actor", "project", "cursor", "page_size"]) | hostile_text,
            hostile_text,
        ),
        max_size=4,
    )
)
def test_audit_log_filters_never_fail_with_a_server_error(lab, pairs):
    people, _, admin = lab
    response = admin.get(f"/api/organisations/{people.organisation.id}/audit-events/?{_query(pairs)}")
    assert response.status_code < 500, (pairs, response.content[:300])


BODY_ENDPOINTS = [
    ("patch", "/api/projects/{project}/"),
    ("post", "/api/projects/{project}/splits/"),
    ("post", "/api/projects/{project}/schema-versions/"),
    ("post", "/api/projects/{project}/guideline-versions/"),
    ("post", "/api/projects/{project}/predictions/"),
    ("post", "/api/projects/{project}/items-workflow/"),
    ("post", "/api/projects/{project}/members/"),
    ("post", "/api/projects/"),
    ("post", "/api/tokens/"),
]


@pytest.mark.django_db
@PROPERTY
@given(
    endpoint=st.sampled_from(BODY_ENDPOINTS),
    body=st.one_of(
        json_values.map(_json_text),
        st.dictionaries(
            st.sampled_from(["name", "ratios", "schema", "body", "settings", "overlap", "item_ids", "role"]),
            json_values,
            max_size=3,
        ).map(_json_text),
        st.integers(min_value=60, max_value=20_000).map(_nested),
        st.text(max_size=50),
    ),
)
def test_json_bodies_never_fail_with_a_server_error(lab, endpoint, body):
    from django.db import transaction

    people, manager, _ = lab
    method, path = endpoint
    with transaction.atomic():  # each example starts from the same state
        response = getattr(manager, method)(
            path.format(project=people.project.id),
            body.encode("utf-8", "surrogatepass"),
            content_type="application/json",
        )
        transaction.set_rollback(True)
    assert response.status_code < 500, (endpoint, body[:300], response.content[:300])
