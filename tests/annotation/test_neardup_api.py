"""/api/projects/<id>/near-duplicates/ and the review page /projects/<id>/data/duplicates/."""

import html
import random
import string

import pytest
from django.test import Client
from django.utils import timezone

from annotation.models import Item, NearDuplicateGroup
from annotation.neardup.services import DETECT_TASK, near_duplicates_detect
from core.models import AuditEvent, OutboxMessage
from tests.factories import make_items

from ..conftest import ROLES

pytestmark = pytest.mark.django_db

LONG_REVIEW = (
    "I bought this blender for smoothies and soups. It crushes ice in seconds, the jug is easy to "
    "clean, and it is quieter than my old one. After three months of daily use the motor still runs "
    "cool and the blades are sharp. Only complaint: the lid is hard to take off with wet hands."
)
LONG_COPY = LONG_REVIEW.replace("three months", "four months")
READ_STATUS = {
    "org_admin": 200,
    "manager": 200,
    "reviewer": 200,
    "annotator": 403,
    "org_member": 404,
    "outsider": 404,
}
WRITE_STATUS = {
    "org_admin": 200,
    "manager": 200,
    "reviewer": 403,
    "annotator": 403,
    "org_member": 404,
    "outsider": 404,
}


@pytest.fixture
def group(people):
    first, second = make_items(people.project, LONG_REVIEW, LONG_COPY)
    Item.objects.filter(pk=first.pk).update(external_id="r-1")
    near_duplicates_detect(project_id=people.project.id)
    return NearDuplicateGroup.objects.get(project=people.project), first, second


def url(project, suffix: str = "") -> str:
    return f"/api/projects/{project.id}/near-duplicates/{suffix}"


def member_body(item, *, excluded=False, external_id=None) -> dict:
    return {
        "id": item.id,
        "external_id": external_id,
        "text": item.data["text"][:199] + "…",
        "media_type": "",
        "is_image": False,
        "media_url": None,
        "excluded": excluded,
    }


# --- API: access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_list_access_by_role(people, client_for, group, role):
    response = client_for(people.by_role(role)).get(url(people.project))

    assert response.status_code == READ_STATUS[role]


@pytest.mark.parametrize("role", ROLES)
def test_resolve_access_by_role(people, client_for, group, role):
    group_row, _, _ = group

    response = client_for(people.by_role(role)).post(
        url(people.project, f"{group_row.id}/resolve/"), {"resolution": "kept_all"}, format="json"
    )

    assert response.status_code == WRITE_STATUS[role]
    group_row.refresh_from_db()
    assert group_row.resolution == ("kept_all" if WRITE_STATUS[role] == 200 else "")


@pytest.mark.parametrize("role", ROLES)
def test_detect_access_by_role(people, client_for, role):
    response = client_for(people.by_role(role)).post(url(people.project, "detect/"), format="json")

    assert response.status_code == {**WRITE_STATUS, "org_admin": 202, "manager": 202}[role]
    assert OutboxMessage.objects.filter(task_name=DETECT_TASK).count() == (
        1 if response.status_code == 202 else 0
    )


def test_anonymous_requests_are_refused(people, api_client, group):
    assert api_client.get(url(people.project)).status_code == 401


# --- API: bodies ------------------------------------------------------------------------------------


def test_list_shows_groups_with_members(people, client_for, group):
    group_row, first, second = group

    response = client_for(people.reviewer).get(url(people.project))

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": group_row.id,
                "kind": "text",
                "similarity": group_row.similarity,
                "status": "open",
                "resolution": "",
                "kept_item": None,
                "resolved_by": None,
                "resolved_at": None,
                "created_at": group_row.created_at.isoformat().replace("+00:00", "Z"),
                "member_count": 2,
                "members": [member_body(first, external_id="r-1"), member_body(second)],
            }
        ],
    }


def test_big_groups_list_their_first_members_and_count_them_all(people, client_for, page_for):
    items = make_items(people.project, *(f"templated review number {n}" for n in range(55)))
    group = NearDuplicateGroup.objects.create(project=people.project, kind="text", similarity=0.81)
    Item.objects.filter(pk__in=[item.id for item in items]).update(near_duplicate_group=group)

    body = client_for(people.manager).get(url(people.project, f"{group.id}/")).json()
    page = page_for(people.manager).get(page_url(people.project)).content.decode()

    assert body["member_count"] == 55
    assert [member["id"] for member in body["members"]] == [item.id for item in items[:50]]
    assert "55 items · 81 % similar" in page
    assert page.count('<li class="neardup-member') == 50
    assert "Showing the first 50 of 55 items (by id)." in page


