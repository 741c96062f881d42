"""The quality API: who may read what, the report and its CSV tables, recompute, gold endpoints."""

import csv
import io

import pytest

from annotation.models import Item
from quality import services
from quality.models import GoldStandard
from tests.annotation.workflow_kit import make_lab
from tests.quality.test_quality_service import label_everything, pattern

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(people):
    lab = make_lab(people, overlap=3, annotators=3, items=6)
    label_everything(lab, pattern)
    return lab


def test_no_report_yet_is_a_clear_404(people):
    lab = make_lab(people, overlap=1, annotators=1, items=1)
    response = lab.client(people.manager).get(lab.url("quality/"))
    assert response.status_code == 404 and response.json()["code"] == "no_report"


def test_managers_and_reviewers_read_the_report_annotators_and_outsiders_do_not(lab, people):
    services.quality_compute(project_id=lab.project.id, full=True)
    for user in (people.manager, people.reviewer):
        response = lab.client(user).get(lab.url("quality/"))
        assert response.status_code == 200
        assert response.json()["controls"][0]["name"] == "sentiment"
    assert lab.client(people.annotator).get(lab.url("quality/")).status_code == 403
    assert lab.client(people.outsider).get(lab.url("quality/")).status_code == 404
    assert lab.client(people.outsider).get(lab.url("quality/tables/annotators.csv")).status_code == 404


def test_history_status_and_every_csv_table(lab, people):
    services.quality_compute(project_id=lab.project.id, full=True)
    services.quality_recompute(project_id=lab.project.id)  # the job: takes the pending flag, incremental
    client = lab.client(people.manager)
    points = client.get(lab.url("quality/history/")).json()["points"]
    assert [p["control"] for p in points] == ["sentiment", "sentiment"]
    assert points[0]["run_id"] < points[1]["run_id"]
    status = client.get(lab.url("quality/status/")).json()
    assert status["pending"] is False and status["last_run"]["kind"] == "incremental"
    for table in (
        "annotators",
        "pairs",
        "labels",
        "confusion",
        "slices",
        "gold",
        "models",
        "history",
        "agreement",
    ):
        response = client.get(lab.url(f"quality/tables/{table}.csv"))
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][0] in {"id", "control", "key", "item_id", "model", "run_id"}
    annotators = list(
        csv.DictReader(io.StringIO(client.get(lab.url("quality/tables/annotators.csv")).content.decode()))
    )
    assert sorted(row["username"] for row in annotators) == sorted(u.username for u in lab.annotators)
    assert client.get(lab.url("quality/tables/secrets.csv")).status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(lab, people):
    user = lab.annotators[1]
    user.username = "=HYPERLINK(evil)"
    user.save()
    services.quality_compute(project_id=lab.project.id, full=True)
    body = lab.client(people.manager).get(lab.url("quality/tables/annotators.csv")).content.decode()
    assert "'=HYPERLINK(evil)" in body and "\n=HYPERLINK" not in body


def test_recompute_is_for_managers_and_queues_a_full_run(lab, people, django_capture_on_commit_callbacks):
    services.quality_recompute(project_id=lab.project.id)  # the job the submissions scheduled has run
    assert lab.client(people.reviewer).post(lab.url("quality/recompute/")).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = lab.client(people.manager).post(lab.url("quality/recompute/"))
    assert response.status_code == 202
    report = lab.client(people.manager).get(lab.url("quality/")).json()
    assert report["run"]["kind"] == "full" and report["run"]["seen"]["annotations"] == 18


