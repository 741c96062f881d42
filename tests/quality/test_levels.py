"""Quality that fits the schema: each control's agreement at its level of measurement (ordinal for
ratings and ordered choices, interval where the schema says so, nominal for choices), per-item
agreement (what escalation compares) at the same level, and free text reported but not counted.

Oracles: the `krippendorff` package and Krippendorff (2011)'s worked example."""

import krippendorff
import numpy as np
import pytest

from annotation.workflow.services import claim, labeling, submit
from projects import services as project_services
from projects.models import ProjectMembership
from quality import engine, services
from quality.metrics import agreement as ag
from quality.metrics.coding import from_matrix
from tests.factories import ProjectMembershipFactory, UserFactory, make_items
from tests.quality.test_agreement_metrics import KRIPPENDORFF_2011

# --- pure: per-item agreement at a level -------------------------------------------------------------


def test_per_item_ordinal_agreement_counts_neighbours_as_near_agreement():
    # One item rated 4 and 5 on a 1-5 scale; another rated 1 and 5; a third 3, 3, 4.
    matrix = np.array([[3, 4, -1], [0, 4, -1], [2, 2, 3]])
    coded = from_matrix(matrix, n_labels=5)

    nominal = ag.observed_agreement_per_item(coded)
    ordinal = ag.observed_agreement_per_item(coded, weights="ordinal")
    interval = ag.observed_agreement_per_item(coded, weights="linear", values=np.arange(1, 6))

    assert nominal.tolist() == pytest.approx([0.0, 0.0, 1 / 3])
    # Gwet's ordinal weights on 5 categories: neighbours 0.9, the two ends 0.
    assert ordinal.tolist() == pytest.approx([0.9, 0.0, (2 * 1 + 4 * 0.9) / 6])
    assert interval.tolist() == pytest.approx([0.75, 0.0, (2 * 1 + 4 * 0.75) / 6])


def test_per_item_weighted_agreement_equals_a_literal_pair_loop():
    rng = np.random.default_rng(3)
    matrix = rng.integers(-1, 5, size=(40, 4))
    coded = from_matrix(matrix, n_labels=5)
    w = ag.agreement_weights(5, "ordinal")

    got = ag.observed_agreement_per_item(coded, weights="ordinal")

    for u, row in enumerate(matrix):
        given = [v for v in row if v >= 0]
        pairs = [w[a, b] for i, a in enumerate(given) for j, b in enumerate(given) if i != j]
        if len(given) < 2:
            assert np.isnan(got[u])
        else:
            assert got[u] == pytest.approx(np.mean(pairs))


def test_engine_item_agreement_uses_the_level():
    coded = engine.code(
        engine.Table(
            np.array([1, 1]),
            np.zeros(2, np.int32),
            np.array([7, 8]),
            np.array([3, 4], np.int32),
            list("12345"),
        )
    )

    assert engine.item_agreement(coded, "nominal").tolist() == [0.0]
    assert engine.item_agreement(coded, "ordinal").tolist() == pytest.approx([0.9])


# --- wired: a rating control's report is ordinal, equal to the oracle ---------------------------------


def rating_schema(**rating_options) -> dict:
    return {
        "version": 1,
        "fields": [{"name": "text", "type": "text"}],
        "controls": [
            {"name": "score", "type": "rating", "field": "text", "min": 1, "max": 5, **rating_options},
            {"name": "why", "type": "text", "field": "text", "required": False},
        ],
    }