def test_image_members_link_to_the_item_media_endpoint(people, client_for, page_for):
    items = Item.objects.bulk_create(
        Item(
            project=people.project,
            data={"file": f"photos/cat-{n}.jpg", "media_type": "image"},
            content_hash=f"image-{n}",
            checksum=f"image-{n}",
            media=f"media/2026/11/cat-{n}.jpg",
            media_type="image",
            image_hash=0x0F0F_0F0F_0F0F_0F0F ^ n,
        )
        for n in range(2)
    )
    near_duplicates_detect(project_id=people.project.id)

    members = client_for(people.reviewer).get(url(people.project)).json()["results"][0]["members"]
    page = page_for(people.reviewer).get(page_url(people.project)).content.decode()

    media = [f"/api/projects/{people.project.id}/items/{item.id}/media/" for item in items]
    assert [(m["is_image"], m["media_url"], m["text"]) for m in members] == [
        (True, media[0], "photos/cat-0.jpg"),
        (True, media[1], "photos/cat-1.jpg"),
    ]
    assert f'<img class="neardup-member__image" src="{media[0]}" alt="Image of item #{items[0].id}"' in page
    assert "image</span>" in page


def test_list_filters_by_status(people, client_for, group):
    group_row, first, _ = group
    client = client_for(people.manager)
    client.post(
        url(people.project, f"{group_row.id}/resolve/"),
        {"resolution": "kept_one", "kept_item": first.id},
        format="json",
    )

    assert client.get(url(people.project), {"status": "open"}).json()["count"] == 0
    assert [g["id"] for g in client.get(url(people.project), {"status": "resolved"}).json()["results"]] == [
        group_row.id
    ]
    bad = client.get(url(people.project), {"status": "maybe"})
    assert (bad.status_code, bad.json()) == (
        400,
        {"code": "invalid_filter", "detail": "status must be open or resolved."},
    )


def test_retrieve_one_group(people, client_for, group):
    group_row, first, second = group

    response = client_for(people.manager).get(url(people.project, f"{group_row.id}/"))

    assert response.status_code == 200
    assert [member["id"] for member in response.json()["members"]] == [first.id, second.id]
    assert client_for(people.manager).get(url(people.project, "999999/")).status_code == 404


def test_resolve_keeps_one_and_returns_the_group(people, client_for, group):
    group_row, first, second = group

    response = client_for(people.manager).post(
        url(people.project, f"{group_row.id}/resolve/"),
        {"resolution": "kept_one", "kept_item": second.id},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["resolution"], body["kept_item"], body["resolved_by"]) == (
        "resolved",
        "kept_one",
        second.id,
        "manager",
    )
    assert body["members"] == [member_body(first, excluded=True, external_id="r-1"), member_body(second)]
    assert list(Item.objects.order_by("id").values_list("excluded", flat=True)) == [True, False]


@pytest.mark.parametrize(
    ("payload", "code", "detail"),
    [
        ({"resolution": "kept_one"}, "kept_item_required", "Say which item to keep."),
        (
            {"resolution": "kept_one", "kept_item": 999999},
            "invalid_kept_item",
            "Item 999999 is not in this group.",
        ),
        ({"resolution": "maybe"}, "invalid", 'resolution: "maybe" is not a valid choice.'),
        ({"resolution": "kept_all", "keep": 1}, "unknown_field", "keep: Unknown field."),
    ],
)
def test_resolve_refuses_bad_input(people, client_for, group, payload, code, detail):
    group_row, *_ = group

    response = client_for(people.manager).post(
        url(people.project, f"{group_row.id}/resolve/"), payload, format="json"
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["detail"]) == (code, detail)
    group_row.refresh_from_db()
    assert group_row.resolution == ""


