"""What names an item to people: its external id, else a short stable key from its content checksum.
Pure Python. Used by every page and API that shows items (the Data tab, item pages, quality, review)
and by release diffs (exports.display re-exports it), so an item is named the same everywhere."""


def item_key(external_id: str | None, checksum: str | None, item_id: int) -> str:
    """The item's external id; without one, a short stable key from its content checksum
    ("sha256:1a2b3c4d5e"), the same in every release; else "item <id>"."""
    if external_id:
        return str(external_id)
    if checksum:
        digest = str(checksum).split(":", 1)[-1]
        return f"sha256:{digest[:10]}"
    return f"item {item_id}"
