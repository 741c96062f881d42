"""Load N items through the import path (COPY into staging, set-based insert), build the metadata range
indexes as the worker does after an import, and time the data manager's item filter
(annotation.items.manager_selectors.item_filter, first page of 50) on the queries users wait for.

    python -m bench.workloads.search_run FILE   (DATABASE_URL points at a migrated database)
"""

import json
import os
import sys
import time

import django

REPEATS = 21


def _timings(project, params: dict, repeats: int = REPEATS) -> tuple[list[float], int]:
    from annotation.items.manager_selectors import item_filter

    timings, found = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        found = len(list(item_filter(project=project, params=params)[:50]))
        timings.append((time.perf_counter() - started) * 1000)
    return timings, found


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["CORE_TASKS_IN_THREAD"] = "0"
    os.environ["ANNOTATION_NEAR_DUPLICATES_AFTER_IMPORT"] = "0"
    os.environ["ANNOTATION_METADATA_INDEXES"] = "0"  # built below, timed on its own
    os.environ["ANNOTATION_SEARCH_INDEX"] = "0"  # built below, timed on its own
    django.setup()
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from accounts.services import user_create
    from annotation.imports.services.jobs import import_job_create, import_job_run
    from annotation.items.metadata_indexes import metadata_indexes_ensure
    from annotation.items.search_index import search_index_ensure
    from annotation.models import ImportJob
    from projects.services import organisation_create, project_create

    user = user_create(username="bench", password="bench-password-123")
    organisation = organisation_create(name="Bench", slug="bench", creator=user)
    project = project_create(organisation=organisation, actor=user, name="Search bench")
    size = os.path.getsize(path)
    upload = TemporaryUploadedFile("bench.jsonl", "application/x-ndjson", size, "utf-8")
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            upload.write(chunk)
    upload.seek(0)

    started = time.perf_counter()
    job = import_job_create(project=project, actor=user, upload=upload)
    job = import_job_run(job_id=job.id) or ImportJob.objects.get(pk=job.id)
    import_seconds = time.perf_counter() - started
    if job.status != "succeeded":
        raise SystemExit(f"import failed: {job.detail}")

    searches = {
        # Line 987,654 (87,654 in quick mode): a text no other item contains.
        "search, one item": {"q": "review 987654:" if job.received >= 1_000_000 else "review 87654:"},
        "search, common word": {"q": "battery"},
        "search, no match": {"q": "item-987654"},
    }
    unindexed = {}
    for name, params in searches.items():
        timings, found = _timings(project, params, repeats=3)
        unindexed[name] = {"p50": _p(timings, 0.5), "max": round(max(timings), 2), "found": found}

    started = time.perf_counter()
    built = metadata_indexes_ensure(project_id=project.id)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    search_index_ensure(project_id=project.id)
    search_index_seconds = time.perf_counter() - started

    cases = {
        **searches,
        "metadata range, sorted descending": {"meta.stars__gte": "5", "ordering": "-meta.stars"},
        "metadata range, sorted ascending": {"meta.stars__lte": "1", "ordering": "meta.stars"},
        "metadata equals": {"meta.language": "fr"},
    }
    queries = {}
    for name, params in cases.items():
        timings, found = _timings(project, params)
        queries[name] = {
            "p50": _p(timings, 0.5),
            "p99": _p(timings, 0.99),
            "max": round(max(timings), 2),
            "found": found,
        }
    print(
        json.dumps(
            {
                "items": job.created,
                "import_seconds": import_seconds,
                "index_seconds": index_seconds,
                "indexes": built["created"],
                "search_index_seconds": search_index_seconds,
                "unindexed": unindexed,
                "queries": queries,
                "repeats": REPEATS,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
