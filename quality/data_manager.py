"""Quality's parts of annotation's data manager, registered from QualityConfig.ready() into
annotation.items.extensions (annotation never imports quality): the "mark gold from consensus" bulk
action (and a full quality recompute after a run that marked items), the item table's agreement
column and the consensus answers of exported rows."""

from django.db.models import Avg

from annotation.items.extensions import bulk_action_register, item_facts_register
from annotation.items.manager_models import ItemBulkAction
from annotation.models import Item
from annotation.workflow.services.labeling import latest_schema
from projects.models import Project

from .models import ConsensusResult, GoldStandard
from .scheduling import quality_schedule


def gold_from_consensus(bulk: ItemBulkAction, project: Project, ids: list[int]) -> tuple[int, int]:
    """Items with a consensus answer and no gold reference yet become gold with the consensus as the
    reference (source "consensus"); a reference a manager already set is kept. Set-based."""
    schema = latest_schema(project)
    answers: dict[int, dict] = {}
    for item_id, control, answer in ConsensusResult.objects.filter(
        project=project, item_id__in=ids, answer__isnull=False
    ).values_list("item_id", "control", "answer"):
        answers.setdefault(item_id, {})[control] = answer
    existing = set(GoldStandard.objects.filter(item_id__in=ids).values_list("item_id", flat=True))
    new = [i for i in answers if i not in existing]
    GoldStandard.objects.bulk_create(
        [
            GoldStandard(
                project=project, item_id=i, result=answers[i], source=GoldStandard.Source.CONSENSUS,
                schema_version=schema, created_by=bulk.created_by,
            )
            for i in new
        ]
    )  # fmt: skip
    marked = Item.objects.filter(project=project, pk__in=new, is_gold=False).update(is_gold=True)
    Item.objects.filter(project=project, pk__in=existing, is_gold=False).update(is_gold=True)
    skipped = len(ids) - len(new) - len(existing & set(ids))
    return max(marked, len(new)), skipped


def _recompute(project: Project) -> None:
    quality_schedule(project_id=project.id, full=True)


def agreement_by_item(project: Project, item_ids: list[int]) -> dict[int, float]:
    """Mean per-item agreement over the controls of the newest quality run, for one page of items."""
    rows = (
        ConsensusResult.objects.filter(project=project, item_id__in=item_ids, agreement__isnull=False)
        .values("item_id")
        .annotate(mean=Avg("agreement"))
    )
    return {row["item_id"]: row["mean"] for row in rows}


def consensus_by_item(project: Project, item_ids: list[int]) -> dict[int, dict]:
    """{item id: {control: consensus answer}} for one chunk of exported items (one query)."""
    consensus: dict[int, dict] = {}
    for item_id, control, answer in ConsensusResult.objects.filter(
        project=project, item_id__in=item_ids, answer__isnull=False
    ).values_list("item_id", "control", "answer"):
        consensus.setdefault(item_id, {})[control] = answer
    return consensus


def register() -> None:
    """Called once by QualityConfig.ready()."""
    bulk_action_register(ItemBulkAction.Action.GOLD, gold_from_consensus, after=_recompute)
    item_facts_register("agreement", agreement_by_item)
    item_facts_register("consensus", consensus_by_item)
