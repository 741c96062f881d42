"""How an item reads in a list: pure helpers shared by pages, selectors and other apps (no Django)."""

PREVIEW_CHARS = 120


def item_preview(data, limit: int = PREVIEW_CHARS) -> str:
    """data["text"], else the first string anywhere in the data (a conversation's first message, ...),
    whitespace collapsed and cut to `limit` characters. Escaped by the template, like all item data."""
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        text = _first_string(data, depth=0)
    text = " ".join((text or "").split())
    return text if len(text) <= limit else f"{text[: limit - 1].rstrip()}…"


def _first_string(value, depth: int) -> str | None:
    if isinstance(value, str):
        return value
    if depth > 4:
        return None
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found = _first_string(child, depth + 1)
        if found:
            return found
    return None
