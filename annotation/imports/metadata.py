"""Infer metadata field types while records stream by. Pure; memory is bounded per key.

A key is a number if every value is a JSON number, a boolean if every value is a boolean, a
date if every value is an ISO date or date-time string, a category if its strings take few
distinct values (at most CATEGORY_MAX_VALUES, and values repeat), otherwise a string. A key
whose values mix kinds is a string. Nulls are ignored.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

CATEGORY_MAX_VALUES = 50  # distinct values a category may have


def _is_iso_date(value: str) -> bool:
    if len(value) < 10 or value[4] != "-" or value[7] != "-":
        return False
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass
class _KeyProfile:
    kinds: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)  # distinct strings, up to CATEGORY_MAX_VALUES + 1
    strings: int = 0
    all_dates: bool = True


class MetadataProfiler:
    """Feed it every record's meta dict; `types()` gives {key: (type, categories)}."""

    def __init__(self) -> None:
        self._keys: dict[str, _KeyProfile] = {}

    def add(self, meta: dict[str, Any]) -> None:
        for key, value in meta.items():
            if value is None:
                continue
            profile = self._keys.get(key)
            if profile is None:
                profile = self._keys[key] = _KeyProfile()
            if isinstance(value, bool):
                profile.kinds.add("boolean")
            elif isinstance(value, int | float):
                profile.kinds.add("number")
            elif isinstance(value, str):
                profile.kinds.add("string")
                profile.strings += 1
                if len(profile.values) <= CATEGORY_MAX_VALUES:
                    profile.values.add(value)
                if profile.all_dates and not _is_iso_date(value):
                    profile.all_dates = False
            else:  # lists and objects are kept, but only searchable as text
                profile.kinds.add("other")

    def types(self) -> dict[str, tuple[str, list[str]]]:
        result = {}
        for key, profile in sorted(self._keys.items()):
            if profile.kinds == {"number"}:
                result[key] = ("number", [])
            elif profile.kinds == {"boolean"}:
                result[key] = ("boolean", [])
            elif profile.kinds == {"string"} and profile.all_dates:
                result[key] = ("date", [])
            elif (
                profile.kinds == {"string"}
                and len(profile.values) <= CATEGORY_MAX_VALUES
                and profile.strings > len(profile.values)
            ):
                result[key] = ("category", sorted(profile.values))
            else:
                result[key] = ("string", [])
        return result
