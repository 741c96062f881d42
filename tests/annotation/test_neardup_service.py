"""annotation.neardup.services: detection (groups, incremental rules, writes) and resolution."""

import pytest
from django.utils import timezone

import core.realtime
from annotation.models import Item, NearDuplicateGroup
from annotation.neardup.services import (
    DETECT_TASK,
    near_duplicate_resolve,
    near_duplicates_detect,
    near_duplicates_detect_request,
)
from annotation.neardup.tasks import near_duplicates_detect_task
from core.exceptions import DomainError, NotFound
from core.models import AuditEvent, OutboxMessage
from tests.factories import make_items

pytestmark = pytest.mark.django_db


REVIEW = (
    "The battery of this phone lasts two full days with normal use, and charging it takes about "
    "an hour with the cable in the box."
)
REVIEW_COPY = REVIEW.replace("two full days", "two whole days")  # one word changed
REVIEW_SHOUTED = REVIEW.upper() + "!!!"  # case and punctuation only
DELIVERY = (
    "Delivery took three weeks and the parcel arrived damaged; support replaced it quickly, though, "
    "and the replacement works perfectly."
)
DELIVERY_COPY = DELIVERY.replace("three weeks", "three  weeks.") + " Thanks"
OTHERS = [
    "The screen scratches far too easily; after a month in my pocket it looks ten years old.",
    "Great sound for the price. The bass is a little weak but the mids are clear and warm.",
    "I returned it after two days: the camera app crashed every time I opened the gallery.",
    "Lightweight, sturdy and the keyboard is a joy to type on for long writing sessions.",
]


def image_items(project, *hashes: int, **fields) -> list[Item]:
    rows = []
    for n, value in enumerate(hashes):
        url = f"https://example.org/{project.id}-{n}.jpg"
        signed = value - 2**64 if value >= 2**63 else value  # stored as a signed 64-bit integer
        rows.append({"data": {"image": url}, "media_url": url, "media_type": "image", "image_hash": signed})
    return make_items(project, *rows, **fields)


def memberships(project) -> dict[int, int | None]:
    return dict(Item.objects.filter(project=project).values_list("id", "near_duplicate_group_id"))


def groups_of(project) -> list[tuple[str, list[int]]]:
    """(kind, member ids) of every group, by group id."""
    return [
        (group.kind, sorted(group.items.values_list("id", flat=True)))
        for group in NearDuplicateGroup.objects.filter(project=project).order_by("id")
    ]


def audit_rows(**filters) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list("action", "actor_label", "project_id", "target_type", "target_id", "changes")
    )


# --- Detection ----------------------------------------------------------------------------------------


def test_groups_near_identical_texts_and_nothing_else(people):
    review, copy, shouted, delivery, delivery_copy, *others = make_items(
        people.project, REVIEW, REVIEW_COPY, REVIEW_SHOUTED, DELIVERY, DELIVERY_COPY, *OTHERS
    )
    elsewhere = make_items(people.other_project, REVIEW, REVIEW_COPY)

    created = near_duplicates_detect(project_id=people.project.id)

    assert created == 2
    assert groups_of(people.project) == [
        ("text", [review.id, copy.id, shouted.id]),
        ("text", [delivery.id, delivery_copy.id]),
    ]
    assert all(memberships(people.project)[item.id] is None for item in others)
    assert NearDuplicateGroup.objects.filter(project=people.other_project).count() == 0
    assert all(
        item.near_duplicate_group_id is None for item in Item.objects.filter(pk__in=[e.id for e in elsewhere])
    )
    review_group = NearDuplicateGroup.objects.get(items=review)
    assert review_group.resolution == "" and review_group.kept_item is None
    assert 0.8 <= review_group.similarity < 1.0
    assert Item.objects.filter(project=people.project, excluded=True).count() == 0  # flagged, not excluded


