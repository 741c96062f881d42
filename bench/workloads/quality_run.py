"""Quality recompute at scale, on a throwaway PostgreSQL database; prints one JSON line.

    python -m bench.workloads.quality_run '<json config>'   (DATABASE_URL: a migrated database)

Seeds a project of N items at overlap 5 with 50 annotators whose accuracy varies (items, assignments
and annotations by INSERT ... SELECT generate_series, then ANALYZE), then times, in this process,
the function the Celery worker runs (quality.services.quality_compute, inside its transaction,
commit included): a full recompute, and then one new annotation submitted through
annotation.workflow.services.labeling and picked up by the incremental recompute (quality_recompute, with the
default 0.5 s debounce), i.e. the time until the dashboard's data reflects it.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django

from bench.workloads.labeling_run import SEED_SQL
from bench.workloads.setup import bench_project

LABELS = ["l0", "l1", "l2", "l3", "l4"]
SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "required": True,
            "labels": [{"value": v} for v in LABELS],
        }
    ],
}

# Annotator k of item g is (g * 7 + k * 11) % 50 (five distinct people per item); annotator a answers
# the item's truth (g % 5) except on (10 + a)% of items, where they give the next label.
ASSIGNMENTS_SQL = """
INSERT INTO annotation_assignment (project_id, item_id, annotator_id, status, is_gold, leased_at,
                                   skip_reason, active_ms, submitted_at)
SELECT %(project)s, i.id, (%(users)s::bigint[])[1 + ((i.id * 7 + k * 11) %% 50)], 'submitted', false, now(),
       '', 4000 + (i.id %% 3000), now()
FROM annotation_item i CROSS JOIN generate_series(0, %(overlap)s - 1) AS k
WHERE i.project_id = %(project)s
"""
ANNOTATIONS_SQL = """
INSERT INTO annotation_annotation (project_id, item_id, assignment_id, annotator_id, result, revision,
                                   schema_version_id, is_gold, review, lead_ms, active_ms, created_at,
                                   updated_at)
SELECT a.project_id, a.item_id, a.id, a.annotator_id,
       jsonb_build_object('sentiment', (%(labels)s::text[])[1 + ((a.item_id %% 5) + CASE
            WHEN (a.item_id * 31 + a.annotator_id * 17) %% 100 < 10 + (a.annotator_id %% 50)
            THEN 1 ELSE 0 END) %% 5]),
       1, %(schema)s, false, 'not_required', 5000, a.active_ms,
       now() - interval '1 hour', now() - interval '1 hour'
FROM annotation_assignment a WHERE a.project_id = %(project)s
"""


def main(conf: dict) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    from django.conf import settings as django_settings
    from django.db import connection

    from annotation.models import Item
    from annotation.workflow.services.claim import next_item_for_annotator
    from annotation.workflow.services.submit import annotation_submit
    from quality.models import ConsensusResult, QualityRun
    from quality.services import quality_compute

    bench = bench_project(
        name="Quality bench",
        overlap=5,
        schema=SCHEMA,
        annotators=50,
        settings={"quality": {"escalate_below": None}},
    )
    project, schema, annotators = bench.project, bench.schema, bench.annotators
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"project": project.id, "count": conf["items"], "target": 5, "offset": 0})
        params = {"project": project.id, "users": [u.id for u in annotators], "overlap": 5}
        cursor.execute(ASSIGNMENTS_SQL, params)
        cursor.execute(ANNOTATIONS_SQL, {"project": project.id, "labels": LABELS, "schema": schema.id})
        cursor.execute(
            "UPDATE annotation_item SET done = 5, state = 'completed' WHERE project_id = %s", [project.id]
        )
        cursor.execute("ANALYZE")
    seed_seconds = time.perf_counter() - started
    print(f"seeded in {seed_seconds:.1f} s", file=sys.stderr, flush=True)

    timings = []
    for _ in range(conf["full_runs"]):
        started = time.perf_counter()
        run = quality_compute(project_id=project.id, full=True)
        timings.append(time.perf_counter() - started)
        print(f"full recompute {timings[-1]:.2f} s", file=sys.stderr, flush=True)
    report = run.report["controls"][0]["agreement"]

    # one more item and one annotation on it, then the job the submission scheduled
    Item.objects.filter(project=project).update(target=5)
    extra = Item.objects.create(
        project=project, data={"text": "one more"}, content_hash="f" * 64, checksum="e" * 64, target=1
    )
    user = annotators[0]
    outcome = next_item_for_annotator(project=project, annotator=user)
    assert outcome.assignment is not None and outcome.assignment.item_id == extra.id, outcome
    submitted = time.perf_counter()
    # Celery is eager here (no REDIS_URL): the job the submission schedules runs when it commits, so
    # this call returns once the incremental recompute (debounce included) has stored the report.
    annotation_submit(
        project=project, annotator=user, assignment_id=outcome.assignment.id, result={"sentiment": "l1"}
    )
    reflected = time.perf_counter() - submitted
    incremental = QualityRun.objects.filter(project=project).order_by("-id").first()
    compute_ms = incremental.duration_ms
    row = ConsensusResult.objects.get(item=extra, control="sentiment")
    assert row.answer == "l1" and incremental.kind == QualityRun.Kind.INCREMENTAL
    assert incremental.annotations == run.annotations + 1
    return {
        "items": conf["items"],
        "annotations": run.annotations,
        "seed_seconds": seed_seconds,
        "full_seconds": min(timings),
        "full_all": timings,
        "alpha": report["alpha"],
        "reflected_seconds": reflected,
        "incremental_ms": compute_ms,
        "debounce_seconds": django_settings.QUALITY_DEBOUNCE_SECONDS,
        "snapshot_bytes": len(
            bytes(__import__("quality.models").models.QualityState.objects.get(project=project).snapshot)
        ),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
