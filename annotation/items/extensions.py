"""Extension points of the data manager for the apps above annotation (dependency inversion): annotation
owns the item table, its bulk-action framework and its own actions, and never imports quality. Quality
registers what it adds from QualityConfig.ready() (quality/data_manager.py): the "mark gold" bulk
action, the table's agreement column and the consensus answers of exported rows. Without a
registration the action is refused as unknown and the column and field are empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (bulk action, project, item ids of one chunk) -> (changed, skipped); runs in the chunk's transaction.
BulkApply = Callable[[Any, Any, list[int]], tuple[int, int]]
# (project) -> None; runs once after a run that changed items, in the run's final transaction.
BulkAfter = Callable[[Any], None]
# (project, item ids) -> {item id: value}; one page or export chunk of items.
ItemFacts = Callable[[Any, list[int]], dict[int, Any]]


@dataclass(frozen=True)
class BulkAction:
    apply: BulkApply
    after: BulkAfter | None = None


BULK_ACTIONS: dict[str, BulkAction] = {}
ITEM_FACTS: dict[str, ItemFacts] = {}


def bulk_action_register(action: str, apply: BulkApply, after: BulkAfter | None = None) -> None:
    """Register how a higher app applies `action` (a value of ItemBulkAction.Action) to a chunk."""
    BULK_ACTIONS[action] = BulkAction(apply=apply, after=after)


def item_facts_register(name: str, read: ItemFacts) -> None:
    """Register a per-item read: "agreement" (mean agreement, the table's column) or "consensus"
    ({control: answer}, in exported rows)."""
    ITEM_FACTS[name] = read


def item_facts(name: str, *, project, item_ids: list[int]) -> dict[int, Any]:
    """The registered read `name` for these items; {} when nothing is registered or no ids."""
    read = ITEM_FACTS.get(name)
    if read is None or not item_ids:
        return {}
    return read(project, item_ids)