def krippendorff_project(people, **rating_options):
    """Four annotators rate 12 items with Krippendorff (2011)'s values (missing values are skips)."""
    project = people.project
    project_services.project_update(
        project=project,
        actor=people.manager,
        overlap=4,
        settings={
            "quality": {"escalate_below": None},
            "labeling": {"gold_rate": 0.0, "review_fraction": 0.0},
        },
    )
    project.refresh_from_db()
    project_services.schema_version_create(
        project=project, actor=people.manager, definition=rating_schema(**rating_options)
    )
    annotators = [people.annotator] + [
        ProjectMembershipFactory(
            project=project, user=UserFactory(username=f"coder{i}"), role=ProjectMembership.Role.ANNOTATOR
        ).user
        for i in range(3)
    ]
    items = make_items(project, *[f"unit {u}" for u in range(12)])
    position = {item.id: u for u, item in enumerate(items)}
    for a, user in enumerate(annotators):
        while True:
            outcome = claim.next_item_for_annotator(project=project, annotator=user)
            if outcome.assignment is None:
                break
            value = KRIPPENDORFF_2011[a][position[outcome.assignment.item_id]]
            if value is None:
                labeling.assignment_skip(
                    project=project, annotator=user, assignment_id=outcome.assignment.id, reason="no value"
                )
                continue
            submit.annotation_submit(
                project=project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result={"score": value, "why": f"coder {a} thinks {value}"},
            )
    return project


def oracle(level: str) -> float:
    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011], dtype=float)
    return krippendorff.alpha(reliability_data=data, level_of_measurement=level, value_domain=[1, 2, 3, 4, 5])


@pytest.mark.django_db
def test_a_rating_is_ordinal_by_default_krippendorff_2011_gives_0_815(people):
    project = krippendorff_project(people)

    run = services.quality_compute(project_id=project.id, full=True)

    score = next(c for c in run.report["controls"] if c["name"] == "score")
    assert score["level"] == "ordinal" and score["counts"] is True
    assert score["agreement"]["alpha"] == pytest.approx(oracle("ordinal"), abs=1e-6)
    assert round(score["agreement"]["alpha"], 3) == 0.815
    why = next(c for c in run.report["controls"] if c["name"] == "why")
    assert why["counts"] is False  # free text: reported, not counted
    assert why["agreement"]["mean_item_agreement"] is not None


@pytest.mark.django_db
def test_a_rating_declared_interval_gives_0_849(people):
    project = krippendorff_project(people, level="interval")

    run = services.quality_compute(project_id=project.id, full=True)

    score = next(c for c in run.report["controls"] if c["name"] == "score")
    assert score["level"] == "interval"
    assert score["agreement"]["alpha"] == pytest.approx(oracle("interval"), abs=1e-6)
    assert round(score["agreement"]["alpha"], 3) == 0.849


@pytest.mark.django_db
def test_stored_per_item_agreement_of_a_rating_is_ordinal(people):
    from quality.models import ConsensusResult

    project = krippendorff_project(people)
    services.quality_compute(project_id=project.id, full=True)

    # Unit 6 (index 5) was rated 1, 2, 3, 4: ordinal weights 0.9 (neighbours), 0.7, 0.4.
    rows = dict(
        ConsensusResult.objects.filter(project=project, control="score")
        .order_by("item_id")
        .values_list("item_id", "agreement")
    )
    unit6 = list(rows.values())[5]
    w = ag.agreement_weights(5, "ordinal")
    given = [0, 1, 2, 3]
    expected = np.mean([w[a, b] for a in given for b in given if a != b])
    assert unit6 == pytest.approx(expected, abs=1e-6)


# --- gold: per control; free text does not count unless the manager says so -----------------------------


def gold_project(people, *, quality=None):
    project = people.project
    project_services.project_update(
        project=project,
        actor=people.manager,
        settings={
            "quality": {"escalate_below": None, "min_gold_answers": 1, **(quality or {})},
            "labeling": {"gold_rate": 1.0},
        },
    )
    project.refresh_from_db()
    project_services.schema_version_create(project=project, actor=people.manager, definition=rating_schema())
    items = make_items(project, *[f"gold {u}" for u in range(3)])
    for item in items:
        services.gold_set(
            project=project,
            actor=people.manager,
            item_id=item.id,
            result={"score": 4, "why": "The second answer cites its sources and is correct."},
        )
    user = people.annotator
    for _ in items:  # right on the score every time, the rationale in their own words
        outcome = claim.next_item_for_annotator(project=project, annotator=user)
        submit.annotation_submit(
            project=project,
            annotator=user,
            assignment_id=outcome.assignment.id,
            result={"score": 4, "why": "B"},
        )
    return project


