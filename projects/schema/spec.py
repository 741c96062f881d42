"""The published JSON Schema of a label schema definition, built from the control registry.

`LABEL_SCHEMA_JSON_SCHEMA` is exported verbatim to docs/label-schema.schema.json
(`python -m projects.schema.spec > docs/label-schema.schema.json`); a test keeps the two equal.
"""

from __future__ import annotations

import json

from .controls import CONTROLS, NAME, TAXONOMY_NODE

SCHEMA_VERSION = 1
FIELD_TYPES = ("text", "rich_text", "image", "audio", "video", "conversation", "candidates", "json")
MAX_FIELDS = 50
MAX_CONTROLS = 200

_SCALAR = {"type": ["string", "number", "boolean"]}

COMMON_CONTROL_PROPERTIES = {
    "name": NAME,
    "type": {"enum": sorted(CONTROLS)},
    "field": NAME,
    "required": {"type": "boolean"},
    "title": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 2000},
    "show_if": {
        "type": "object",
        "required": ["control"],
        "additionalProperties": False,
        "properties": {
            "control": NAME,
            "equals": _SCALAR,
            "in": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _SCALAR},
        },
        "oneOf": [{"required": ["equals"]}, {"required": ["in"]}],
    },
}


def _control_schema(type_name: str) -> dict:
    control = CONTROLS[type_name]
    return {
        "type": "object",
        "required": ["name", "type", "field", *control.required_options],
        "additionalProperties": False,
        "properties": {**COMMON_CONTROL_PROPERTIES, "type": {"const": type_name}, **control.options},
    }


LABEL_SCHEMA_JSON_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Tessera label schema",
    "description": "Which item fields are shown and which controls answer them. See docs/SCHEMA.md.",
    "type": "object",
    "required": ["version", "fields", "controls"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": SCHEMA_VERSION},
        "fields": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_FIELDS,
            "items": {"$ref": "#/$defs/field"},
        },
        "controls": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CONTROLS,
            "items": {"$ref": "#/$defs/control"},
        },
    },
    "$defs": {
        "field": {
            "type": "object",
            "required": ["name", "type"],
            "additionalProperties": False,
            "properties": {
                "name": NAME,
                "type": {"enum": list(FIELD_TYPES)},
                "source": {"type": "string", "minLength": 1, "maxLength": 200},
                "title": {"type": "string", "maxLength": 200},
            },
        },
        "control": {
            "type": "object",
            "required": ["name", "type", "field"],
            "properties": {"type": {"enum": sorted(CONTROLS)}},
            # if/then per type: an error names the options of the control type actually used.
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                    "then": {"$ref": f"#/$defs/control.{name}"},
                }
                for name in sorted(CONTROLS)
            ],
        },
        **{f"control.{name}": _control_schema(name) for name in sorted(CONTROLS)},
        "taxonomy_node": TAXONOMY_NODE,
    },
}


def export() -> str:
    """The document as written to docs/label-schema.schema.json."""
    return json.dumps(LABEL_SCHEMA_JSON_SCHEMA, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(export(), end="")
