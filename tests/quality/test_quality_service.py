"""Quality wired to the database: recompute (full and incremental), consensus rows, gold, pausing,
escalation, model evaluation, scheduling through the outbox. The maths itself is tested against
oracles in the other modules here; these tests check that the right data reaches it and that the
results are stored and acted on."""

import krippendorff
import numpy as np
import pytest

from annotation.models import Item
from annotation.workflow.services import claim, submit
from annotation.workflow.services.queue import predictions_import
from core.exceptions import DomainError
from core.models import OutboxMessage
from projects import services as project_services
from projects.models import ProjectMembership
from quality import services
from quality.models import ConsensusResult, GoldStandard, QualityRun, QualityState
from quality.services import inputs, recompute, snapshots
from tests.annotation.workflow_kit import make_lab
from tests.factories import ProjectMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LABELS = ["positive", "negative", "neutral"]


def label_everything(lab, answer):
    """Each annotator takes items until the queue is empty, answering answer(annotator index, item id)."""
    for index, user in enumerate(lab.annotators):
        while True:
            outcome = claim.next_item_for_annotator(project=lab.project, annotator=user)
            if outcome.assignment is None:
                break
            item_id = outcome.assignment.item_id
            submit.annotation_submit(
                project=lab.project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result={"sentiment": answer(index, item_id)},
                active_ms=1000 + index,
            )


def pattern(index, item_id):
    """Annotators 0 and 1 agree; annotator 2 disagrees on every third item."""
    truth = LABELS[item_id % 3]
    if index == 2 and item_id % 3 == 0:
        return LABELS[(item_id + 1) % 3]
    return truth


@pytest.fixture
def lab(people):
    lab = make_lab(people, overlap=3, annotators=3, items=12)
    settings_ = dict(lab.project.settings)
    settings_["quality"] = {"escalate_below": None}
    project_services.project_update(project=lab.project, actor=people.manager, settings=settings_)
    lab.project.refresh_from_db()
    return lab


def _reliability(lab):
    items = sorted(i.id for i in lab.items)
    matrix = np.full((len(lab.annotators), len(items)), np.nan)
    for a, _user in enumerate(lab.annotators):
        for u, item_id in enumerate(items):
            matrix[a, u] = LABELS.index(pattern(a, item_id))
    return matrix


def test_full_recompute_reports_agreement_equal_to_the_oracle_and_stores_consensus(lab):
    label_everything(lab, pattern)

    run = services.quality_compute(project_id=lab.project.id, full=True)

    assert run.kind == QualityRun.Kind.FULL and run.status == QualityRun.Status.DONE
    assert run.annotations == 36 and run.items == 12
    control = run.report["controls"][0]
    assert control["name"] == "sentiment" and control["method"] == "dawid_skene"
    expected = krippendorff.alpha(reliability_data=_reliability(lab), level_of_measurement="nominal")
    assert control["agreement"]["alpha"] == pytest.approx(expected, abs=1e-6)
    assert control["agreement"]["alpha_ci"] is not None
    # consensus: the majority truth on every item, stamped with method and version
    rows = {r.item_id: r for r in ConsensusResult.objects.filter(project=lab.project, control="sentiment")}
    assert len(rows) == 12
    for item in lab.items:
        row = rows[item.id]
        assert row.answer == LABELS[item.id % 3]
        assert (row.method, row.method_version, row.run_id) == ("dawid_skene", "1", run.id)
        assert row.annotations == 3
        assert row.agreement == pytest.approx(1.0 if item.id % 3 else 1 / 3)
    # the confusion matrix counts every answer against its item's consensus
    matrix = np.array(control["confusion"]["matrix"])
    assert matrix.sum() == 36 and np.trace(matrix) == 36 - sum(1 for i in lab.items if i.id % 3 == 0)
    annotators = {row["username"]: row for row in run.report["annotators"]}
    assert annotators[lab.annotators[0].username]["annotations"] == 12
    assert annotators[lab.annotators[0].username]["median_active_ms"] == 1000


