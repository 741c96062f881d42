"""A Tessera label schema from a Label Studio labeling config (the `<View>` XML).

`schema_from_labelstudio_config(xml)` returns `(schema, untranslated)`: a definition that passes
`validate_schema()` and a list of `{"tag", "name", "reason"}`, one entry for every element or
attribute the schema cannot express. Nothing is dropped without an entry. Pure Python, no Django.
One module per step: parse.py (safe XML), builders.py (tag by tag), report.py (tag tables, state,
what is reported untranslated), translate.py (the walk and the final schema).

The contract with the Label Studio task importer (annotation/imports):
- a Tessera control's `name` is the Label Studio control's `name` (the `from_name` of its results);
- the field a control reads has `source` = the Label Studio object's `value` without `$`
  (`$image` -> `image`), so imported data keys stay as they are;
- label values are what Label Studio stores in results: a label's `alias` when it has one.

The XML is parsed with defusedxml: no DTD, no entities, no external references; inputs over
MAX_CONFIG_BYTES or with more than MAX_ELEMENTS elements are refused. Every refusal is a
LabelStudioConfigError with a stable `reason`. docs/SCHEMA.md ("Label Studio configs") lists
what each tag becomes.
"""

from .parse import MAX_CONFIG_BYTES, MAX_DEPTH, MAX_ELEMENTS, LabelStudioConfigError, parse_labelstudio_config
from .translate import schema_from_labelstudio_config

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "LabelStudioConfigError",
    "parse_labelstudio_config",
    "schema_from_labelstudio_config",
]