def test_resolve_in_an_archived_project_is_a_conflict(people, client_for, group):
    group_row, *_ = group
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    response = client_for(people.manager).post(
        url(people.project, f"{group_row.id}/resolve/"), {"resolution": "kept_all"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (409, "project_archived")


def test_a_group_is_not_reachable_through_another_project(people, client_for, group):
    group_row, *_ = group
    client = client_for(people.outsider)

    assert client.get(url(people.other_project, f"{group_row.id}/")).status_code == 404
    response = client.post(
        url(people.other_project, f"{group_row.id}/resolve/"), {"resolution": "kept_all"}, format="json"
    )
    assert response.status_code == 404


def test_detect_now_queues_and_runs(people, client_for, django_capture_on_commit_callbacks):
    make_items(people.project, LONG_REVIEW, LONG_COPY)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people.manager).post(url(people.project, "detect/"), format="json")

    assert (response.status_code, response.json()) == (202, {"status": "queued"})
    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 1


def test_detect_with_full_rebuilds_the_index(people, client_for, django_capture_on_commit_callbacks):
    make_items(people.project, LONG_REVIEW, LONG_COPY)
    near_duplicates_detect(project_id=people.project.id)
    NearDuplicateGroup.objects.all().delete()  # as if the groups were found with other settings

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people.manager).post(
            url(people.project, "detect/"), {"full": True}, format="json"
        )

    assert response.status_code == 202
    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 1
    assert AuditEvent.objects.filter(action="near_duplicates.rescan_requested").count() == 1
    bad = client_for(people.manager).post(url(people.project, "detect/"), {"full": "maybe"}, format="json")
    assert bad.status_code == 400


def test_openapi_schema_describes_the_endpoints(client_for, people):
    schema = client_for(people.manager).get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert "/api/projects/{project_pk}/near-duplicates/{id}/resolve/" in paths
    assert "/api/projects/{project_pk}/near-duplicates/detect/" in paths
    assert "NearDuplicateResolveInputRequest" in schema["components"]["schemas"]


# --- Pages --------------------------------------------------------------------------------------------


def page_url(project, suffix: str = "") -> str:
    return f"/projects/{project.id}/data/duplicates/{suffix}"


@pytest.mark.parametrize("role", ROLES)
def test_page_access_by_role(people, page_for, group, role):
    response = page_for(people.by_role(role)).get(page_url(people.project))

    assert response.status_code == READ_STATUS[role]