def test_incremental_run_reads_only_changes_and_matches_a_full_recompute(lab):
    label_everything(lab, pattern)
    services.quality_compute(project_id=lab.project.id, full=True)
    fix_target = next(i for i in lab.items if i.id % 3 == 0)
    # annotator 2 corrects nothing, but a new item arrives and everyone labels it differently
    from tests.factories import make_items

    (new_item,) = make_items(lab.project, "one more headline")
    label_everything(lab, lambda index, item_id: LABELS[index])

    incremental = services.quality_compute(project_id=lab.project.id)
    assert incremental.kind == QualityRun.Kind.INCREMENTAL
    assert incremental.annotations == 39
    full = services.quality_compute(project_id=lab.project.id, full=True)
    assert incremental.report["controls"][0]["agreement"]["alpha"] == pytest.approx(
        full.report["controls"][0]["agreement"]["alpha"]
    )
    assert incremental.report["controls"][0]["labels"] == full.report["controls"][0]["labels"]
    row = ConsensusResult.objects.get(item=new_item, control="sentiment")
    assert row.annotations == 3 and row.agreement == 0.0
    assert (
        ConsensusResult.objects.get(item=fix_target, control="sentiment").answer == LABELS[fix_target.id % 3]
    )


def test_schedule_enqueues_one_job_per_burst_through_the_outbox(lab, django_capture_on_commit_callbacks):
    before = OutboxMessage.objects.filter(task_name="quality.tasks.quality_recompute_task").count()
    with django_capture_on_commit_callbacks(execute=False):
        assert services.quality_schedule(project_id=lab.project.id) is True
        assert services.quality_schedule(project_id=lab.project.id) is False
        assert services.quality_schedule(project_id=lab.project.id) is False
    assert (
        OutboxMessage.objects.filter(task_name="quality.tasks.quality_recompute_task").count() == before + 1
    )
    assert QualityState.objects.get(project=lab.project).pending is True


def test_a_submission_schedules_a_recompute_that_runs_after_commit(lab, django_capture_on_commit_callbacks):
    user = lab.annotators[0]
    with django_capture_on_commit_callbacks(execute=True):
        outcome = claim.next_item_for_annotator(project=lab.project, annotator=user)
        submit.annotation_submit(
            project=lab.project,
            annotator=user,
            assignment_id=outcome.assignment.id,
            result={"sentiment": "neutral"},
        )
    run = QualityRun.objects.filter(project=lab.project).first()
    assert run is not None and run.annotations == 1
    assert QualityState.objects.get(project=lab.project).pending is False


def test_gold_reference_is_validated_and_scores_annotators_who_are_paused_below_the_threshold(lab):
    gold_item = lab.items[0]
    with pytest.raises(DomainError) as error:
        services.gold_set(
            project=lab.project, actor=lab.people.manager, item_id=gold_item.id, result={"sentiment": "happy"}
        )
    assert error.value.code == "invalid_annotation"
    assert not GoldStandard.objects.exists() and not Item.objects.get(pk=gold_item.id).is_gold

    settings_ = dict(lab.project.settings)
    settings_["quality"] = {"escalate_below": None, "min_gold_answers": 1, "min_gold_accuracy": 0.7}
    project_services.project_update(project=lab.project, actor=lab.people.manager, settings=settings_)
    lab.project.refresh_from_db()
    truth = LABELS[gold_item.id % 3]
    # annotators label first (gold items are served only at the gold rate), then the item becomes gold
    label_everything(
        lab,
        lambda index, item_id: (
            truth
            if index < 2 or item_id != gold_item.id
            else "negative"
            if truth != "negative"
            else "positive"
        ),
    )
    services.gold_set(
        project=lab.project, actor=lab.people.manager, item_id=gold_item.id, result={"sentiment": truth}
    )
    assert Item.objects.get(pk=gold_item.id).is_gold

    run = services.quality_compute(project_id=lab.project.id, full=True)

    people = {row["username"]: row for row in run.report["annotators"]}
    good, bad = lab.annotators[0], lab.annotators[2]
    assert people[good.username]["gold_accuracy"] == 1.0 and people[good.username]["gold_n"] == 1
    assert people[bad.username]["gold_by_control"] == {"sentiment": 0.0}
    assert people[bad.username]["gold_accuracy"] == 0.0 and people[bad.username]["low_quality"] is True
    assert run.report["paused"] == [bad.id]
    membership = ProjectMembership.objects.get(project=lab.project, user=bad)
    assert membership.paused_at is not None and "gold" in membership.paused_reason
    assert membership.gold_boost == 2.0  # new (fewer than 10 gold answers) and weak: more gold
    # the gold item never enters agreement or consensus
    assert not ConsensusResult.objects.filter(item=gold_item).exists()
    # a manager re-qualifies: earlier gold answers no longer count toward pausing
    project_services.project_member_resume(
        project=lab.project, actor=lab.people.manager, membership_id=membership.id
    )
    run = services.quality_compute(project_id=lab.project.id, full=True)
    assert run.report["paused"] == []
    assert ProjectMembership.objects.get(pk=membership.id).paused_at is None