def test_text_comes_from_the_data_when_there_is_no_search_text(people):
    first, second = make_items(people.project, REVIEW, REVIEW_COPY, search_text="")
    third = Item.objects.create(
        project=people.project,
        data={"title": "Battery", "body": [REVIEW.replace("two full", "two entire")]},
        content_hash="nested",
        checksum="nested",
    )

    assert near_duplicates_detect(project_id=people.project.id) == 1

    assert groups_of(people.project) == [("text", [first.id, second.id, third.id])]


def test_excluded_items_and_media_items_are_not_compared_as_text(people):
    make_items(people.project, REVIEW, excluded=True)
    make_items(people.project, REVIEW_COPY)
    make_items(people.project, REVIEW_SHOUTED, media_type="audio")

    assert near_duplicates_detect(project_id=people.project.id) == 0

    assert NearDuplicateGroup.objects.count() == 0


def test_groups_images_within_six_bits_with_the_similarity_of_the_farthest_pair(people):
    base = 0xF0E1_D2C3_B4A5_9687
    first, second, third, far, unrelated = image_items(
        people.project, base, base ^ 0b11, base ^ 0b1111 << 40, base ^ (2**64 - 1), 0x0123_4567_89AB_CDEF
    )

    assert near_duplicates_detect(project_id=people.project.id) == 1

    group = NearDuplicateGroup.objects.get(project=people.project)
    assert groups_of(people.project) == [("image", [first.id, second.id, third.id])]
    assert group.similarity == 1 - 6 / 64  # second and third differ in 2 + 4 bits
    assert memberships(people.project)[far.id] is None
    assert memberships(people.project)[unrelated.id] is None


def test_audits_and_announces_after_commit(people, monkeypatch, django_capture_on_commit_callbacks):
    make_items(people.project, REVIEW, REVIEW_COPY)
    image_items(people.project, 5, 7)
    sent = []
    monkeypatch.setattr(core.realtime, "broadcast", lambda *args: sent.append(args))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = near_duplicates_detect(project_id=people.project.id)
    assert sent == []
    for callback in callbacks:
        callback()

    assert created == 2
    assert sent == [
        (
            f"project.{people.project.id}",
            "near_duplicates.detected",
            {"project_id": people.project.id, "groups": 2, "items": 4},
        )
    ]
    assert audit_rows(action="near_duplicates.detected") == [
        (
            "near_duplicates.detected",
            "system",
            people.project.id,
            "projects.project",
            str(people.project.id),
            {
                "groups": 2,
                "items": 4,
                "merged_groups": [],
                "text": {"groups": 1, "items": 2, "merged": 0, "indexed": 2},
                "image": {"groups": 1, "items": 2, "merged": 0, "indexed": 2},
            },
        )
    ]


def test_running_again_changes_nothing(people, monkeypatch):
    make_items(people.project, REVIEW, REVIEW_COPY, DELIVERY, DELIVERY_COPY, *OTHERS)
    near_duplicates_detect(project_id=people.project.id)
    before = (memberships(people.project), list(NearDuplicateGroup.objects.values_list("id", "similarity")))
    sent = []
    monkeypatch.setattr(core.realtime, "broadcast", lambda *args: sent.append(args))

    assert near_duplicates_detect(project_id=people.project.id) == 0

    assert (
        memberships(people.project),
        list(NearDuplicateGroup.objects.values_list("id", "similarity")),
    ) == before
    assert len(audit_rows(action="near_duplicates.detected")) == 1
    assert sent == []


def test_new_near_duplicates_join_the_open_group_they_resemble(people):
    review, copy = make_items(people.project, REVIEW, REVIEW_COPY)
    near_duplicates_detect(project_id=people.project.id)
    group = NearDuplicateGroup.objects.get()
    (late,) = make_items(people.project, REVIEW.replace("an hour", "one hour"))

    assert near_duplicates_detect(project_id=people.project.id) == 0

    assert groups_of(people.project) == [("text", [review.id, copy.id, late.id])]
    group.refresh_from_db()
    assert group.resolution == ""


