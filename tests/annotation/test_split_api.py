"""/api/projects/<project_pk>/splits/: create, list, retrieve, summary; the role matrix; bad input."""

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField

from annotation.models import Item, MetadataField, SplitOperation
from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

NOT_FOUND = {"code": "not_found", "detail": "Not found."}
FORBIDDEN = {"code": "permission_denied", "detail": "Your role does not allow this."}
THREE_WAY = {"train": 0.8, "validation": 0.1, "test": 0.1}


def make_items(project, metas: list[dict], split: str = "") -> list[Item]:
    return factories.make_items(project, *({"meta": meta} for meta in metas), split=split)


def url(project, suffix: str = "") -> str:
    return f"/api/projects/{project.id}/splits/{suffix}"


def iso(value) -> str:
    return DateTimeField().to_representation(value)


def operation_body(operation: SplitOperation) -> dict:
    operation = SplitOperation.objects.select_related("created_by").get(pk=operation.pk)
    return {
        "id": operation.id,
        "ratios": operation.ratios,
        "stratify_by": operation.stratify_by,
        "group_by": operation.group_by,
        "seed": operation.seed,
        "only_unassigned": operation.only_unassigned,
        "counts": operation.counts,
        "status": operation.status,
        "detail": operation.detail,
        "created_by": operation.created_by.username if operation.created_by else None,
        "created_at": iso(operation.created_at),
    }


def item_splits(project) -> dict[int, str]:
    return dict(Item.objects.filter(project=project).values_list("id", "split"))


def test_manager_splits_the_items(people, client_for):
    make_items(people.project, [{"language": "en" if n % 2 else "de"} for n in range(10)])
    MetadataField.objects.create(project=people.project, name="language", type=MetadataField.Type.CATEGORY)

    response = client_for(people.manager).post(
        url(people.project),
        {"ratios": THREE_WAY, "seed": 5, "stratify_by": "language"},
        format="json",
    )

    assert response.status_code == 201
    operation = SplitOperation.objects.get()
    assert response.json() == {
        "id": operation.id,
        "ratios": THREE_WAY,
        "stratify_by": "language",
        "group_by": "",
        "seed": 5,
        "only_unassigned": False,
        "counts": {
            "train": 8,
            "validation": 1,
            "test": 1,
        },  # 4 / 0.5 / 0.5 per language: test in one, validation in the other
        "status": "succeeded",
        "detail": "",
        "created_by": "manager",
        "created_at": iso(operation.created_at),
    }
    assert sorted(item_splits(people.project).values()) == ["test"] + ["train"] * 8 + ["validation"]


def test_without_a_seed_the_drawn_seed_is_returned(people, client_for):
    make_items(people.project, [{}] * 3)

    response = client_for(people.org_admin).post(url(people.project), {"ratios": {"all": 1}}, format="json")

    assert response.status_code == 201
    assert response.json()["seed"] == SplitOperation.objects.get().seed
    assert 0 <= response.json()["seed"] < 2**31
    assert response.json()["counts"] == {"all": 3}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("org_admin", 201),
        ("manager", 201),
        ("reviewer", 403),
        ("annotator", 403),
        ("org_member", 404),
        ("outsider", 404),
    ],
)
def test_who_may_split(people, client_for, role, status):
    make_items(people.project, [{}] * 4)

    response = client_for(people.by_role(role)).post(
        url(people.project), {"ratios": THREE_WAY}, format="json"
    )

    assert response.status_code == status
    if status != 201:
        assert response.json() == (FORBIDDEN if status == 403 else NOT_FOUND)
        assert set(item_splits(people.project).values()) == {""}
        assert SplitOperation.objects.exists() is False


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("org_admin", 200),
        ("manager", 200),
        ("reviewer", 200),
        ("annotator", 403),  # annotators see items only through their labeling queue
        ("org_member", 404),
        ("outsider", 404),
    ],
)
def test_who_may_read_operations_and_the_summary(people, client_for, role, status):
    make_items(people.project, [{}] * 10)
    created = client_for(people.manager).post(
        url(people.project), {"ratios": THREE_WAY, "seed": 1}, format="json"
    )
    make_items(people.project, [{}] * 2)  # added after the split: no split yet
    operation = SplitOperation.objects.get(pk=created.json()["id"])
    client = client_for(people.by_role(role))

    listed = client.get(url(people.project))
    one = client.get(url(people.project, f"{operation.id}/"))
    summary = client.get(url(people.project, "summary/"))

    assert (listed.status_code, one.status_code, summary.status_code) == (status, status, status)
    if status == 200:
        assert listed.json() == {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [operation_body(operation)],
        }
        assert one.json() == operation_body(operation)
        assert summary.json() == {"counts": {"": 2, "test": 1, "train": 8, "validation": 1}, "total": 12}
    else:
        error = FORBIDDEN if status == 403 else NOT_FOUND
        assert (listed.json(), one.json(), summary.json()) == (error, error, error)


