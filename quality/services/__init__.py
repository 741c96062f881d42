"""Quality services: schedule and run recomputes, gold standards.

- `quality_schedule` (quality.scheduling): called by the annotation services in the transaction that
  changed an annotation. One conditional UPDATE; only the first change of a burst enqueues a job,
  through the durable outbox (core.services.outbox_enqueue), so a broker outage delays the
  recompute, never loses it.
- `quality_recompute` (recompute.py): the worker's job. Debounced, serialised per project (advisory
  lock), incremental when it can be (categorical answers kept as coded arrays in
  QualityState.snapshot, see snapshots.py and the pure codec quality.snapshot_codec), full
  otherwise. It stores a QualityRun stamped with what it saw, rewrites the ConsensusResult rows that
  changed (consensus.py, consensus_rows.py), scores gold answers, pauses annotators below the gold
  threshold, raises the gold rate of new and weak annotators, escalates items with low agreement
  (annotators.py), evaluates model predictions (model_scores.py), and announces `quality.updated`
  after commit. job.py holds one run's state and assembles the report.
- `gold_set` / `gold_promote` / `gold_remove` (gold.py): reference answers of gold items.

Reads go through annotation.workflow.selectors.quality; item flags and escalations through the annotation
services; pausing through the projects services (STYLE.md: never change another app's models).
"""

from quality.scheduling import quality_schedule

from .gold import gold_promote, gold_remove, gold_set
from .recompute import quality_compute, quality_recompute, quality_request_full

__all__ = [
    "gold_promote",
    "gold_remove",
    "gold_set",
    "quality_compute",
    "quality_recompute",
    "quality_request_full",
    "quality_schedule",
]
