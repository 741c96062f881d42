"""Splits: train/validation/test assignment of a project's items (algorithm.py is pure numpy)."""
