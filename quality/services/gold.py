"""Gold standards: reference answers of gold items (set, promoted from consensus, removed)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from annotation.workflow.selectors import quality as answers_selector
from core.exceptions import DomainError
from projects.models import Project
from quality.models import ConsensusResult, GoldStandard
from quality.scheduling import quality_schedule


@transaction.atomic
def gold_set(
    *, project: Project, actor, item_id: int, result: Any, source: str = GoldStandard.Source.MANUAL
) -> GoldStandard:
    """Make an item gold with this reference answer (validated like an annotation). Audited."""
    from annotation.workflow.services.labeling import latest_schema, validate_result
    from annotation.workflow.services.queue import items_workflow_update
    from core.audit import audit_record

    item = answers_selector.item_get(project=project, item_id=item_id)
    if item is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    schema = latest_schema(project)
    if not isinstance(result, dict) or not result:
        raise DomainError("invalid_result", "The reference answer is an object {control name: answer}.")
    validate_result(schema, item, result)  # 400 invalid_annotation with every issue
    items_workflow_update(project=project, actor=actor, item_ids=[item_id], is_gold=True)
    gold, _ = GoldStandard.objects.update_or_create(
        item_id=item_id,
        defaults={
            "project": project,
            "result": result,
            "source": source,
            "schema_version": schema,
            "created_by": actor,
        },
    )
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="gold.set",
        target=gold,
        changes={"item_id": item_id, "source": source},
    )
    quality_schedule(project_id=project.id, full=True)
    return gold


@transaction.atomic
def gold_promote(*, project: Project, actor, item_id: int) -> GoldStandard:
    """Make an item gold with its current consensus answers as the reference."""
    answers = dict(
        ConsensusResult.objects.filter(project=project, item_id=item_id, answer__isnull=False).values_list(
            "control", "answer"
        )
    )
    if not answers:
        raise DomainError(
            "no_consensus",
            "This item has no consensus answer yet: it needs annotations and a quality run.",
            status_code=409,
        )
    return gold_set(
        project=project, actor=actor, item_id=item_id, result=answers, source=GoldStandard.Source.CONSENSUS
    )


@transaction.atomic
def gold_remove(*, project: Project, actor, item_id: int) -> None:
    from annotation.workflow.services.queue import items_workflow_update
    from core.audit import audit_record

    gold = GoldStandard.objects.filter(project=project, item_id=item_id).first()
    if gold is None:
        raise DomainError("not_found", "Not found.", status_code=404)
    items_workflow_update(project=project, actor=actor, item_ids=[item_id], is_gold=False)
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="gold.removed",
        target=gold,
        changes={"item_id": item_id},
    )
    gold.delete()
    quality_schedule(project_id=project.id, full=True)
