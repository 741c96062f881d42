"""CSV cells that a spreadsheet opens as text, never as a formula ("CSV injection").

Excel, LibreOffice and Google Sheets evaluate a cell whose text starts with ``=``, ``+``, ``-`` or
``@`` as a formula (``=HYPERLINK(...)``, ``=WEBSERVICE(...)``, DDE payloads), and a leading tab or
carriage return can hide such a prefix from a glance or move it into the next cell. Following the
OWASP guidance (https://owasp.org/www-community/attacks/CSV_Injection), every **text** cell that
starts with one of those characters gets a single quote in front, which spreadsheets take as "this
is text" and do not display. Numbers are written by the callers as numbers and are not touched: a
negative number is not a formula.

Every CSV writer in Tessera goes through :func:`spreadsheet_safe` (release CSV files, quality
tables, import error reports); ``tests/core/test_spreadsheet.py`` checks each of them with a real
CSV reader. JSON, JSONL and Parquet keep values exactly as they are.
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value` unchanged unless it is a string a spreadsheet would evaluate; then "'" + value."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
