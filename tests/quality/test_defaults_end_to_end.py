"""Issue #16's walk-through as an integration test (no browser): a new manager's LLM preference
project (pairwise choice, a 1-5 rating, a free-text rationale) with overlap 2, two annotators and
every other setting at its default. The annotators agree on the choice, rate some items one point
apart and word their rationales differently. The project must finish: every item completes, review
gets its ~10% sample, nobody is paused for wording, and the dashboard's counts are the database's."""

import pytest

from annotation.models import Annotation, Item
from annotation.workflow import states
from annotation.workflow.services import claim, review, submit
from projects import services as project_services
from projects.models import ProjectMembership
from quality import services
from tests.factories import ProjectMembershipFactory, UserFactory, make_items

pytestmark = pytest.mark.django_db

SCHEMA = {
    "version": 1,
    "fields": [{"name": "prompt", "type": "text"}, {"name": "candidates", "type": "candidates"}],
    "controls": [
        {"name": "preference", "type": "pairwise", "field": "candidates", "required": True},
        {"name": "quality", "type": "rating", "field": "prompt", "min": 1, "max": 5, "required": True},
        {"name": "rationale", "type": "text", "field": "prompt", "required": True},
    ],
}


def data(n: int) -> dict:
    return {
        "prompt": f"Question {n}: how do vaccines work?",
        "candidates": [{"id": "a", "text": f"Answer A{n}"}, {"id": "b", "text": f"Answer B{n}"}],
    }


def answer(annotator: int, item: Item) -> dict:
    """Both choose the better answer (A on even data, B on odd); on every third item the second
    annotator rates one point lower; each writes the rationale in their own words."""
    n = int(item.data["prompt"].split()[1].rstrip(":"))
    rating = 4 - (1 if annotator == 1 and n % 3 == 0 else 0)
    choice = "A" if n % 2 == 0 else "B"
    rationale = (
        f"{choice} explains the immune response clearly."
        if annotator == 0
        else f"I picked {choice}; the other one is vague and has no sources at all for question {n}."
    )
    return {"preference": {"choice": choice}, "quality": rating, "rationale": rationale}


@pytest.fixture
def project(people):
    return preference_project(people)


def preference_project(people):
    """The manager's project: overlap 2 (the only setting), two annotators, 30 items, 10 gold items."""
    project = people.project
    # The manager sets only the overlap: everything else is the default.
    project_services.project_update(project=project, actor=people.manager, overlap=2)
    project.refresh_from_db()
    assert project.settings == {}
    project_services.schema_version_create(project=project, actor=people.manager, definition=SCHEMA)
    ProjectMembershipFactory(
        project=project, user=UserFactory(username="second"), role=ProjectMembership.Role.ANNOTATOR
    )
    make_items(project, *[{"text": "", "data": data(n)} for n in range(30)])
    gold = make_items(project, *[{"text": "", "data": data(100 + n)} for n in range(10)])
    for item in gold:
        reference = answer(0, item)
        reference["rationale"] = "The chosen answer is factually correct and cites a source."
        services.gold_set(project=project, actor=people.manager, item_id=item.id, result=reference)
    return project


def test_a_preference_project_on_default_settings_finishes(people, project, monkeypatch):
    claim._random.seed(7)  # which requests get gold: reproducible
    annotators = [people.annotator, ProjectMembership.objects.get(user__username="second").user]
    finished = [False, False]
    served_gold = [0, 0]
    while not all(finished):
        for index, user in enumerate(annotators):
            if finished[index]:
                continue
            outcome = claim.next_item_for_annotator(project=project, annotator=user)
            if outcome.assignment is None:
                assert outcome.reason == "queue_empty"
                finished[index] = True
                continue
            served_gold[index] += outcome.assignment.is_gold
            submit.annotation_submit(
                project=project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result=answer(index, outcome.assignment.item),
                active_ms=4000,
            )
            services.quality_compute(project_id=project.id)  # what the worker runs after each submission
    assert all(served_gold), "the default gold rate serves gold once the project has gold items"

    work = Item.objects.filter(project=project, is_gold=False)
    sampled = {item.id for item in work if states.sampled_for_review(item.id, 0.1)}
    # Every item finished its annotation phase at its overlap: nothing escalated to a third person.
    assert set(work.values_list("target", "done", "extra")) == {(2, 2, 0)}
    in_review = set(work.filter(state="in_review").values_list("id", flat=True))
    assert in_review == sampled and 1 <= len(sampled) <= 8  # the ~10% sample, and only it
    assert set(work.exclude(id__in=sampled).values_list("state", flat=True)) == {"completed"}

    # A reviewer works through the review queue; then every item is completed.
    reviewed = 0
    while True:
        task = review.review_next(project=project, reviewer=people.reviewer)
        if task.item is None:
            break
        reviewed += 1
        for annotation in task.annotations:
            review.review_decide(
                project=project,
                reviewer=people.reviewer,
                annotation_id=annotation.id,
                decision="accept",
                revision=annotation.revision,
            )
    assert reviewed == len(sampled)
    assert set(work.values_list("state", flat=True)) == {"completed"}

    # Nobody is paused for writing their rationale in their own words.
    run = services.quality_compute(project_id=project.id, full=True)
    assert not ProjectMembership.objects.filter(project=project, paused_at__isnull=False).exists()
    assert run.report["paused"] == []
    for row in run.report["annotators"]:
        # Right on every choice; a rating one point off scores 0.75 on that control (ordinal closeness).
        assert row["gold_n"] >= 1 and row["gold_accuracy"] >= 0.9
        assert row["gold_by_control"]["preference"] == 1.0
        assert row["gold_by_control"]["rationale"] < 0.7  # reported, not counted
    # The dashboard's numbers are the database's.
    manager = people.manager
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(manager)
    report = client.get(f"/api/projects/{project.id}/quality/").json()
    controls = {c["name"]: c for c in report["controls"]}
    assert controls["quality"]["level"] == "ordinal" and controls["preference"]["level"] == "nominal"
    assert controls["rationale"]["counts"] is False
    assert controls["quality"]["agreement"]["items"] == 30
    assert (
        controls["quality"]["agreement"]["annotations"]
        == Annotation.objects.filter(project=project, is_gold=False).count()
    )
    assert report["escalation"] == {
        "escalated": 0,
        "flagged_for_review": 0,
        "waiting": work.filter(state="open", extra__gt=0).count(),
        "items_escalated": work.filter(extra__gt=0).count(),
    }
    progress = client.get(f"/api/projects/{project.id}/queue/progress/").json()
    assert progress["items"]["completed"] == work.filter(state="completed").count() == 30
    assert progress["items"]["open"] == work.filter(state="open").count() == 0
    by_control = {r["control"]: r for r in report["gold"]["by_control"]}
    assert by_control["preference"]["accuracy"] == 1.0 and by_control["quality"]["accuracy"] >= 0.9
    assert by_control["rationale"]["counts"] is False
