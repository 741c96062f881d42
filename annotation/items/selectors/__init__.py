"""Item reads: the item table and media (items), the release streams (exports)."""
