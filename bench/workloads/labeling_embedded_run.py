"""Labeling on the embedded default (`make run`: SQLite, jobs in a thread of the web process), for
bench/benchmarks/labeling_embedded.py. Two steps, each printing one JSON line:

    python -m bench.workloads.labeling_embedded_run setup ITEMS   -> {"project": id, "token": "..."}
    python -m bench.workloads.labeling_embedded_run counts PROJECT -> recompute jobs and passes, checks

TESSERA_VAR_DIR points at the database (migrated by the caller). The HTTP loop itself is
bench.workloads.labeling_clients.http_step against the server the benchmark starts.
"""

from __future__ import annotations

import json
import sys

import django

from bench.workloads.labeling_run import SCHEMA  # one single_choice control "sentiment": yes / no


def setup(items: int) -> dict:
    from accounts.services import api_token_create
    from annotation.models import Item
    from projects.models import OrganisationMembership
    from projects.services import project_update

    from .setup import bench_project

    bench = bench_project(
        name="Embedded labeling",
        overlap=1,
        schema=SCHEMA,
        annotators=1,
        settings={"labeling": {"review_fraction": 0.0, "gold_rate": 0.0}},
    )
    project_update(project=bench.project, actor=bench.manager, settings={"quality": {"escalate_below": None}})
    user = bench.annotators[0]
    OrganisationMembership.objects.create(organisation=bench.project.organisation, user=user, role="member")
    Item.objects.bulk_create(
        [
            Item(
                project=bench.project,
                target=1,
                data={"text": f"sentence number {i}"},
                content_hash=f"content-{i:08d}",
                checksum=f"checksum-{i:08d}",
                search_text=f"sentence number {i}",
            )
            for i in range(items)
        ],
        batch_size=1000,
    )
    return {"project": bench.project.id, "token": api_token_create(user=user, name="bench")[1]}


def counts(project_id: int) -> dict:
    from django.db import connection

    from core.models import OutboxMessage
    from quality.models import QualityRun, QualityState

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT item_id FROM annotation_annotation a JOIN annotation_item i "
            "ON i.id = a.item_id WHERE i.project_id = %s GROUP BY item_id, i.target "
            "HAVING COUNT(*) > i.target) over_served",
            [project_id],
        )
        over = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM annotation_annotation a JOIN annotation_item i "
            "ON i.id = a.item_id WHERE i.project_id = %s GROUP BY a.item_id, a.annotator_id "
            "HAVING COUNT(*) > 1) repeated",
            [project_id],
        )
        repeated = cursor.fetchone()[0]
    state = QualityState.objects.filter(project_id=project_id).values().first() or {}
    return {
        "jobs": OutboxMessage.objects.filter(task_name="quality.tasks.quality_recompute_task").count(),
        "runs": QualityRun.objects.filter(project_id=project_id).count(),
        "generation": state.get("generation"),
        "over_served": over,
        "repeated": repeated,
    }


def main() -> None:
    django.setup()
    step, argument = sys.argv[1], int(sys.argv[2])
    result = setup(argument) if step == "setup" else counts(argument)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
