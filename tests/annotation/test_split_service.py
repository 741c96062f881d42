"""annotation.splits.services.split_assign: the items' splits, the recorded operation, its rules."""

from collections import Counter, defaultdict

import pytest
from django.db import connection
from django.utils import timezone

import core.realtime
from annotation.models import Item, MetadataField, SplitOperation
from annotation.splits.services import split_assign
from core.exceptions import DomainError
from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

THREE_WAY = {"train": 0.8, "validation": 0.1, "test": 0.1}


def make_items(project, metas: list[dict], split: str = "") -> list[Item]:
    return factories.make_items(project, *({"meta": meta} for meta in metas), split=split)


def fields(project, *names: str) -> None:
    MetadataField.objects.bulk_create(
        [MetadataField(project=project, name=name, type=MetadataField.Type.CATEGORY) for name in names]
    )


def splits_of(project) -> dict[int, str]:
    return dict(Item.objects.filter(project=project).values_list("id", "split"))


def audit_rows(**filters) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list(
            "action", "actor_label", "organisation_id", "project_id", "target_type", "target_id", "changes"
        )
    )


def test_assigns_every_item_by_exact_counts_and_records_the_operation(people):
    make_items(people.project, [{"language": "en"}] * 10)
    outside = make_items(people.other_project, [{}])[0]

    operation = split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=5)

    assert Counter(splits_of(people.project).values()) == {"train": 8, "validation": 1, "test": 1}
    assert Item.objects.get(pk=outside.pk).split == ""
    operation.refresh_from_db()
    assert (
        operation.project_id,
        operation.created_by,
        operation.ratios,
        operation.stratify_by,
        operation.group_by,
        operation.seed,
        operation.only_unassigned,
        operation.counts,
    ) == (
        people.project.id,
        people.manager,
        THREE_WAY,
        "",
        "",
        5,
        False,
        {"train": 8, "validation": 1, "test": 1},
    )
    assert audit_rows(action="split.assigned") == [
        (
            "split.assigned",
            "manager",
            people.organisation.id,
            people.project.id,
            "annotation.splitoperation",
            str(operation.id),
            {
                "ratios": THREE_WAY,
                "seed": 5,
                "stratify_by": "",
                "group_by": "",
                "only_unassigned": False,
                "counts": {"train": 8, "validation": 1, "test": 1},
            },
        )
    ]


def test_announces_the_operation_after_commit(people, monkeypatch, django_capture_on_commit_callbacks):
    make_items(people.project, [{}] * 4)
    sent = []
    monkeypatch.setattr(core.realtime, "broadcast", lambda *args: sent.append(args))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        operation = split_assign(
            project=people.project, actor=people.manager, ratios={"a": 0.5, "b": 0.5}, seed=1
        )
    assert sent == []
    for callback in callbacks:
        callback()

    assert sent == [
        (
            f"project.{people.project.id}",
            "split.assigned",
            {
                "project_id": people.project.id,
                "actor": "manager",
                "operation_id": operation.id,
                "counts": {"a": 2, "b": 2},
            },
        )
    ]


def test_the_recorded_seed_reproduces_a_split_made_without_one(people):
    make_items(people.project, [{"language": "en" if n % 3 else "de"} for n in range(60)])
    fields(people.project, "language")
    first = split_assign(
        project=people.project, actor=people.manager, ratios=THREE_WAY, stratify_by="language"
    )
    assigned = splits_of(people.project)
    Item.objects.filter(project=people.project).update(split="")

    again = split_assign(
        project=people.project,
        actor=people.manager,
        ratios=THREE_WAY,
        stratify_by="language",
        seed=first.seed,
    )

    assert 0 <= first.seed < 2**31
    assert splits_of(people.project) == assigned
    assert again.counts == first.counts


def test_another_seed_gives_another_split(people):
    make_items(people.project, [{}] * 50)
    split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=1)
    first = splits_of(people.project)

    split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=2)

    assert splits_of(people.project) != first
    assert Counter(splits_of(people.project).values()) == Counter(first.values())


def test_stratified_split_keeps_the_ratios_in_every_language(people):
    items = make_items(
        people.project,
        [{"language": "en"}] * 20 + [{"language": "de"}] * 10 + [{}] * 3 + [{"language": None}] * 1,
    )
    language = {item.id: item.meta.get("language") or "missing" for item in items}
    fields(people.project, "language")

    operation = split_assign(
        project=people.project,
        actor=people.manager,
        ratios={"train": 0.5, "test": 0.5},
        seed=3,
        stratify_by="language",
    )

    per_language = Counter((language[pk], split) for pk, split in splits_of(people.project).items())
    assert per_language == {
        ("en", "train"): 10,
        ("en", "test"): 10,
        ("de", "train"): 5,
        ("de", "test"): 5,
        ("missing", "train"): 2,  # a missing value (absent key or JSON null) is a stratum of its own
        ("missing", "test"): 2,
    }
    assert operation.stratify_by == "language"
    assert operation.counts == {"train": 17, "test": 17}