def test_resolved_groups_are_left_alone(people):
    review, copy = make_items(people.project, REVIEW, REVIEW_COPY)
    near_duplicates_detect(project_id=people.project.id)
    group = NearDuplicateGroup.objects.get()
    near_duplicate_resolve(
        project=people.project, actor=people.manager, group_id=group.id, resolution="kept_all"
    )
    (lone,) = make_items(people.project, REVIEW.replace("an hour", "one hour"))

    assert near_duplicates_detect(project_id=people.project.id) == 0
    assert memberships(people.project)[lone.id] is None

    pair = make_items(
        people.project, REVIEW.replace("an hour", "1 hour"), REVIEW.replace("an hour", "an hour.")
    )
    assert near_duplicates_detect(project_id=people.project.id) == 1

    assert groups_of(people.project) == [
        ("text", [review.id, copy.id]),
        ("text", sorted([lone.id, *(item.id for item in pair)])),
    ]


def test_archived_or_missing_projects_are_skipped(people):
    make_items(people.project, REVIEW, REVIEW_COPY)
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    assert near_duplicates_detect(project_id=people.project.id) == 0
    assert near_duplicates_detect(project_id=999_999) == 0

    assert NearDuplicateGroup.objects.count() == 0


def test_the_task_runs_the_detection(people):
    make_items(people.project, REVIEW, REVIEW_COPY)

    near_duplicates_detect_task.apply(kwargs={"project_id": people.project.id}, throw=True)

    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 1


def test_detection_request_queues_the_task_through_the_outbox(people, django_capture_on_commit_callbacks):
    make_items(people.project, REVIEW, REVIEW_COPY)

    with django_capture_on_commit_callbacks(execute=True):
        near_duplicates_detect_request(project=people.project, actor=people.manager)

    message = OutboxMessage.objects.get()
    assert (message.task_name, message.kwargs) == (DETECT_TASK, {"project_id": people.project.id})
    assert message.dispatched_at is not None  # eager in tests: it ran
    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 1
    assert audit_rows(action="near_duplicates.detect_requested") == [
        (
            "near_duplicates.detect_requested",
            "manager",
            people.project.id,
            "projects.project",
            str(people.project.id),
            {},
        )
    ]


def test_detection_request_on_an_archived_project_is_refused(people):
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    with pytest.raises(DomainError) as error:
        near_duplicates_detect_request(project=people.project, actor=people.manager)

    assert (error.value.code, error.value.status_code) == ("project_archived", 409)
    assert OutboxMessage.objects.count() == 0


# --- Resolution ---------------------------------------------------------------------------------------


@pytest.fixture
def group_of_three(people):
    items = make_items(people.project, REVIEW, REVIEW_COPY, REVIEW_SHOUTED)
    near_duplicates_detect(project_id=people.project.id)
    return NearDuplicateGroup.objects.get(project=people.project), items


def excluded_flags(items) -> list[bool]:
    return list(
        Item.objects.filter(pk__in=[i.id for i in items]).order_by("id").values_list("excluded", flat=True)
    )


