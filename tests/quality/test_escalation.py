"""Escalation that can finish: an item with low agreement gets another annotator only when someone
eligible could take it, otherwise it goes to review with the reason; raised targets come back when
escalation is switched off or its limit lowered; the counts reported are the database's."""

import pytest

from annotation.models import Annotation, Item
from annotation.workflow.services.queue import item_escalate
from core.models import AuditEvent
from projects import services as project_services
from projects.models import ProjectMembership
from quality import services
from tests.annotation.workflow_kit import make_lab
from tests.factories import ProjectMembershipFactory, UserFactory
from tests.quality.test_quality_service import LABELS, label_everything

pytestmark = pytest.mark.django_db


def disagree_on_first(lab):
    label_everything(lab, lambda index, item_id: LABELS[index] if item_id == lab.items[0].id else "positive")


def test_with_nobody_left_to_ask_a_low_agreement_item_goes_to_review_with_the_reason(people):
    lab = make_lab(people, overlap=2, annotators=2, items=3, review_fraction=0.0)
    disagree_on_first(lab)

    run = services.quality_compute(project_id=lab.project.id, full=True)

    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target, item.done, item.extra) == ("in_review", 2, 2, 0)
    assert set(Annotation.objects.filter(item=item).values_list("review", flat=True)) == {"pending"}
    flagged = AuditEvent.objects.get(action="item.flagged_for_review")
    assert "no other annotator can take it" in flagged.changes["reason"]
    assert run.report["escalated"] == 0
    assert run.report["escalation"] == {
        "escalated": 0,
        "flagged_for_review": 1,
        "waiting": 0,
        "items_escalated": 0,
    }
    # The reviewer's decision stands: the next run does not send it back.
    Annotation.objects.filter(item=item).update(review="accepted")
    Item.objects.filter(pk=item.pk).update(state="completed")
    again = services.quality_compute(project_id=lab.project.id, full=True)
    assert again.report["escalation"]["flagged_for_review"] == 0
    assert Item.objects.get(pk=item.pk).state == "completed"


@pytest.mark.parametrize("why", ["paused", "reviewer", "pool", "quota", "skipped", "inactive"])
def test_a_spare_member_who_could_not_take_it_does_not_count(people, why):
    lab = make_lab(people, overlap=2, annotators=2, items=3, review_fraction=0.0)
    role = ProjectMembership.Role.REVIEWER if why == "reviewer" else ProjectMembership.Role.ANNOTATOR
    spare = ProjectMembershipFactory(project=lab.project, user=UserFactory(username="spare"), role=role)
    if why == "skipped":  # the spare took the item and gave it back
        from annotation.workflow.services import claim, labeling

        outcome = claim.next_item_for_annotator(project=lab.project, annotator=spare.user)
        assert outcome.assignment.item_id == lab.items[0].id
        labeling.assignment_skip(
            project=lab.project,
            annotator=spare.user,
            assignment_id=outcome.assignment.id,
            reason="Not my field",
        )
    disagree_on_first(lab)
    if why == "paused":
        project_services.project_member_pause(
            project=lab.project, actor=people.manager, membership_id=spare.id, reason="on leave"
        )
    elif why == "pool":
        Item.objects.filter(pk=lab.items[0].id).update(pool="linguists")
        for user in lab.annotators:  # the two who did it are linguists; the spare is not
            ProjectMembership.objects.filter(project=lab.project, user=user).update(groups=["linguists"])
    elif why == "quota":
        ProjectMembership.objects.filter(pk=spare.pk).update(quota=0 if why == "quota" else None)
    elif why == "inactive":  # a deactivated account, or an annotator imported from Label Studio
        type(spare.user).objects.filter(pk=spare.user_id).update(is_active=False)

    run = services.quality_compute(project_id=lab.project.id, full=True)

    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target) == ("in_review", 2)
    assert run.report["escalation"]["escalated"] == 0 and run.report["escalation"]["flagged_for_review"] == 1


def test_at_the_escalation_limit_a_low_agreement_item_goes_to_review(people):
    lab = make_lab(people, overlap=2, annotators=2, items=3, review_fraction=0.0, max_escalation=0)
    ProjectMembershipFactory(project=lab.project, user=UserFactory(username="spare"), role="annotator")
    disagree_on_first(lab)

    run = services.quality_compute(project_id=lab.project.id, full=True)

    assert Item.objects.get(pk=lab.items[0].id).state == "in_review"
    assert run.report["escalation"]["flagged_for_review"] == 1


def escalated_item(people):
    """Item 0 done by both annotators and escalated to a third slot nobody took."""
    lab = make_lab(people, overlap=2, annotators=2, items=2, review_fraction=0.0)
    label_everything(lab, lambda index, item_id: "positive")
    item = item_escalate(project=lab.project, actor=people.manager, item_id=lab.items[0].id, reason="dispute")
    assert (item.state, item.target, item.done, item.extra) == ("open", 3, 2, 1)
    return lab


def test_switching_escalation_off_lowers_raised_targets_and_completes_full_items(
    people, django_capture_on_commit_callbacks
):
    lab = escalated_item(people)

    with django_capture_on_commit_callbacks(execute=True):
        lab.project.refresh_from_db()
        settings_ = {**lab.project.settings, "quality": {"escalate_below": None}}
        project_services.project_update(project=lab.project, actor=people.manager, settings=settings_)

    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target, item.done, item.extra) == ("completed", 2, 2, 0)


def test_lowering_max_escalation_keeps_a_leased_slot(people, django_capture_on_commit_callbacks):
    lab = escalated_item(people)
    third = ProjectMembershipFactory(
        project=lab.project, user=UserFactory(username="third"), role="annotator"
    )
    from annotation.workflow.services import claim, submit

    held = claim.next_item_for_annotator(project=lab.project, annotator=third.user)
    assert held.assignment.item_id == lab.items[0].id

    with django_capture_on_commit_callbacks(execute=True):
        lab.set_labeling(max_escalation=0)

    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target, item.done, item.leased) == ("open", 3, 2, 1)  # never below done + leased
    submit.annotation_submit(
        project=lab.project,
        annotator=third.user,
        assignment_id=held.assignment.id,
        result={"sentiment": "positive"},
    )
    assert Item.objects.get(pk=lab.items[0].id).state == "completed"


def test_lowering_max_escalation_to_one_keeps_one_extra(people, django_capture_on_commit_callbacks):
    lab = escalated_item(people)
    item_escalate(project=lab.project, actor=people.manager, item_id=lab.items[0].id, reason="again")
    assert Item.objects.get(pk=lab.items[0].id).target == 4

    with django_capture_on_commit_callbacks(execute=True):
        lab.set_labeling(max_escalation=1)

    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target, item.extra) == ("open", 3, 1)


def test_turning_escalation_off_over_the_api_lowers_raised_targets(
    people, django_capture_on_commit_callbacks
):
    lab = escalated_item(people)
    manager = lab.client(people.manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.patch(
            f"/api/projects/{lab.project.id}/",
            {"settings": {"quality": {"escalate_below": 0}}},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["settings"]["labeling"] == {"review_fraction": 0.0}  # merged, not replaced
    item = Item.objects.get(pk=lab.items[0].id)
    assert (item.state, item.target, item.extra) == ("completed", 2, 0)
