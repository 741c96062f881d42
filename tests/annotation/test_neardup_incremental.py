"""Incremental near-duplicate detection: the stored index, merges, coalescing, the full rescan.

The key property: detection after each of N imports ends with the same groups as one detection over
all the items at once (random texts and image hashes with planted near-duplicates).
"""

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction

from annotation.models import (
    Item,
    NearDuplicateBucket,
    NearDuplicateGroup,
    NearDuplicateIndexed,
    NearDuplicateState,
)
from annotation.neardup import services
from annotation.neardup.services import (
    DETECT_TASK,
    near_duplicate_index_forget,
    near_duplicate_resolve,
    near_duplicates_detect,
    near_duplicates_detect_run,
    near_duplicates_detect_schedule,
)
from core.models import AuditEvent, OutboxMessage
from tests.factories import ProjectFactory, make_items

pytestmark = pytest.mark.django_db

WORDS = [f"w{n:04d}x" for n in range(3_000)]


def planted_texts(seed: int, bases: int = 40, variants: int = 5) -> list[str]:
    """Random 50-word texts, each with a chain of `variants` copies, each changing 3-4 words of the
    one before (neighbours are near-duplicates, copies two steps apart mostly not: they are linked
    only through others), plus as many unrelated texts; shuffled."""
    random = np.random.RandomState(seed)
    texts = []
    for _ in range(bases):
        words = list(random.choice(WORDS, 50))
        texts.append(" ".join(words))
        copy = list(words)
        for _ in range(variants):
            copy = list(copy)
            for position in random.choice(50, random.randint(3, 5), replace=False):
                copy[position] = random.choice(WORDS)
            texts.append(" ".join(copy))
    texts += [" ".join(random.choice(WORDS, 50)) for _ in range(bases)]
    random.shuffle(texts)
    return texts


def planted_hashes(seed: int, bases: int = 30, variants: int = 3) -> list[int]:
    random = np.random.RandomState(seed)
    hashes = []
    for _ in range(bases):
        base = int(random.randint(0, 2**63, dtype=np.int64)) * 2 + int(random.randint(0, 2))
        hashes.append(base)
        for _ in range(variants):
            value = base
            for bit in random.choice(64, random.randint(1, 6), replace=False):
                value ^= 1 << int(bit)
            hashes.append(value)
    hashes += [int(random.randint(0, 2**63, dtype=np.int64)) for _ in range(bases)]
    random.shuffle(hashes)
    return hashes


def add(project, texts=(), hashes=()) -> list[Item]:
    rows = list(texts)
    for value in hashes:
        url = f"https://example.org/{project.id}/{value}.jpg"
        signed = value - 2**64 if value >= 2**63 else value
        rows.append({"data": {"image": url}, "media_url": url, "media_type": "image", "image_hash": signed})
    return make_items(project, *rows)


def partition(project) -> set[frozenset]:
    """The groups as sets of item contents (text, or image hash), comparable across projects."""
    content = {}
    for item_id, data, image_hash in Item.objects.filter(project=project).values_list(
        "id", "data", "image_hash"
    ):
        content[item_id] = image_hash if image_hash is not None else data["text"]
    groups: dict[int, set] = {}
    for item_id, group_id in Item.objects.filter(
        project=project, near_duplicate_group__isnull=False
    ).values_list("id", "near_duplicate_group_id"):
        groups.setdefault(group_id, set()).add(content[item_id])
    return {frozenset(members) for members in groups.values()}


