"""A release build at scale, on a throwaway PostgreSQL database; prints one JSON line.

    python -m bench.workloads.release_run '<json config>'   (DATABASE_URL: a migrated database)

Seeds a project of N items (bench.workloads.labeling_run's INSERT ... SELECT), one consensus row per
item and, with "annotations": true, one annotation per item (so every record's lineage has an
annotation id and a pseudonymous annotator), then VACUUM ANALYZE and CHECKPOINT. Then times, in this
process, what the Celery worker runs for a JSONL release: exports.services.release_create with Celery
eager (no REDIS_URL) builds the release right after its transaction commits: server-side cursor over the
items, consensus and annotations per chunk, JSONL files hashed while written, croissant.json,
DATASHEET.md, signed manifest.json, publication. RSS is sampled every 50 ms in a thread (psutil);
growth = peak during the build minus the RSS just before it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import django

from bench.workloads.labeling_run import SEED_SQL
from bench.workloads.setup import bench_project

SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "required": True,
            "labels": [{"value": v} for v in ("positive", "negative", "neutral")],
        }
    ],
}

CONSENSUS_SQL = """
INSERT INTO quality_consensusresult (project_id, item_id, control, method, method_version, answer,
                                     confidence, agreement, annotations, updated_at)
SELECT i.project_id, i.id, 'sentiment', 'dawid_skene', '1',
       to_jsonb((ARRAY['positive', 'negative', 'neutral'])[1 + i.id %% 3]),
       0.5 + (i.id %% 50) / 100.0, 0.4 + (i.id %% 60) / 100.0, 3, now()
FROM annotation_item i WHERE i.project_id = %(project)s
"""
SPLIT_SQL = """
UPDATE annotation_item SET split = (ARRAY['train', 'train', 'train', 'train', 'train', 'train', 'train',
                                          'train', 'validation', 'test'])[1 + id %% 10]
WHERE project_id = %(project)s
"""
ASSIGNMENTS_SQL = """
INSERT INTO annotation_assignment (project_id, item_id, annotator_id, status, is_gold, leased_at,
                                   skip_reason, active_ms, submitted_at)
SELECT %(project)s, i.id, (%(users)s::bigint[])[1 + i.id %% 20], 'submitted', false, now(), '', 4000, now()
FROM annotation_item i WHERE i.project_id = %(project)s
"""
ANNOTATIONS_SQL = """
INSERT INTO annotation_annotation (project_id, item_id, assignment_id, annotator_id, result, revision,
                                   schema_version_id, is_gold, review, lead_ms, active_ms, created_at,
                                   updated_at)
SELECT a.project_id, a.item_id, a.id, a.annotator_id,
       jsonb_build_object('sentiment', (ARRAY['positive', 'negative', 'neutral'])[1 + a.item_id %% 3]),
       1, %(schema)s, false, 'not_required', 5000, 4000, now(), now()
FROM annotation_assignment a WHERE a.project_id = %(project)s
"""


def _seed_media(project, size: int) -> None:
    """Give every item a stored media file of `size` bytes (in the default storage, on local disk)
    and the image size the import would have recorded; files are written straight to disk."""
    from django.core.files.storage import default_storage
    from django.db import connection

    folder = Path(default_storage.path("media/bench"))
    folder.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM annotation_item WHERE project_id = %s ORDER BY id", [project.id])
        ids = [row[0] for row in cursor.fetchall()]
        for item_id in ids:
            (folder / f"{item_id}.png").write_bytes(item_id.to_bytes(8, "big") + body)
        cursor.execute(
            "UPDATE annotation_item SET media = 'media/bench/' || id || '.png', media_type = 'image', "
            'data = data || \'{"width": 640, "height": 480}\'::jsonb WHERE project_id = %s',
            [project.id],
        )
        cursor.execute("VACUUM ANALYZE annotation_item")


class RssSampler:
    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.baseline = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def main(conf: dict) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    from django.db import connection

    from exports.models import Release
    from exports.services import release_create

    bench = bench_project(name="Release bench", overlap=1, schema=SCHEMA, annotators=20)
    manager, project, schema, annotators = bench.manager, bench.project, bench.schema, bench.annotators
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"project": project.id, "count": conf["items"], "target": 1, "offset": 0})
        cursor.execute(SPLIT_SQL, {"project": project.id})
        cursor.execute(CONSENSUS_SQL, {"project": project.id})
        if conf.get("annotations"):
            cursor.execute(ASSIGNMENTS_SQL, {"project": project.id, "users": [u.id for u in annotators]})
            cursor.execute(ANNOTATIONS_SQL, {"project": project.id, "schema": schema.id})
        cursor.execute("VACUUM ANALYZE")
        # Flush the seed's dirty pages now, so that the build is not timed against the checkpoint
        # that millions of fresh rows would otherwise trigger in the middle of it.
        cursor.execute("CHECKPOINT")
    if conf.get("media_bytes"):
        _seed_media(project, conf["media_bytes"])
    seed_seconds = time.perf_counter() - started
    print(f"seeded in {seed_seconds:.1f} s", file=sys.stderr, flush=True)

    builds = []
    for run in range(conf.get("runs", 1)):
        with RssSampler() as rss:
            started = time.perf_counter()
            # Celery is eager here (no REDIS_URL): the build runs when release_create's transaction commits.
            release = release_create(
                project=project, actor=manager, name=f"bench-{run}", formats=conf.get("formats", ["jsonl"])
            )
            seconds = time.perf_counter() - started
        release.refresh_from_db()
        assert release.status == Release.Status.PUBLISHED, (release.status, release.error)
        assert release.records_done == conf["items"], release.records_done
        size = sum(f.size for f in release.files.all())
        media = release.manifest["media"]
        if conf.get("media_bytes"):
            assert media["files"] == conf["items"], media
        builds.append(
            {
                "seconds": seconds,
                "rss_growth_bytes": rss.peak - rss.baseline,
                "bytes": size,
                "media_files": media["files"],
                "media_bytes": media["bytes"],
            }
        )
        print(f"build {run}: {seconds:.2f} s, RSS +{(rss.peak - rss.baseline) / 1e6:.1f} MB", file=sys.stderr)
    best = min(builds, key=lambda b: b["seconds"])
    return {
        "items": conf["items"],
        "annotations": bool(conf.get("annotations")),
        "seed_seconds": seed_seconds,
        "build_seconds": best["seconds"],
        "records_per_second": conf["items"] / best["seconds"],
        "rss_growth_bytes": max(b["rss_growth_bytes"] for b in builds),
        "release_bytes": best["bytes"],
        "media_bytes": best["media_bytes"],
        "builds": builds,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