def test_gold_items_most_annotators_fail_are_flagged(lab):
    settings_ = dict(lab.project.settings)
    settings_["quality"] = {"escalate_below": None, "auto_pause": False}
    project_services.project_update(project=lab.project, actor=lab.people.manager, settings=settings_)
    lab.project.refresh_from_db()
    label_everything(lab, pattern)
    item = lab.items[1]
    given = {pattern(index, item.id) for index in range(3)}
    wrong = next(label for label in LABELS if label not in given)  # an answer nobody gave
    services.gold_set(
        project=lab.project, actor=lab.people.manager, item_id=item.id, result={"sentiment": wrong}
    )

    run = services.quality_compute(project_id=lab.project.id, full=True)

    flagged = run.report["gold"]["flagged"]
    assert [(f["item_id"], f["control"], f["reference"], f["answers"]) for f in flagged] == [
        (item.id, "sentiment", wrong, 3)
    ]
    assert flagged[0]["failure_rate"] == 1.0
    assert run.report["paused"] == []  # auto_pause off


def test_promote_consensus_to_gold_needs_a_consensus(lab):
    item = lab.items[2]
    with pytest.raises(DomainError) as error:
        services.gold_promote(project=lab.project, actor=lab.people.manager, item_id=item.id)
    assert error.value.code == "no_consensus"
    label_everything(lab, pattern)
    services.quality_compute(project_id=lab.project.id, full=True)
    gold = services.gold_promote(project=lab.project, actor=lab.people.manager, item_id=item.id)
    assert gold.result == {"sentiment": LABELS[item.id % 3]} and gold.source == "consensus"


def test_low_agreement_items_get_one_more_annotator_up_to_the_limit(people):
    lab = make_lab(people, overlap=2, annotators=2, items=4, review_fraction=0.0)
    label_everything(lab, lambda index, item_id: LABELS[index] if item_id == lab.items[0].id else "positive")
    # A third annotator who has not seen the item: escalation can finish (without one it goes to
    # review instead: tests/quality/test_escalation.py).
    ProjectMembershipFactory(
        project=lab.project, user=UserFactory(username="spare"), role=ProjectMembership.Role.ANNOTATOR
    )
    run = services.quality_compute(project_id=lab.project.id, full=True)
    assert run.report["escalated"] == 1
    assert run.report["escalation"] == {
        "escalated": 1,
        "flagged_for_review": 0,
        "waiting": 1,
        "items_escalated": 1,
    }
    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target, item.extra) == ("open", 3, 1)
    assert all(Item.objects.get(pk=i.id).target == 2 for i in lab.items[1:])
    # nobody new labels it: a second run does not escalate it again (it is open, not finished)
    assert services.quality_compute(project_id=lab.project.id, full=True).report["escalated"] == 0


