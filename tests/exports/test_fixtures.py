"""The test release itself is valid: its schema and every consensus answer pass the schema validator."""

from projects.schema import validate_annotation, validate_schema

from .conftest import SCHEMA, make_records


def test_schema_and_answers_are_valid_under_the_label_schema_rules():
    assert validate_schema(SCHEMA) == []

    for record in make_records(8):
        media = {
            "width": record.media.width,
            "height": record.media.height,
            "duration": record.media.duration,
        }
        assert validate_annotation(SCHEMA, dict(record.data), dict(record.labels), media=media) == []