@pytest.mark.parametrize("role", ROLES)
def test_resolve_form_access_by_role(people, page_for, group, role):
    group_row, first, _ = group

    response = page_for(people.by_role(role)).post(
        page_url(people.project, f"{group_row.id}/resolve/"),
        {"resolution": "kept_one", "kept_item": first.id},
    )

    assert response.status_code == {**WRITE_STATUS, "org_admin": 302, "manager": 302}[role]
    assert Item.objects.filter(excluded=True).count() == (1 if response.status_code == 302 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_detect_form_access_by_role(people, page_for, role):
    response = page_for(people.by_role(role)).post(page_url(people.project, "detect/"))

    assert response.status_code == {**WRITE_STATUS, "org_admin": 302, "manager": 302}[role]


def test_anonymous_visitors_go_to_the_login_page(people, group):
    response = Client().get(page_url(people.project))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_page_shows_members_side_by_side_with_buttons_for_managers(people, page_for, group):
    group_row, _, _ = group

    body = page_for(people.manager).get(page_url(people.project)).content.decode()

    assert f'id="group-{group_row.id}"' in body
    assert html.escape(LONG_REVIEW[:120]) in body
    assert body.count(">Keep this one</button>") == 2
    assert "Not duplicates — keep all" in body
    assert "Detect now" in body
    assert 'id="open-count">1<' in body


def test_reviewers_see_groups_without_buttons(people, page_for, group):
    body = page_for(people.reviewer).get(page_url(people.project)).content.decode()

    assert html.escape(LONG_REVIEW[:120]) in body
    assert "Keep this one" not in body
    assert "Detect now" not in body


def test_archived_projects_show_groups_without_buttons(people, page_for, group):
    people.project.archived_at = timezone.now()
    people.project.save(update_fields=["archived_at"])

    body = page_for(people.manager).get(page_url(people.project)).content.decode()

    assert "Keep this one" not in body and "Detect now" not in body


def test_item_text_is_escaped(people, page_for):
    make_items(
        people.project,
        "<script>alert('x')</script> the same review text, repeated word for word here",
        "<script>alert('x')</script> the same review text, repeated word for word here!",
    )
    near_duplicates_detect(project_id=people.project.id)

    body = page_for(people.manager).get(page_url(people.project)).content.decode()

    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_resolve_form_keeps_one_and_the_other_shows_as_excluded(people, page_for, group):
    group_row, first, second = group
    client = page_for(people.manager)

    response = client.post(
        page_url(people.project, f"{group_row.id}/resolve/"),
        {"resolution": "kept_one", "kept_item": first.id, "status": "open"},
        follow=True,
    )

    assert response.redirect_chain == [(page_url(people.project), 302)]
    body = response.content.decode()
    assert (
        f"Group #{group_row.id}: kept item #{first.id}; 1 other item excluded from labeling and releases."
        in body
    )
    assert "No open groups." in body
    resolved = client.get(page_url(people.project), {"status": "resolved"}).content.decode()
    second_card = resolved.split(f'id="item-{second.id}"', 1)[1].split("</li>", 1)[0]
    first_card = resolved.split(f'id="item-{first.id}"', 1)[1].split("</li>", 1)[0]
    assert "excluded</span>" in second_card and "Keep this one" in second_card
    assert "kept</span>" in first_card and "Keep this one" not in first_card
    assert list(Item.objects.order_by("id").values_list("excluded", flat=True)) == [False, True]


def test_resolve_form_keep_all_returns_to_the_resolved_tab(people, page_for, group):
    group_row, *_ = group

    response = page_for(people.manager).post(
        page_url(people.project, f"{group_row.id}/resolve/"), {"resolution": "kept_all", "status": "resolved"}
    )

    assert (response.status_code, response["Location"]) == (302, page_url(people.project, "?status=resolved"))
    group_row.refresh_from_db()
    assert group_row.resolution == "kept_all"


def test_resolve_form_with_a_bad_item_shows_an_error_page(people, page_for, group):
    group_row, *_ = group

    response = page_for(people.manager).post(
        page_url(people.project, f"{group_row.id}/resolve/"), {"resolution": "kept_one", "kept_item": 999999}
    )

    assert response.status_code == 400
    assert "Item 999999 is not in this group." in response.content.decode()


def test_detect_form_finds_groups(people, page_for, django_capture_on_commit_callbacks):
    make_items(people.project, LONG_REVIEW, LONG_COPY)

    with django_capture_on_commit_callbacks(execute=True):
        response = page_for(people.manager).post(page_url(people.project, "detect/"))

    assert (response.status_code, response["Location"]) == (302, page_url(people.project))
    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 1


def test_rescan_form_compares_every_item_again(people, page_for, django_capture_on_commit_callbacks):
    make_items(people.project, LONG_REVIEW, LONG_COPY)
    near_duplicates_detect(project_id=people.project.id)
    NearDuplicateGroup.objects.all().delete()
    client = page_for(people.manager)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(page_url(people.project, "detect/"))
    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 0  # nothing new
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url(people.project, "detect/"), {"full": "1"})

    assert (response.status_code, response["Location"]) == (302, page_url(people.project))
    assert NearDuplicateGroup.objects.filter(project=people.project).count() == 1
    assert "Rescan all" in client.get(page_url(people.project)).content.decode()


def test_page_is_keyset_paged(people, page_for):
    rng = random.Random(4)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 8))) for _ in range(2000)]
    for _ in range(21):
        text = " ".join(rng.choices(words, k=30))  # 21 unrelated texts, each with a near copy
        make_items(people.project, text, text + " Really.")
    near_duplicates_detect(project_id=people.project.id)
    client = page_for(people.manager)
    newest_first = list(NearDuplicateGroup.objects.order_by("-id").values_list("id", flat=True))

    first = client.get(page_url(people.project)).content.decode()
    second = client.get(
        page_url(people.project), {"status": "open", "before": newest_first[19]}
    ).content.decode()

    assert len(newest_first) == 21
    assert first.count('class="card neardup-group"') == 20
    assert f"?status=open&amp;before={newest_first[19]}" in first
    assert second.count('class="card neardup-group"') == 1
    assert f'id="group-{newest_first[20]}"' in second
    assert client.get(page_url(people.project), {"status": "nope"}).status_code == 400