def merged_groups(project) -> list[int]:
    return [
        group
        for changes in AuditEvent.objects.filter(
            project_id=project.id, action="near_duplicates.detected"
        ).values_list("changes", flat=True)
        for group in changes["merged_groups"]
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_detection_after_each_import_equals_one_detection_over_everything(people, seed, monkeypatch):
    texts, hashes = planted_texts(seed), planted_hashes(seed)
    incremental = people.project
    for batch in range(8):
        add(incremental, texts[batch::8], hashes[batch::8])
        near_duplicates_detect(project_id=incremental.id)
    whole = ProjectFactory(organisation=people.organisation, name="Everything at once")
    add(whole, texts, hashes)
    near_duplicates_detect(project_id=whole.id)

    expected = partition(whole)
    assert len(expected) >= 50  # the planted groups were found
    assert partition(incremental) == expected
    assert merged_groups(incremental)  # some later import linked two earlier groups
    assert NearDuplicateGroup.objects.filter(project=incremental).count() == len(expected)  # merged rows gone

    # The first run of `whole` was the in-memory full build; the maintenance rescan (in memory too)
    # of the incremental project finds the same groups again, and reads the items in small batches.
    monkeypatch.setattr(services, "BUILD_BATCH", 29)
    near_duplicates_detect(project_id=incremental.id, full=True)
    assert partition(incremental) == expected
    assert NearDuplicateGroup.objects.filter(project=incremental).count() == len(expected)

    # The incremental path over everything, in small chunks (each chunk is an import against the
    # ones before; merged groups) ends with exactly the groups and members of the in-memory build,
    # and writes the same index.
    monkeypatch.setattr(services, "IN_MEMORY_BUILD", False)
    monkeypatch.setattr(services, "DETECT_CHUNK", 37)
    chunked = ProjectFactory(organisation=people.organisation, name="In chunks")
    add(chunked, texts, hashes)
    near_duplicates_detect(project_id=chunked.id)
    assert partition(chunked) == expected
    assert merged_groups(chunked)
    assert index_content(chunked) == index_content(whole)
    near_duplicates_detect(project_id=whole.id, full=True)  # a chunked rescan
    assert partition(whole) == expected


def index_content(project) -> tuple[list, list]:
    """The project's index rows by item content (seen kinds; buckets), comparable across projects."""
    content = {}
    for item_id, data, image_hash in Item.objects.filter(project=project).values_list(
        "id", "data", "image_hash"
    ):
        content[item_id] = str(image_hash) if image_hash is not None else data["text"]
    seen = sorted(
        (content[item], kind)
        for item, kind in NearDuplicateIndexed.objects.filter(project=project).values_list("item_id", "kind")
    )
    buckets = sorted(
        (content[item], bucket)
        for item, bucket in NearDuplicateBucket.objects.filter(project=project).values_list(
            "item_id", "bucket"
        )
    )
    return seen, buckets


def test_each_run_processes_only_the_new_items(people, django_assert_max_num_queries):
    add(people.project, planted_texts(3), planted_hashes(3))
    near_duplicates_detect(project_id=people.project.id)
    indexed = NearDuplicateIndexed.objects.filter(project=people.project).count()
    assert indexed == Item.objects.filter(project=people.project).count()
    assert services._last_run_stats["indexed"] == indexed

    add(people.project, ["a brand new text about nothing in particular at all"], [12345])
    near_duplicates_detect(project_id=people.project.id)
    assert services._last_run_stats["indexed"] == 2

    near_duplicates_detect(project_id=people.project.id)
    assert services._last_run_stats["indexed"] == 0


def chain():
    """(a, x, b): x is within the text threshold of a and of b (0.87, 0.86), a and b are not (0.73)."""
    random = np.random.RandomState(7)
    a = list(random.choice(WORDS, 50))
    x = list(a)
    for step in range(3):
        x[5 + step * 7] = f"bridge{step}"
    b = list(x)
    for step in range(3):
        b[8 + step * 7] = f"far{step}"
    return " ".join(a), " ".join(x), " ".join(b)


def test_an_item_linking_two_open_groups_merges_them_into_the_older(people):
    a, x, b = chain()
    first = add(people.project, [a, a + " again"])
    near_duplicates_detect(project_id=people.project.id)
    second = add(people.project, [b, b + " again"])
    near_duplicates_detect(project_id=people.project.id)
    older, newer = NearDuplicateGroup.objects.filter(project=people.project).order_by("id")

    (bridge,) = add(people.project, [x])
    assert near_duplicates_detect(project_id=people.project.id) == 0

    assert list(NearDuplicateGroup.objects.filter(project=people.project).values_list("id", flat=True)) == [
        older.id
    ]
    members = {item.id for item in [*first, *second, bridge]}
    assert set(Item.objects.filter(near_duplicate_group=older).values_list("id", flat=True)) == members
    assert merged_groups(people.project) == [newer.id]


def test_a_resolved_group_is_never_changed_by_a_bridging_item(people):
    a, x, b = chain()
    first = add(people.project, [a, a + " again"])
    near_duplicates_detect(project_id=people.project.id)
    second = add(people.project, [b, b + " again"])
    near_duplicates_detect(project_id=people.project.id)
    older, newer = NearDuplicateGroup.objects.filter(project=people.project).order_by("id")
    near_duplicate_resolve(
        project=people.project, actor=people.manager, group_id=older.id, resolution="kept_all"
    )

    (bridge,) = add(people.project, [x])
    near_duplicates_detect(project_id=people.project.id)

    assert set(Item.objects.filter(near_duplicate_group=older).values_list("id", flat=True)) == {
        item.id for item in first
    }
    assert set(Item.objects.filter(near_duplicate_group=newer).values_list("id", flat=True)) == {
        item.id for item in [*second, bridge]
    }
    older.refresh_from_db()
    assert older.resolution == "kept_all"


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_rescan_keeps_resolved_groups_and_merges_open_ones(people, monkeypatch, in_memory):
    """The full rescan (in memory, or the incremental path in chunks) over groups made before: a
    resolved group keeps its members and decision, its look-alikes are not flagged; two open groups
    that a new bridging item links become the older one."""
    monkeypatch.setattr(services, "IN_MEMORY_BUILD", in_memory)
    monkeypatch.setattr(services, "DETECT_CHUNK", 2)
    a = chain()[0]
    resolved = add(people.project, [a, a + " again"])
    near_duplicates_detect(project_id=people.project.id)
    (decided,) = NearDuplicateGroup.objects.filter(project=people.project)
    near_duplicate_resolve(
        project=people.project, actor=people.manager, group_id=decided.id, resolution="kept_one",
        kept_item_id=resolved[0].id,
    )  # fmt: skip
    lookalike = add(people.project, [a + " once more"])
    c, y, d = (text.replace("w", "v") for text in chain())
    left = add(people.project, [c, c + " again"])
    near_duplicates_detect(project_id=people.project.id)
    right = add(people.project, [d, d + " again"])
    near_duplicates_detect(project_id=people.project.id)
    older, newer = NearDuplicateGroup.objects.filter(project=people.project, resolution="").order_by("id")
    (bridge,) = add(people.project, [y])  # not detected before: the rescan finds it

    near_duplicates_detect(project_id=people.project.id, full=True)

    groups = dict(NearDuplicateGroup.objects.filter(project=people.project).values_list("id", "resolution"))
    assert groups == {decided.id: "kept_one", older.id: ""}  # "": open
    assert set(Item.objects.filter(near_duplicate_group=decided).values_list("id", flat=True)) == {
        item.id for item in resolved
    }
    assert Item.objects.get(pk=lookalike[0].id).near_duplicate_group_id is None
    assert set(Item.objects.filter(near_duplicate_group=older).values_list("id", flat=True)) == {
        item.id for item in [*left, *right, bridge]
    }
    assert merged_groups(people.project)[-1:] == [newer.id]
    assert NearDuplicateIndexed.objects.filter(project=people.project).count() == 8


def test_the_first_run_on_a_project_without_an_index_builds_it_in_full(people):
    texts = planted_texts(4)
    add(people.project, texts)
    near_duplicates_detect(project_id=people.project.id)
    before = partition(people.project)
    # A project detected before the index existed: groups but no index rows.
    NearDuplicateBucket.objects.all().delete()
    NearDuplicateIndexed.objects.all().delete()

    assert near_duplicates_detect(project_id=people.project.id) == 0
    assert partition(people.project) == before
    assert NearDuplicateIndexed.objects.filter(project=people.project).count() == len(texts)


def test_deleting_an_item_deletes_its_index_entries_and_forget_removes_them(people):
    first, second, third = add(people.project, chain())
    near_duplicates_detect(project_id=people.project.id)
    assert NearDuplicateBucket.objects.filter(item=first).exists()

    first.delete()
    assert not NearDuplicateBucket.objects.filter(item_id=first.id).exists()
    assert not NearDuplicateIndexed.objects.filter(item_id=first.id).exists()

    near_duplicate_index_forget(item_ids=[second.id])
    assert not NearDuplicateBucket.objects.filter(item_id=second.id).exists()
    assert not NearDuplicateIndexed.objects.filter(item_id=second.id).exists()
    assert NearDuplicateIndexed.objects.filter(item_id=third.id).exists()


def test_imports_in_quick_succession_queue_one_run(people, django_capture_on_commit_callbacks):
    project_id = people.project.id
    with django_capture_on_commit_callbacks(execute=False):  # nothing runs: the job stays queued
        for _ in range(3):
            with transaction.atomic():
                add(people.project, ["some text " * 10])
                near_duplicates_detect_schedule(project_id=project_id)
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == 1
    assert NearDuplicateState.objects.get(project_id=project_id).pending

    # The job starts (pending cleared): the next import queues a new run.
    near_duplicates_detect_run(project_id=project_id)
    assert services._last_run_stats["indexed"] == 3
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        near_duplicates_detect_schedule(project_id=project_id)
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == 2


def test_an_import_committed_after_the_job_started_queues_another_run(
    people, django_capture_on_commit_callbacks
):
    project_id = people.project.id
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        near_duplicates_detect_schedule(project_id=project_id)
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == 1
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        add(people.project, ["late text " * 10])
        near_duplicates_detect_schedule(project_id=project_id)  # pending: nothing queued yet
        assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == 1
        # ...meanwhile the queued job starts and reads the items (this import not committed).
        NearDuplicateState.objects.filter(project_id=project_id).update(pending=False)
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == 2


def test_a_full_rescan_is_queued_with_its_flag_and_the_command_runs_it(people, capsys):
    add(people.project, chain())
    with transaction.atomic():
        near_duplicates_detect_schedule(project_id=people.project.id, full=True)
    message = OutboxMessage.objects.filter(task_name=DETECT_TASK).get()
    assert message.kwargs == {"project_id": people.project.id, "full": True}

    call_command("neardup_rescan", str(people.project.id))
    assert f"project {people.project.id}: 1 new groups" in capsys.readouterr().out
    assert NearDuplicateIndexed.objects.filter(project=people.project).count() == 3
