"""Query parameters that name rows: plain ASCII digits in the database's id range, or 400."""

from .exceptions import DomainError

ID_MAX = 2**63 - 1


def query_id(name: str, value: str) -> int:
    """`value` as a row id; `invalid_filter` for anything else ("abc", "²", 10**30)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > ID_MAX:
        raise DomainError("invalid_filter", f"{name} must be a number (an id).")
    return int(text)
