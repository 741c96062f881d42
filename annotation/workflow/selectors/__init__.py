"""Workflow reads: labeling progress and history; the quality app's answer streams."""
