"""The data manager (annotation/items/): the item detail API and page, bulk actions on a selection and
on "all matching the filter" (a worker), the export of a selection, gold from the UI, external ids."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.items.manager_models import ItemBulkAction
from annotation.models import Item
from core.models import AuditEvent
from quality.models import ConsensusResult, GoldStandard
from tests.annotation.workflow_kit import make_lab
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _label_all(lab, users, label="positive"):
    """Each of `users` takes and submits every item it is served."""
    for user in users:
        while True:
            task = lab.client(user).post(lab.url("queue/next/")).json()
            if not task.get("assignment"):
                break
            assignment = task["assignment"]["id"]
            assert lab.submit(user, assignment, label).status_code == 201


def _consensus(lab, item, answer="positive", confidence=0.9):
    ConsensusResult.objects.create(
        project=lab.project, item=item, control="sentiment", method="majority", method_version="1",
        answer=answer, confidence=confidence, agreement=1.0, annotations=2,
    )  # fmt: skip


# --- the item detail ------------------------------------------------------------------------------------


def test_item_detail_shows_annotations_side_by_side_with_consensus_and_key(people):
    lab = make_lab(people, overlap=2, annotators=2, items=1)
    item = lab.items[0]
    Item.objects.filter(pk=item.pk).update(external_id="review-17")
    _label_all(lab, lab.annotators[:2])
    _consensus(lab, item)

    response = lab.client(people.manager).get(lab.url(f"items/{item.id}/detail/"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["key"] == "review-17"
    assert [a["annotator"]["name"] for a in body["annotations"]] == ["annotator", "annotator2"]
    assert all(a["text"] == {"sentiment": "positive"} and a["revision"] == 1 for a in body["annotations"])
    assert body["consensus"][0]["text"] == "positive" and body["consensus"][0]["confidence"] == 0.9
    assert len(body["revisions"]) == 2
    assert body["gold"] is None


@pytest.mark.parametrize(("role", "status"), [("annotator", 403), ("org_member", 404), ("outsider", 404)])
def test_item_detail_is_refused_to_others(people, role, status):
    lab = make_lab(people, items=1)

    response = lab.client(people.by_role(role)).get(lab.url(f"items/{lab.items[0].id}/detail/"))

    assert response.status_code == status
    assert response.json()["code"] in {"permission_denied", "not_found"}


def test_item_of_another_project_is_404(people):
    lab = make_lab(people, items=1)
    other = make_items(people.other_project, "elsewhere")[0]

    response = lab.client(people.manager).get(lab.url(f"items/{other.id}/detail/"))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_reviewers_see_that_an_item_is_gold_but_not_its_answer(people):
    lab = make_lab(people, items=1)
    item = lab.items[0]
    assert (
        lab.client(people.manager)
        .put(lab.url(f"gold/{item.id}/"), {"result": {"sentiment": "negative"}}, format="json")
        .status_code
        == 200
    )

    manager = lab.client(people.manager).get(lab.url(f"items/{item.id}/detail/")).json()
    reviewer = lab.client(people.reviewer).get(lab.url(f"items/{item.id}/detail/")).json()

    assert manager["gold"]["result"] == {"sentiment": "negative"}
    assert reviewer["is_gold"] is True and "result" not in reviewer["gold"]
    assert any(e["action"] == "gold.set" for e in manager["events"])


def test_item_detail_queries_do_not_grow_with_annotations(people):
    lab = make_lab(people, overlap=2, annotators=2, items=2)
    _label_all(lab, lab.annotators[:2])
    few = lab.items[0]
    lab2_users = lab.annotators  # a third and fourth annotation on the second item
    Item.objects.filter(pk=lab.items[1].pk).update(target=4, state="open")
    from projects.models import ProjectMembership
    from tests.factories import ProjectMembershipFactory, UserFactory

    for i in (3, 4):
        lab2_users.append(
            ProjectMembershipFactory(
                project=lab.project,
                user=UserFactory(username=f"extra{i}"),
                role=ProjectMembership.Role.ANNOTATOR,
            ).user
        )
    _label_all(lab, lab2_users[2:])
    many = lab.items[1]
    assert many.annotations.count() == 4 and few.annotations.count() == 2
    client = lab.client(people.manager)

    with CaptureQueriesContext(connection) as small:
        assert client.get(lab.url(f"items/{few.id}/detail/")).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert client.get(lab.url(f"items/{many.id}/detail/")).status_code == 200

    assert len(large) == len(small)


def test_item_page_renders_for_managers_and_links_from_the_data_tab(people, page_for):
    lab = make_lab(people, overlap=2, annotators=2, items=1)
    item = lab.items[0]
    Item.objects.filter(pk=item.pk).update(external_id="ext-<1>")
    _label_all(lab, lab.annotators[:2])
    _consensus(lab, item)
    client = page_for(people.manager)

    data = client.get(f"/projects/{lab.project.id}/data/").content.decode()
    page = client.get(f"/projects/{lab.project.id}/items/{item.id}/")

    assert f'href="/projects/{lab.project.id}/items/{item.id}/"' in data
    assert "ext-&lt;1&gt;" in data
    assert page.status_code == 200
    text = page.content.decode()
    assert "Annotations side by side" in text and "Set as gold from consensus" in text
    assert "confidence 0.90" in text
    # Issue #16 walk: the breadcrumb names the item by its external id, not its internal number.
    crumbs = text.split('class="muted small crumbs"><a href="/projects/', 2)[-1].split("</p>", 1)[0]
    assert "#items" in crumbs
    assert "ext-&lt;1&gt;" in crumbs and f"item {item.id}" not in crumbs


def test_set_as_gold_from_consensus_in_one_click(people, page_for):
    lab = make_lab(people, items=1)
    item = lab.items[0]
    _consensus(lab, item, "neutral")

    response = page_for(people.manager).post(f"/projects/{lab.project.id}/items/{item.id}/gold/promote/")

    assert response.status_code == 302
    gold = GoldStandard.objects.get(item=item)
    assert gold.result == {"sentiment": "neutral"} and gold.source == "consensus"
    assert Item.objects.get(pk=item.pk).is_gold


def test_gold_authoring_page_is_for_managers(people, page_for):
    lab = make_lab(people, items=1)
    url = f"/projects/{lab.project.id}/items/{lab.items[0].id}/gold/"

    assert page_for(people.manager).get(url).status_code == 200
    assert page_for(people.reviewer).get(url).status_code == 403
    assert page_for(people.outsider).get(url).status_code == 404


# --- bulk actions ---------------------------------------------------------------------------------------


def _bulk(lab, user, **body):
    return lab.client(user).post(lab.url("items-bulk/"), body, format="json")


def test_bulk_split_on_a_selection_runs_inline_and_is_audited(people):
    lab = make_lab(people, items=4)
    other = make_items(people.other_project, "not yours")[0]
    ids = [lab.items[0].id, lab.items[1].id, other.id]

    response = _bulk(lab, people.manager, action="split", value="test", item_ids=ids)

    assert response.status_code == 200, response.content
    assert response.json()["changed"] == 2 and response.json()["status"] == "succeeded"
    assert sorted(Item.objects.filter(split="test").values_list("id", flat=True)) == ids[:2]
    assert Item.objects.get(pk=other.id).split == ""
    assert AuditEvent.objects.filter(action="items.bulk_split", project_id=lab.project.id).exists()


def test_bulk_on_all_matching_the_filter_runs_in_the_worker(people, django_capture_on_commit_callbacks):
    lab = make_lab(people, items=6)
    Item.objects.filter(pk__in=[i.id for i in lab.items[:4]]).update(split="train")

    with django_capture_on_commit_callbacks(execute=True):
        response = _bulk(lab, people.manager, action="priority", value=7, filters={"split": "train"})

    assert response.status_code == 202, response.content
    bulk = ItemBulkAction.objects.get(pk=response.json()["id"])
    assert bulk.status == "succeeded" and bulk.matched == 4 and bulk.changed == 4
    assert Item.objects.filter(project=lab.project, priority=7).count() == 4
    status = lab.client(people.manager).get(lab.url(f"items-bulk/{bulk.id}/")).json()
    assert status["matched"] == 4


def test_bulk_gold_from_consensus_skips_items_without_one(people):
    lab = make_lab(people, items=3)
    _consensus(lab, lab.items[0], "negative")

    response = _bulk(lab, people.manager, action="gold", item_ids=[i.id for i in lab.items])

    assert response.json()["changed"] == 1 and response.json()["skipped"] == 2
    assert GoldStandard.objects.get(item=lab.items[0]).result == {"sentiment": "negative"}
    assert list(Item.objects.filter(project=lab.project, is_gold=True).values_list("id", flat=True)) == [
        lab.items[0].id
    ]


def test_bulk_exclude_and_requeue(people):
    lab = make_lab(people, items=2)
    ids = [i.id for i in lab.items]

    assert _bulk(lab, people.manager, action="exclude", item_ids=ids).json()["changed"] == 2
    assert Item.objects.filter(pk__in=ids, excluded=True).count() == 2
    assert _bulk(lab, people.manager, action="requeue", item_ids=ids).json()["changed"] == 2
    assert Item.objects.filter(pk__in=ids, excluded=False).count() == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "split", "value": "bad name", "item_ids": [1]}, "invalid_split_name"),
        ({"action": "priority", "value": "high", "item_ids": [1]}, "invalid_priority"),
        ({"action": "explode", "item_ids": [1]}, "invalid"),
        ({"action": "exclude"}, "invalid_selection"),
        ({"action": "exclude", "filters": {"state": "nope"}}, "invalid_filter"),
        ({"action": "exclude", "filters": {"colour": "red"}}, "invalid_filter"),
    ],
)
def test_bad_bulk_input_is_400_with_a_code_and_changes_nothing(people, body, code):
    lab = make_lab(people, items=2)

    response = _bulk(lab, people.manager, **body)

    assert response.status_code == 400
    assert response.json()["code"].startswith(code)
    assert not ItemBulkAction.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("reviewer", 403), ("annotator", 403), ("outsider", 404)])
def test_bulk_actions_are_for_managers(people, role, status):
    lab = make_lab(people, items=1)

    response = _bulk(lab, people.by_role(role), action="exclude", item_ids=[lab.items[0].id])

    assert response.status_code == status
    assert not Item.objects.filter(excluded=True).exists()


def test_export_a_selection_as_json_lines(people):
    lab = make_lab(people, items=3)
    Item.objects.filter(pk=lab.items[1].pk).update(external_id="b-2")

    response = lab.client(people.manager).get(
        lab.url(f"items-export/?ids={lab.items[1].id},{lab.items[2].id}")
    )

    assert response.status_code == 200
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert lines[0]["key"] == "b-2" and len(lines) == 2


def test_data_tab_bulk_form_marks_a_split_for_all_matching(
    people, page_for, django_capture_on_commit_callbacks
):
    lab = make_lab(people, items=5)
    Item.objects.filter(pk__in=[i.id for i in lab.items[:3]]).update(priority=2)
    client = page_for(people.manager)
    # The filter the page shows is carried by the form; "all matching" applies it.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{lab.project.id}/data/bulk/",
            {"filter_query": "q=headline", "scope": "matching", "action": "split", "value": "validation"},
        )

    assert response.status_code == 302
    assert Item.objects.filter(project=lab.project, split="validation").count() == 5


def test_data_tab_columns_and_gold_filter(people, page_for):
    lab = make_lab(people, items=3)
    Item.objects.filter(pk=lab.items[0].pk).update(is_gold=True, external_id="gold-one")
    client = page_for(people.manager)

    page = client.get(
        f"/projects/{lab.project.id}/data/?gold=true&cols=annotations&cols=agreement&cols=data.text"
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "gold-one" in text and lab.items[1].data["text"] not in text.split('id="item-table"')[1]
    assert '<th scope="col">Agreement</th>' in text and '<th scope="col">data.text</th>' in text


def test_data_tab_queries_do_not_grow_with_rows(people, page_for):
    lab = make_lab(people, items=2)
    client = page_for(people.manager)
    url = f"/projects/{lab.project.id}/data/?cols=agreement&cols=state"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    make_items(lab.project, *[f"more {i}" for i in range(30)])
    client.get(url)
    with CaptureQueriesContext(connection) as large:
        client.get(url)

    assert len(large) == len(small)


# --- external ids where items are listed ----------------------------------------------------------------


def test_gold_page_takes_an_external_id_and_lists_items_by_key(people, page_for):
    lab = make_lab(people, items=2)
    item = lab.items[1]
    Item.objects.filter(pk=item.pk).update(external_id="case-42")
    client = page_for(people.manager)
    url = f"/projects/{lab.project.id}/quality/gold/"

    response = client.post(url, {"item": "case-42", "result": '{"sentiment": "negative"}', "action": "set"})

    assert response.status_code == 302
    assert GoldStandard.objects.get(item=item).result == {"sentiment": "negative"}
    page = client.get(url).content.decode()
    assert f'href="/projects/{lab.project.id}/items/{item.id}/"><strong>case-42</strong>' in page


def test_quality_report_names_flagged_gold_items_by_key(people):
    from quality.api import _with_item_keys

    lab = make_lab(people, items=1)
    item = lab.items[0]
    Item.objects.filter(pk=item.pk).update(external_id="g-1")
    report = {"gold": {"flagged": [{"item_id": item.id, "control": "sentiment"}]}}

    flagged = _with_item_keys(lab.project, report, viewer=people.manager)["gold"]["flagged"][0]

    assert flagged["item_key"] == "g-1"
    assert flagged["item_url"] == f"/projects/{lab.project.id}/items/{item.id}/"


def test_bulk_escalate_stops_at_the_projects_limit_and_counts_the_rest_as_skipped(people):
    lab = make_lab(people, items=2, max_escalation=1)
    ids = [i.id for i in lab.items]

    first = _bulk(lab, people.manager, action="escalate", item_ids=ids).json()
    second = _bulk(lab, people.manager, action="escalate", item_ids=ids).json()

    assert (first["changed"], first["skipped"]) == (2, 0)
    assert (second["changed"], second["skipped"]) == (0, 2)
    assert set(Item.objects.filter(pk__in=ids).values_list("target", flat=True)) == {2}


def test_bulk_actions_refuse_an_archived_project(people):
    from projects import services

    lab = make_lab(people, items=1)
    services.project_archive(project=lab.project, actor=people.manager)

    response = _bulk(lab, people.manager, action="exclude", item_ids=[lab.items[0].id])

    assert response.status_code == 409
    assert response.json()["code"] == "project_archived"