def test_model_predictions_are_scored_against_consensus_and_gold(lab):
    label_everything(lab, pattern)
    records = [
        {
            "item": item.id,
            "model": "bert",
            "model_version": "v1",
            "score": 0.9,
            "result": {"sentiment": LABELS[item.id % 3] if n % 4 else "neutral"},
        }
        for n, item in enumerate(lab.items)
    ]
    predictions_import(project=lab.project, actor=lab.people.manager, records=records)

    run = services.quality_compute(project_id=lab.project.id, full=True)

    (row,) = [m for m in run.report["models"] if m["against"] == "consensus"]
    expected = np.mean(
        [(LABELS[i.id % 3] if n % 4 else "neutral") == LABELS[i.id % 3] for n, i in enumerate(lab.items)]
    )
    assert (row["model"], row["model_version"], row["control"], row["n"]) == ("bert", "v1", "sentiment", 12)
    assert row["accuracy"] == pytest.approx(expected)
    assert {label["label"] for label in row["labels"]} == set(LABELS)
    assert any(s["key"] == "source" for s in row["slices"])


def test_bad_quality_settings_are_refused(lab):
    settings_ = dict(lab.project.settings)
    for bad, code in (
        ({"methods": {"sentiment": "astrology"}}, "invalid_settings"),
        ({"min_gold_accuracy": 2}, "invalid_settings"),
        (
            {"nonsense": 1},
            "unknown_setting",
        ),  # unknown keys are named (tests/projects/test_project_settings.py)
        ([], "invalid_settings"),
    ):
        settings_["quality"] = bad
        with pytest.raises(DomainError) as error:
            project_services.project_update(project=lab.project, actor=lab.people.manager, settings=settings_)
        assert error.value.code == code


def test_method_choice_is_honoured_and_stamped(lab):
    settings_ = dict(lab.project.settings)
    settings_["quality"] = {"escalate_below": None, "methods": {"sentiment": "majority"}}
    project_services.project_update(project=lab.project, actor=lab.people.manager, settings=settings_)
    lab.project.refresh_from_db()
    label_everything(lab, pattern)
    run = services.quality_compute(project_id=lab.project.id, full=True)
    assert run.methods == {"sentiment": {"method": "majority", "version": "1"}}
    assert set(ConsensusResult.objects.values_list("method", flat=True)) == {"majority"}


def test_text_read_path_gives_the_same_report_as_the_coded_path(lab, monkeypatch):
    """PostgreSQL reads choice answers as codes (distinct texts + binary COPY); controls with very many
    distinct answers, and SQLite, read JSON text. Both must give the same report."""
    label_everything(lab, pattern)
    coded = services.quality_compute(project_id=lab.project.id, full=True).report
    monkeypatch.setattr(inputs, "MAX_DISTINCT_ANSWERS", 0)
    text = services.quality_compute(project_id=lab.project.id, full=True).report
    for key in ("agreement", "labels", "confusion", "pairs"):
        assert text["controls"][0][key] == coded["controls"][0][key]
    assert text["annotators"] == coded["annotators"]


MIXED_SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "topics",
            "type": "multiple_choice",
            "field": "text",
            "labels": [{"value": "price"}, {"value": "battery"}, {"value": "screen"}],
        },
        {"name": "entities", "type": "spans", "field": "text", "labels": [{"value": "PRODUCT"}]},
    ],
}


