"""The submit body's fast check (annotation.workflow.api._submit_input) accepts exactly what
SubmitInputSerializer accepts, with the same values; anything else goes through the serializer."""

import pytest
from rest_framework.exceptions import ValidationError

from annotation.workflow.api import _submit_input
from annotation.workflow.serializers import SubmitInputSerializer

BODIES = [
    {"result": {"sentiment": "positive"}},
    {"result": {"a": 1}, "next": True, "active_ms": 1200},
    {"result": [], "idempotency_key": "k-1", "base_revision": 0, "prediction": None},
    {"result": {"a": 1}, "base_revision": None, "prediction": 7, "next": False},
    # not the plain shape: the serializer decides (coerces or refuses)
    {"result": {"a": 1}, "active_ms": "15", "next": "true"},
    {"result": {"a": 1}, "idempotency_key": "  padded  "},
    {"result": {"a": 1}, "idempotency_key": ""},
    {"result": {"a": 1}, "idempotency_key": "x" * 101},
    {"result": {"a": 1}, "base_revision": -1},
    {"result": {"a": 1}, "active_ms": True},
    {"result": {"a": 1}, "typo": 1},
    {"result": None},
    {},
    ["not", "an", "object"],
]


def _serializer(body):
    payload = SubmitInputSerializer(data=body)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


@pytest.mark.parametrize("body", BODIES)
def test_the_fast_check_agrees_with_the_serializer(body):
    try:
        expected = _serializer(body)
    except ValidationError as error:
        with pytest.raises(ValidationError) as raised:
            _submit_input(body)
        assert raised.value.detail == error.detail
    else:
        assert dict(_submit_input(body)) == expected
