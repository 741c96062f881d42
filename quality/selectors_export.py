"""What the release build (exports.services) reads about consensus: the stored ConsensusResult rows.

Read per chunk of items (an id range, served by the (item, control) unique index), inside the build's
transaction, so the consensus and the items come from one snapshot.
"""

from typing import NamedTuple

import orjson
from django.db import connection

from projects.models import Project

from .models import ConsensusResult


class ExportConsensusRow(NamedTuple):
    item_id: int
    control: str
    answer: object  # the control's answer shape; never None (unanswered controls are left out)
    confidence: float | None
    agreement: float | None
    method: str
    method_version: str


def export_consensus(*, project: Project, first_item_id: int, last_item_id: int) -> list[ExportConsensusRow]:
    """Consensus answers of the items with first_item_id <= id <= last_item_id, by item then control.
    On PostgreSQL the answers are read as text and parsed with orjson (the ORM's JSON conversion is
    the slow part of a million-row release)."""
    rows = ConsensusResult.objects.filter(
        project=project, item_id__gte=first_item_id, item_id__lte=last_item_id, answer__isnull=False
    ).order_by("item_id", "control")
    if connection.vendor != "postgresql":
        fields = ("item_id", "control", "answer", "confidence", "agreement", "method", "method_version")
        return [ExportConsensusRow(*row) for row in rows.values_list(*fields)]
    sql = (
        "SELECT item_id, control, answer::text, confidence, agreement, method, method_version "
        "FROM quality_consensusresult WHERE project_id = %s AND item_id >= %s AND item_id <= %s "
        "AND answer IS NOT NULL ORDER BY item_id, control"
    )
    loads = orjson.loads
    new = tuple.__new__  # the NamedTuple without its Python-level __new__ (hot: once per row)
    with connection.cursor() as cursor:
        cursor.execute(sql, [project.id, first_item_id, last_item_id])
        return [
            new(ExportConsensusRow, (r[0], r[1], loads(r[2]), r[3], r[4], r[5], r[6]))
            for r in cursor.fetchall()
        ]


class ExportGoldRow(NamedTuple):
    item_id: int
    result: dict  # {control: reference answer}
    source: str  # GoldStandard.Source: "manual" or "consensus"
    schema_version: int  # the label schema version the reference answer was given under


def export_gold(*, project: Project, first_item_id: int, last_item_id: int) -> list[ExportGoldRow]:
    """Gold reference answers of the items with first_item_id <= id <= last_item_id, by item. Gold
    items have no consensus rows (quality leaves them out to score annotators against): a release
    labels them with these answers."""
    from .models import GoldStandard

    rows = (
        GoldStandard.objects.filter(project=project, item_id__gte=first_item_id, item_id__lte=last_item_id)
        .order_by("item_id")
        .values_list("item_id", "result", "source", "schema_version__version")
    )
    return [ExportGoldRow(*row) for row in rows]
