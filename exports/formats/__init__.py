"""FORMATS registry: name -> format object (exports.formats.base.ExportFormat), one module per format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exports.formats import asr, coco, conll, csv, jsonl, labelstudio, parquet, preference, ranking, voc, yolo
from exports.formats.base import ExportFormat

FORMATS: dict[str, ExportFormat] = {
    module.FORMAT.name: module.FORMAT
    for module in (jsonl, csv, parquet, coco, yolo, voc, conll, preference, ranking, asr, labelstudio)
}


def applicable_formats(schema: Mapping[str, Any]) -> list[str]:
    """Names of the formats that have something to export for `schema`, in registry order."""
    return [name for name, fmt in FORMATS.items() if fmt.applicable(schema)]
