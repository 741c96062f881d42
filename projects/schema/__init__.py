"""Label schemas: the published JSON Schema of a definition, one class per control type, and the pure
validators the schema and annotation services call. No Django imports."""

from .controls import CONTROLS, Issue
from .spec import LABEL_SCHEMA_JSON_SCHEMA, SCHEMA_VERSION
from .validate import AnnotationIssue, SchemaIssue, validate_annotation, validate_schema

__all__ = [
    "CONTROLS",
    "LABEL_SCHEMA_JSON_SCHEMA",
    "SCHEMA_VERSION",
    "AnnotationIssue",
    "Issue",
    "SchemaIssue",
    "validate_annotation",
    "validate_schema",
]
