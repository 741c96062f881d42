"""Writes on items: one module per family (imports, splits, metadata). Import from the module."""
