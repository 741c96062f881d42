"""Workflow services, one module per family: labeling (claim, lease, draft, submit), review, queue."""
