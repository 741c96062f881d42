"""Reads on items, always scoped to one project the caller may see. Import from the module."""