@pytest.mark.django_db
def test_gold_accuracy_is_per_control_and_free_text_does_not_pause(people):
    project = gold_project(people)

    run = services.quality_compute(project_id=project.id, full=True)

    row = next(a for a in run.report["annotators"] if a["id"] == people.annotator.id)
    assert row["gold_accuracy"] == 1.0 and row["gold_n"] == 3
    assert row["gold_by_control"]["score"] == 1.0 and row["gold_by_control"]["why"] < 0.1
    by_control = {r["control"]: r for r in run.report["gold"]["by_control"]}
    assert by_control["score"]["counts"] is True and by_control["score"]["accuracy"] == 1.0
    assert by_control["why"]["counts"] is False and by_control["why"]["answers"] == 3
    assert run.report["paused"] == []
    assert ProjectMembership.objects.get(project=project, user=people.annotator).paused_at is None


@pytest.mark.django_db
def test_a_manager_can_make_free_text_count(people):
    project = gold_project(people, quality={"controls": {"why": {"counts": True}}})

    run = services.quality_compute(project_id=project.id, full=True)

    row = next(a for a in run.report["annotators"] if a["id"] == people.annotator.id)
    assert row["gold_accuracy"] < 0.7
    assert run.report["paused"] == [people.annotator.id]


# --- gold items anchor Dawid-Skene -----------------------------------------------------------------------


@pytest.mark.django_db
def test_gold_items_anchor_dawid_skene(people):
    """Two annotators who disagree on every item: only the gold items can say who is right. The
    second matches every reference, the first answers the opposite; Dawid-Skene with gold anchors
    learns that and follows the second on the work items (without anchors it is a coin toss)."""
    from quality.models import ConsensusResult
    from tests.annotation.workflow_kit import make_lab

    lab = make_lab(people, overlap=2, annotators=2, items=10, gold_rate=1.0)
    project_services.project_update(
        project=lab.project,
        actor=people.manager,
        settings={**lab.project.settings, "quality": {"escalate_below": None, "auto_pause": False}},
    )
    lab.project.refresh_from_db()
    references = {}
    for n, item in enumerate(lab.items[:6]):
        references[item.id] = "positive" if n % 2 else "negative"
        services.gold_set(
            project=lab.project,
            actor=people.manager,
            item_id=item.id,
            result={"sentiment": references[item.id]},
        )
    flip = {"positive": "negative", "negative": "positive"}
    for index, user in enumerate(lab.annotators):
        while True:
            outcome = claim.next_item_for_annotator(project=lab.project, annotator=user)
            if outcome.assignment is None:
                break
            item_id = outcome.assignment.item_id
            if item_id in references:
                label = references[item_id] if index == 1 else flip[references[item_id]]
            else:
                label = "negative" if index == 1 else "positive"
            submit.annotation_submit(
                project=lab.project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result={"sentiment": label},
            )

    run = services.quality_compute(project_id=lab.project.id, full=True)

    assert run.report["controls"][0]["method"] == "dawid_skene"
    work = [item.id for item in lab.items[6:]]
    answers = dict(
        ConsensusResult.objects.filter(item_id__in=work, control="sentiment").values_list("item_id", "answer")
    )
    assert answers == {item: "negative" for item in work}
    assert not ConsensusResult.objects.filter(item_id__in=list(references)).exists()  # gold: scored only


def test_a_few_gold_items_of_one_label_do_not_erase_the_other_labels():
    # Three annotators agree on every item (labels 0, 1, 2 in turn); one gold item, of label 1. The
    # anchor must not give labels 0 and 2 a prior of zero (a start from the gold items alone would).
    items = np.repeat(np.arange(9), 3)
    table = engine.Table(
        items,
        np.zeros(len(items), np.int32),
        np.tile([1, 2, 3], 9),
        (items % 3).astype(np.int32),
        ["a", "b", "c"],
    )
    coded = engine.code(table)
    gold = np.full(coded.coded.n_items, -1)
    gold[1] = 1

    result = engine.consensus(coded, "dawid_skene", gold=gold)

    assert result.label.tolist() == [0, 1, 2] * 3
