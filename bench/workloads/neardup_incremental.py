"""Near-duplicate detection after each of many imports into a large project; prints JSON.

    python -m bench.workloads.neardup_incremental '{"base": 100000, "imports": 100, "size": 1000}'
    (DATABASE_URL points at a migrated PostgreSQL database)

The project is seeded with `base` generated texts (COPY, not timed; 2 % planted edited copies, as in
bench/benchmarks/near_duplicates.py) and detected once (the first, full build of the index). Then
`imports` batches of `size` new texts (2 % copies of earlier texts, so they join groups) are loaded
with COPY, as an import leaves them, each followed by a timed near_duplicates_detect: the per-import
curve. Last, the maintenance rescan (full=True) over everything, timed.
"""

import hashlib
import json
import os
import resource
import sys
import time

import django
import psutil


def _load(connection, project_id: int, texts: list[str], first_line: int) -> None:
    from annotation.imports.normalise import item_digest

    columns = "project_id, data, meta, content_hash, checksum, source, source_ref, licence, consent, "
    columns += "synthetic, generator, split, search_text, predictions, created_at"
    statement = f"COPY annotation_item ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for line_number, text in enumerate(texts, start=first_line):
            digest = item_digest({"text": text})
            unique = hashlib.sha256(f"{line_number}:{digest.content_hash}".encode()).hexdigest()
            copy.write_row(
                (project_id, digest.data_json, "{}", unique, digest.checksum, "upload",
                 f"bench:{line_number}", "", "unknown", False, "", "", digest.search_text, "[]",
                 "2026-01-01T00:00:00Z")
            )  # fmt: skip


def main(conf: dict) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    from django.db import connection

    from accounts.services import user_create
    from annotation.models import Item, NearDuplicateBucket
    from annotation.neardup import services
    from bench.benchmarks.near_duplicates import generate
    from projects.services import organisation_create, project_create

    base, imports, size = conf["base"], conf["imports"], conf["size"]
    texts, _, _ = generate(conf.get("seed", 17), base + imports * size)
    user = user_create(username="bench", password="bench-password-123")
    organisation = organisation_create(name="Bench", slug="bench", creator=user)
    project = project_create(organisation=organisation, actor=user, name="Near-duplicate curve")
    load_before = os.getloadavg()

    _load(connection, project.id, texts[:base], 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_item")
    if not imports:
        del texts  # only the build is measured: its memory alone
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    cpu = time.process_time()
    services.near_duplicates_detect(project_id=project.id)
    build_seconds = time.perf_counter() - started
    build_cpu_seconds = time.process_time() - cpu
    build_peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before) / 2**20
    build_phases = services._last_run_stats["phases"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_nearduplicateindexed")
        cursor.execute("ANALYZE annotation_nearduplicatebucket")

    curve = []
    for batch in range(imports):
        first = base + batch * size
        _load(connection, project.id, texts[first : first + size], first + 1)
        started = time.perf_counter()
        cpu = time.process_time()
        created = services.near_duplicates_detect(project_id=project.id)
        curve.append(
            {
                "seconds": time.perf_counter() - started,
                "cpu_seconds": time.process_time() - cpu,
                "indexed": services._last_run_stats["indexed"],
                "groups": created,
                "items_before": first,
                "phases": services._last_run_stats["phases"],
            }
        )

    started = time.perf_counter()
    if conf.get("rescan", True):
        services.near_duplicates_detect(project_id=project.id, full=True)
    rescan_seconds = time.perf_counter() - started
    total = Item.objects.filter(project=project).count()
    return {
        "base": base,
        "imports": imports,
        "size": size,
        "items": total,
        "build_seconds": build_seconds,
        "build_phases": build_phases,
        "build_cpu_seconds": build_cpu_seconds,
        "build_peak_mb": build_peak_mb,  # peak RSS above the RSS before the build (0: below the seeding peak)
        "curve": curve,
        "rescan_seconds": rescan_seconds,
        "flagged": Item.objects.filter(project=project, near_duplicate_group__isnull=False).count(),
        "buckets": NearDuplicateBucket.objects.filter(project=project).count(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