def test_keep_one_excludes_the_others(
    people, group_of_three, monkeypatch, django_capture_on_commit_callbacks
):
    group, (first, second, third) = group_of_three
    sent = []
    monkeypatch.setattr(core.realtime, "broadcast", lambda *args: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        resolved = near_duplicate_resolve(
            project=people.project,
            actor=people.manager,
            group_id=group.id,
            resolution="kept_one",
            kept_item_id=second.id,
        )

    resolved.refresh_from_db()
    assert (resolved.resolution, resolved.kept_item_id, resolved.resolved_by) == (
        "kept_one",
        second.id,
        people.manager,
    )
    assert resolved.resolved_at is not None
    assert excluded_flags([first, second, third]) == [True, False, True]
    assert groups_of(people.project) == [("text", [first.id, second.id, third.id])]  # members stay
    assert sent == [
        (
            f"project.{people.project.id}",
            "near_duplicates.resolved",
            {
                "project_id": people.project.id,
                "group_id": group.id,
                "resolution": "kept_one",
                "kept_item_id": second.id,
                "excluded_item_ids": [first.id, third.id],
            },
        )
    ]
    assert audit_rows(action="near_duplicates.resolved") == [
        (
            "near_duplicates.resolved",
            "manager",
            people.project.id,
            "annotation.nearduplicategroup",
            str(group.id),
            {
                "resolution": ["", "kept_one"],
                "kept_item": [None, second.id],
                "excluded": [first.id, third.id],
                "included": [],
            },
        )
    ]


def test_re_resolving_changes_the_excluded_items(people, group_of_three):
    group, (first, second, third) = group_of_three
    resolve = {"project": people.project, "actor": people.manager, "group_id": group.id}
    near_duplicate_resolve(**resolve, resolution="kept_one", kept_item_id=first.id)

    near_duplicate_resolve(**resolve, resolution="kept_one", kept_item_id=third.id)
    assert excluded_flags([first, second, third]) == [True, True, False]

    near_duplicate_resolve(**resolve, resolution="kept_all")
    assert excluded_flags([first, second, third]) == [False, False, False]
    group.refresh_from_db()
    assert (group.resolution, group.kept_item_id) == ("kept_all", None)
    changes = [
        (row[-1]["resolution"], row[-1]["kept_item"], row[-1]["excluded"], row[-1]["included"])
        for row in audit_rows(action="near_duplicates.resolved")
    ]
    assert changes == [
        (["", "kept_one"], [None, first.id], [second.id, third.id], []),
        (["kept_one", "kept_one"], [first.id, third.id], [first.id], [third.id]),
        (["kept_one", "kept_all"], [third.id, None], [], [first.id, second.id]),
    ]


def test_excluded_members_are_left_out_of_later_detection(people, group_of_three):
    group, (first, _, _) = group_of_three
    near_duplicate_resolve(
        project=people.project,
        actor=people.manager,
        group_id=group.id,
        resolution="kept_one",
        kept_item_id=first.id,
    )

    assert near_duplicates_detect(project_id=people.project.id) == 0
    assert NearDuplicateGroup.objects.count() == 1


@pytest.mark.parametrize(
    ("resolution", "kept", "code"),
    [
        ("kept_one", None, "kept_item_required"),
        ("kept_one", "outsider", "invalid_kept_item"),
        ("kept_all", "member", "invalid_kept_item"),
        ("deleted", None, "invalid_resolution"),
        ("", None, "invalid_resolution"),
    ],
)
def test_invalid_decisions_change_nothing(people, group_of_three, resolution, kept, code):
    group, items = group_of_three
    (outsider,) = make_items(people.project, "Something else entirely, nothing like the others.")
    kept_item_id = {"outsider": outsider.id, "member": items[0].id, None: None}[kept]

    with pytest.raises(DomainError) as error:
        near_duplicate_resolve(
            project=people.project,
            actor=people.manager,
            group_id=group.id,
            resolution=resolution,
            kept_item_id=kept_item_id,
        )

    assert (error.value.code, error.value.status_code) == (code, 400)
    group.refresh_from_db()
    assert (group.resolution, group.kept_item_id, group.resolved_at) == ("", None, None)
    assert excluded_flags(items) == [False, False, False]
    assert audit_rows(action="near_duplicates.resolved") == []


def test_a_group_of_another_project_is_not_found(people, group_of_three):
    group, _ = group_of_three

    with pytest.raises(NotFound):
        near_duplicate_resolve(
            project=people.other_project, actor=people.outsider, group_id=group.id, resolution="kept_all"
        )

    group.refresh_from_db()
    assert group.resolution == ""


def test_archived_project_refuses_resolution(people, group_of_three):
    group, items = group_of_three
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    with pytest.raises(DomainError) as error:
        near_duplicate_resolve(
            project=people.project,
            actor=people.manager,
            group_id=group.id,
            resolution="kept_one",
            kept_item_id=items[0].id,
        )

    assert (error.value.code, error.value.status_code) == ("project_archived", 409)
    assert excluded_flags(items) == [False, False, False]
    group.refresh_from_db()
    assert group.resolution == ""