def test_multi_label_and_span_controls_get_agreement_and_consensus(people):
    lab = make_lab(people, overlap=3, annotators=3, items=4)
    project_services.schema_version_create(project=lab.project, actor=people.manager, definition=MIXED_SCHEMA)
    for item in lab.items:
        Item.objects.filter(pk=item.id).update(data={"text": "The phone battery died."})
    answers = {
        0: {"topics": ["battery"], "entities": [{"id": "a", "start": 4, "end": 9, "label": "PRODUCT"}]},
        1: {
            "topics": ["battery", "price"],
            "entities": [{"id": "a", "start": 4, "end": 9, "label": "PRODUCT"}],
        },
        2: {"topics": ["battery"], "entities": []},
    }
    for index, user in enumerate(lab.annotators):
        while (outcome := claim.next_item_for_annotator(project=lab.project, annotator=user)).assignment:
            submit.annotation_submit(
                project=lab.project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result=answers[index],
            )

    run = services.quality_compute(project_id=lab.project.id, full=True)

    controls = {c["name"]: c for c in run.report["controls"]}
    assert controls["topics"]["method"] == "majority" and controls["topics"]["agreement"]["annotations"] > 0
    assert controls["entities"]["agreement"]["items"] == 4
    for item in lab.items:
        topics = ConsensusResult.objects.get(item=item, control="topics")
        assert topics.answer == ["battery"]  # "price" was chosen by one annotator of three
        spans = ConsensusResult.objects.get(item=item, control="entities")
        assert [(s["start"], s["end"], s["label"]) for s in spans.answer] == [(4, 9, "PRODUCT")]
    # incremental runs keep working with units and structured controls
    incremental = services.quality_compute(project_id=lab.project.id)
    assert incremental.kind == QualityRun.Kind.INCREMENTAL
    assert {c["name"] for c in incremental.report["controls"]} == {"topics", "entities"}


def test_a_chain_of_incremental_runs_reaches_the_same_consensus_as_a_full_run(people):
    """One recompute per submission, from the first answer on: Dawid-Skene warm-started from runs that
    saw a handful of answers must not settle on a permuted labelling (it only warm-starts within 10%
    growth of a cold, majority-vote start)."""
    lab = make_lab(people, overlap=4, annotators=4, items=7)
    settings_ = dict(lab.project.settings)
    settings_["quality"] = {"escalate_below": None}
    project_services.project_update(project=lab.project, actor=people.manager, settings=settings_)
    lab.project.refresh_from_db()
    truth = {item.id: LABELS[(item.id * 7) % 3] for item in lab.items}
    first = True
    # the one annotator who is always wrong labels everything first: early runs see only their answers
    for index in (3, 0, 1, 2):
        user = lab.annotators[index]
        while (outcome := claim.next_item_for_annotator(project=lab.project, annotator=user)).assignment:
            item_id = outcome.assignment.item_id
            label = truth[item_id] if index < 3 else LABELS[(LABELS.index(truth[item_id]) + 1) % 3]
            submit.annotation_submit(
                project=lab.project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result={"sentiment": label},
            )
            services.quality_compute(project_id=lab.project.id, full=first)
            first = False
    incremental = {r.item_id: r.answer for r in ConsensusResult.objects.filter(control="sentiment")}
    report = QualityRun.objects.filter(project=lab.project).first().report
    assert incremental == truth
    full = services.quality_compute(project_id=lab.project.id, full=True)
    assert {r.item_id: r.answer for r in ConsensusResult.objects.filter(control="sentiment")} == truth
    assert report["controls"][0]["confusion"] == full.report["controls"][0]["confusion"]


def test_incremental_runs_on_base_and_delta_snapshots_leave_nothing_for_a_full_run_to_fix(lab, monkeypatch):
    """Incremental runs write only a delta over the stored base (and reuse the decoded base within a
    process). After several of them, with and without that cache, a full recompute finds every
    consensus row and every coefficient already right."""
    from datetime import timedelta

    from tests.factories import make_items

    # Runs re-read the last minute of changes (commits can land late); here everything happens within
    # a minute, which would count every row as changed and make each run write a new base.
    monkeypatch.setattr(recompute, "CHANGE_MARGIN", timedelta(0))

    label_everything(lab, pattern)
    services.quality_compute(project_id=lab.project.id, full=True)
    base_number = QualityState.objects.get(project=lab.project).snapshot_base
    for round_ in range(3):
        make_items(lab.project, f"extra headline {round_}")
        label_everything(lab, lambda index, item_id: LABELS[(index + item_id) % 3])
        if round_ == 1:
            snapshots._BASE_CACHE.clear()  # another worker process: decode the base again
        run = services.quality_compute(project_id=lab.project.id)
        assert run.kind == QualityRun.Kind.INCREMENTAL
    state = QualityState.objects.get(project=lab.project)
    assert state.snapshot_base == base_number and state.snapshot_delta is not None  # deltas only
    rows = lambda: dict(  # noqa: E731
        ConsensusResult.objects.filter(project=lab.project).values_list("item_id", "answer")
    )
    before = rows()
    incremental_report = run.report
    full = services.quality_compute(project_id=lab.project.id, full=True)
    assert rows() == before
    assert incremental_report["controls"][0]["agreement"]["alpha"] == pytest.approx(
        full.report["controls"][0]["agreement"]["alpha"]
    )
    assert incremental_report["annotators"] == full.report["annotators"]
    state.refresh_from_db()
    assert state.snapshot_base == full.id and state.snapshot_delta is None