def test_grouped_split_never_puts_one_group_in_two_splits(people):
    items = make_items(people.project, [{"doc": f"doc-{n // 4}", "language": "en"} for n in range(200)])
    group = {item.id: item.meta["doc"] for item in items}
    fields(people.project, "doc", "language")

    operation = split_assign(
        project=people.project,
        actor=people.manager,
        ratios=THREE_WAY,
        seed=8,
        group_by="doc",
        stratify_by="language",
    )

    splits_per_group = defaultdict(set)
    for pk, split in splits_of(people.project).items():
        splits_per_group[group[pk]].add(split)
    assert {len(found) for found in splits_per_group.values()} == {1}
    assert operation.counts == dict(Counter(splits_of(people.project).values()))
    assert sum(operation.counts.values()) == 200
    assert all(abs(operation.counts[name] - 200 * ratio) <= 4 for name, ratio in THREE_WAY.items())


def test_only_unassigned_leaves_assigned_items_alone(people):
    kept = make_items(people.project, [{}] * 5, split="train")
    make_items(people.project, [{}] * 10)

    operation = split_assign(
        project=people.project, actor=people.manager, ratios=THREE_WAY, seed=4, only_unassigned=True
    )

    assert operation.counts == {"train": 8, "validation": 1, "test": 1}
    assert Counter(splits_of(people.project).values()) == {"train": 13, "validation": 1, "test": 1}
    assert {item.id: "train" for item in kept}.items() <= splits_of(people.project).items()


def test_rerun_with_the_same_seed_changes_no_item_but_is_recorded(people):
    make_items(people.project, [{}] * 20)
    split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=6)
    before = splits_of(people.project)

    split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=6)

    assert splits_of(people.project) == before
    assert SplitOperation.objects.filter(project=people.project).count() == 2


def test_two_splits_in_one_transaction_both_apply(people):
    make_items(people.project, [{}] * 10)

    split_assign(project=people.project, actor=people.manager, ratios={"a": 1.0}, seed=1)
    split_assign(project=people.project, actor=people.manager, ratios={"b": 0.5, "c": 0.5}, seed=1)

    assert Counter(splits_of(people.project).values()) == {"b": 5, "c": 5}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"ratios": {"train": 0.8, "test": 0.1}}, "invalid_ratios"),
        ({"ratios": {"train": 1.2, "test": -0.2}}, "invalid_ratios"),
        ({"ratios": {"train": 1.0, "test": 0.0}}, "invalid_ratios"),
        ({"ratios": {"train": float("nan")}}, "invalid_ratios"),
        ({"ratios": {"train": True}}, "invalid_ratios"),
        ({"ratios": {}}, "invalid_ratios"),
        ({"ratios": {f"fold-{n}": 1 / 21 for n in range(21)}}, "invalid_ratios"),
        ({"ratios": {"my split": 1.0}}, "invalid_split_name"),
        ({"ratios": {"": 1.0}}, "invalid_split_name"),
        ({"ratios": {"x" * 51: 1.0}}, "invalid_split_name"),
        ({"ratios": {"naïve": 1.0}}, "invalid_split_name"),
        ({"ratios": THREE_WAY, "stratify_by": "colour"}, "unknown_field"),
        ({"ratios": THREE_WAY, "group_by": "colour"}, "unknown_field"),
        ({"ratios": THREE_WAY, "seed": -1}, "invalid_seed"),
        ({"ratios": THREE_WAY, "seed": 2**31}, "invalid_seed"),
    ],
)
def test_refuses_bad_input_and_changes_nothing(people, kwargs, code):
    make_items(people.project, [{"colour": "red", "language": "en"}] * 5)  # "colour" is in meta, not a field
    fields(people.project, "language")
    before = splits_of(people.project)

    with pytest.raises(DomainError) as error:
        split_assign(project=people.project, actor=people.manager, **kwargs)

    assert (error.value.code, error.value.status_code) == (code, 400)
    assert splits_of(people.project) == before
    assert SplitOperation.objects.exists() is False
    assert AuditEvent.objects.filter(action="split.assigned").exists() is False


def test_the_largest_allowed_split_count_and_exact_sum_tolerance_are_accepted(people):
    make_items(people.project, [{}] * 40)
    ratios = {f"fold-{n}": 1 / 20 for n in range(20)}  # adds up to 1 within float rounding

    operation = split_assign(project=people.project, actor=people.manager, ratios=ratios, seed=1)

    assert operation.counts == {f"fold-{n}": 2 for n in range(20)}


@pytest.mark.parametrize("only_unassigned", [False, True])
def test_nothing_to_split_is_refused(people, only_unassigned):
    make_items(people.other_project, [{}] * 3)
    if only_unassigned:
        make_items(people.project, [{}] * 3, split="train")
    before = splits_of(people.project)

    with pytest.raises(DomainError) as error:
        split_assign(
            project=people.project, actor=people.manager, ratios=THREE_WAY, only_unassigned=only_unassigned
        )

    assert error.value.code == "no_items"
    assert splits_of(people.project) == before
    assert SplitOperation.objects.exists() is False


def test_archived_project_is_refused_and_nothing_changes(people):
    make_items(people.project, [{}] * 5)
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    with pytest.raises(DomainError) as error:
        split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=1)

    assert (error.value.code, error.value.status_code) == ("project_archived", 409)
    assert set(splits_of(people.project).values()) == {""}
    assert SplitOperation.objects.exists() is False
    assert AuditEvent.objects.filter(action="split.assigned").exists() is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path runs on PostgreSQL only")
def test_copy_path_leaves_no_temporary_table(people):
    make_items(people.project, [{}] * 3)

    split_assign(project=people.project, actor=people.manager, ratios=THREE_WAY, seed=1)

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.tessera_split_assignment')")
        assert cursor.fetchone() == (None,)