def test_operations_are_listed_newest_first(people, client_for):
    make_items(people.project, [{}] * 4)
    client = client_for(people.manager)
    first = client.post(url(people.project), {"ratios": {"a": 1}, "seed": 1}, format="json").json()
    second = client.post(url(people.project), {"ratios": {"b": 1}, "seed": 1}, format="json").json()

    response = client.get(url(people.project))

    assert [body["id"] for body in response.json()["results"]] == [second["id"], first["id"]]


def test_summary_of_a_project_without_items_counts_nothing(people, client_for):
    response = client_for(people.reviewer).get(url(people.project, "summary/"))

    assert response.status_code == 200
    assert response.json() == {"counts": {"": 0}, "total": 0}


def test_another_projects_operation_is_not_found(people, client_for):
    make_items(people.other_project, [{}] * 3)
    other = client_for(people.outsider).post(url(people.other_project), {"ratios": {"a": 1}}, format="json")

    response = client_for(people.manager).get(url(people.project, f"{other.json()['id']}/"))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_anonymous_requests_are_refused(people, api_client):
    response = api_client.get(url(people.project))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"ratios": {"train": 0.5, "test": 0.4}}, 400, "invalid_ratios"),
        ({"ratios": {"train": 1.5, "test": -0.5}}, 400, "invalid_ratios"),
        ({"ratios": {"train set": 1}}, 400, "invalid_split_name"),
        ({"ratios": THREE_WAY, "stratify_by": "colour"}, 400, "unknown_field"),
        ({"ratios": THREE_WAY, "group_by": "colour"}, 400, "unknown_field"),
        ({"ratios": THREE_WAY, "colour": "red"}, 400, "unknown_field"),  # a field the API does not know
        ({"ratios": THREE_WAY, "seed": 2**31}, 400, "invalid"),
        ({"ratios": THREE_WAY, "seed": -1}, 400, "invalid"),
        ({"ratios": {}}, 400, "invalid"),
        ({"ratios": {"train": "most"}}, 400, "invalid"),
        ({"ratios": [0.8, 0.2]}, 400, "invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(people, client_for, payload, status, code):
    make_items(people.project, [{"colour": "red"}] * 4)

    response = client_for(people.manager).post(url(people.project), payload, format="json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert set(item_splits(people.project).values()) == {""}
    assert SplitOperation.objects.exists() is False
    assert AuditEvent.objects.filter(action="split.assigned").exists() is False


def test_nothing_to_split_is_refused(people, client_for):
    response = client_for(people.manager).post(url(people.project), {"ratios": THREE_WAY}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "no_items", "detail": "This project has no items to split."}


def test_archived_project_is_refused(people, client_for):
    make_items(people.project, [{}] * 4)
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    response = client_for(people.manager).post(url(people.project), {"ratios": THREE_WAY}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "project_archived",
        "detail": "This project is archived; unarchive it to make changes.",
    }
    assert set(item_splits(people.project).values()) == {""}


def test_large_projects_are_split_by_a_worker(
    people, client_for, settings, django_capture_on_commit_callbacks
):
    settings.ANNOTATION_SPLIT_INLINE_MAX_ITEMS = 3
    make_items(people.project, [{}] * 10)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(people.manager).post(
            url(people.project), {"ratios": {"train": 0.5, "test": 0.5}, "seed": 3}, format="json"
        )

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["counts"]) == ("queued", {})
    assert set(item_splits(people.project).values()) == {""}  # nothing written in the request

    for callback in callbacks:  # the commit: the outbox hands the job to the (eager) worker
        callback()

    operation = SplitOperation.objects.get()
    assert (operation.status, operation.counts) == ("succeeded", {"train": 5, "test": 5})
    assert sorted(item_splits(people.project).values()) == ["test"] * 5 + ["train"] * 5


def test_a_queued_split_that_can_no_longer_run_fails_with_the_reason(people, settings):
    from annotation.splits.services import split_request, split_run

    settings.ANNOTATION_SPLIT_INLINE_MAX_ITEMS = 1
    make_items(people.project, [{}] * 4)
    operation = split_request(project=people.project, actor=people.manager, ratios={"all": 1})
    people.project.archived_at = people.project.created_at
    people.project.save(update_fields=["archived_at"])

    finished = split_run(operation_id=operation.id)

    assert (finished.status, finished.detail) == (
        "failed",
        "This project is archived; unarchive it to make changes.",
    )
    assert set(item_splits(people.project).values()) == {""}
    assert split_run(operation_id=operation.id).status == "failed"  # finished: never run again