def test_an_incremental_run_rebases_when_most_rows_changed(lab, monkeypatch):
    label_everything(lab, pattern)
    services.quality_compute(project_id=lab.project.id, full=True)
    base_number = QualityState.objects.get(project=lab.project).snapshot_base
    monkeypatch.setattr(snapshots, "REBASE_FRACTION", 0.0)
    from tests.factories import make_items

    make_items(lab.project, "one more")
    label_everything(lab, pattern)
    run = services.quality_compute(project_id=lab.project.id)
    assert run.kind == QualityRun.Kind.INCREMENTAL
    state = QualityState.objects.get(project=lab.project)
    assert state.snapshot_base == run.id != base_number and state.snapshot_delta is None
    again = services.quality_compute(project_id=lab.project.id)
    assert again.annotations == run.annotations == 39


def test_a_pending_flag_whose_job_never_started_does_not_block_recomputes_for_ever(lab):
    from datetime import timedelta

    from django.utils import timezone

    assert services.quality_schedule(project_id=lab.project.id) is True
    assert services.quality_schedule(project_id=lab.project.id) is False  # a job is on its way
    # ... but its message was lost: ten minutes later the next change schedules again
    QualityState.objects.filter(project=lab.project).update(
        requested_at=timezone.now() - timedelta(minutes=11)
    )
    before = OutboxMessage.objects.filter(task_name="quality.tasks.quality_recompute_task").count()
    assert services.quality_schedule(project_id=lab.project.id) is True
    assert (
        OutboxMessage.objects.filter(task_name="quality.tasks.quality_recompute_task").count() == before + 1
    )


def test_renamed_and_merged_labels_are_read_under_their_new_names(lab, django_capture_on_commit_callbacks):
    label_everything(lab, pattern)
    services.quality_recompute(project_id=lab.project.id)  # the job the submissions scheduled has run
    with django_capture_on_commit_callbacks(execute=True):
        project_services.schema_labels_migrate(
            project=lab.project,
            actor=lab.people.manager,
            operations=[
                {"op": "rename", "control": "sentiment", "from": "negative", "to": "bad"},
                {"op": "merge", "control": "sentiment", "from": ["neutral", "positive"], "to": "positive"},
            ],
        )
    run = QualityRun.objects.filter(project=lab.project).first()  # the full run the migration scheduled
    assert run is not None and run.kind == QualityRun.Kind.FULL
    labels = {row["label"]: row for row in run.report["controls"][0]["labels"]}
    assert set(labels) == {"positive", "bad"}
    assert labels["bad"]["annotations"] == sum(
        1 for item in lab.items for index in range(3) if pattern(index, item.id) == "negative"
    )
    answers = set(ConsensusResult.objects.filter(project=lab.project).values_list("answer", flat=True))
    assert answers <= {"positive", "bad"}


def test_quality_enqueue_off_keeps_the_flag_but_sends_no_job(lab, settings):
    settings.QUALITY_ENQUEUE = False
    before = OutboxMessage.objects.count()
    assert services.quality_schedule(project_id=lab.project.id) is True
    assert OutboxMessage.objects.count() == before
    assert QualityState.objects.get(project=lab.project).pending is True