def test_gold_endpoints(lab, people):
    client = lab.client(people.manager)
    item = lab.items[0]
    bad = client.put(lab.url(f"gold/{item.id}/"), {"result": {"sentiment": "ecstatic"}}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_annotation"
    assert not GoldStandard.objects.exists() and not Item.objects.get(pk=item.id).is_gold
    assert (
        client.put(lab.url(f"gold/{item.id}/"), {"result": {}, "extra": 1}, format="json").status_code == 400
    )
    assert (
        client.put(lab.url("gold/999999/"), {"result": {"sentiment": "positive"}}, format="json").status_code
        == 404
    )

    made = client.put(lab.url(f"gold/{item.id}/"), {"result": {"sentiment": "positive"}}, format="json")
    assert made.status_code == 200 and made.json()["source"] == "manual"
    assert Item.objects.get(pk=item.id).is_gold
    listed = client.get(lab.url("gold/")).json()["results"]
    assert [(g["item"], g["result"]) for g in listed] == [(item.id, {"sentiment": "positive"})]
    assert lab.client(people.reviewer).get(lab.url("gold/")).status_code == 403

    services.quality_compute(project_id=lab.project.id, full=True)
    promoted = client.post(lab.url(f"gold/{lab.items[1].id}/promote/"))
    assert promoted.status_code == 200 and promoted.json()["source"] == "consensus"

    assert client.delete(lab.url(f"gold/{item.id}/")).status_code == 204
    assert not Item.objects.get(pk=item.id).is_gold
    assert client.delete(lab.url(f"gold/{item.id}/")).status_code == 404


def test_dashboard_page_access(lab, people, page_for):
    url = f"/projects/{lab.project.id}/quality/"
    assert page_for(people.manager).get(url).status_code == 200
    assert page_for(people.reviewer).get(url).status_code == 200
    assert page_for(people.outsider).get(url).status_code == 404
    assert page_for(people.annotator).get(url).status_code in (403, 404)


def test_gold_page_sets_promotes_and_unmarks_and_shows_every_problem(lab, people, page_for):
    url = f"/projects/{lab.project.id}/quality/gold/"
    page = page_for(people.manager)
    assert page_for(people.reviewer).get(url).status_code == 403
    assert page_for(people.outsider).get(url).status_code == 404
    item = lab.items[0]

    bad = page.post(url, {"item": item.id, "result": '{"sentiment": "<b>ecstatic</b>"}', "action": "set"})
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "does not fit" in body or "invalid" in body.lower()
    assert "<b>ecstatic</b>" not in body  # escaped wherever it is echoed
    assert not GoldStandard.objects.exists()
    assert page.post(url, {"item": item.id, "result": "{not json", "action": "set"}).status_code == 200
    assert not GoldStandard.objects.exists()

    ok = page.post(url, {"item": item.id, "result": '{"sentiment": "negative"}', "action": "set"})
    assert ok.status_code == 302
    assert GoldStandard.objects.get(item=item).result == {"sentiment": "negative"}
    listing = page.get(url).content.decode()
    assert f"#{item.id}" in listing and "&quot;negative&quot;" in listing

    services.quality_compute(project_id=lab.project.id, full=True)
    assert page.post(url, {"item": lab.items[1].id, "action": "promote"}).status_code == 302
    assert GoldStandard.objects.get(item=lab.items[1]).source == "consensus"

    assert page.post(url, {"item": item.id, "action": "remove"}).status_code == 302
    assert not GoldStandard.objects.filter(item=item).exists() and not Item.objects.get(pk=item.id).is_gold


def test_quality_settings_page_saves_methods_and_knobs_and_refuses_bad_values(lab, people, page_for):
    from projects.quality_settings import quality_settings

    url = f"/projects/{lab.project.id}/quality/settings/"
    page = page_for(people.manager)
    assert page_for(people.reviewer).get(url).status_code == 403
    assert page_for(people.outsider).get(url).status_code == 404
    body = page.get(url).content.decode()
    assert 'name="method_sentiment"' in body and "dawid_skene" in body and "mace" in body
    form = {
        "method_sentiment": "majority",
        "gold_rate": "0.1",
        "escalate_below": "",
        "min_gold_accuracy": "0.8",
        "min_gold_answers": "3",
        "new_annotator_gold_answers": "10",
        "gold_boost": "2",
        "flag_gold_failure_rate": "0.6",
        "flag_gold_min_answers": "3",
    }
    for bad in (
        {"min_gold_accuracy": "1.5"},
        {"min_gold_answers": "many"},
        {"method_sentiment": "astrology"},
    ):
        response = page.post(url, {**form, **bad})
        assert response.status_code == 200, bad
        lab.project.refresh_from_db()
        assert "quality" not in (lab.project.settings or {})  # nothing saved
    assert page.post(url, form).status_code == 302
    lab.project.refresh_from_db()
    knobs = quality_settings(lab.project)
    assert knobs.methods == {"sentiment": "majority"} and knobs.min_gold_accuracy == 0.8
    assert knobs.escalate_below is None and knobs.auto_pause is False and knobs.min_gold_answers == 3
    assert lab.project.settings["labeling"]["gold_rate"] == 0.1
