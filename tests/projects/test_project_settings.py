"""Project settings over the API: PATCH is a JSON merge patch (RFC 7396), unknown keys and wrong
types are refused, the defaults let a project finish, and the response lists what would keep work
from finishing."""

import pytest

from annotation.models import Item
from projects import services
from projects.labeling import DEFAULT_GOLD_RATE, effective_gold_rate, labeling_settings
from projects.models import Project, ProjectMembership
from projects.project_settings import merge_patch
from tests.factories import ProjectMembershipFactory, UserFactory, make_items

pytestmark = pytest.mark.django_db


def url(project) -> str:
    return f"/api/projects/{project.id}/"


@pytest.fixture
def manager_api(people):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(people.manager)
    return client


def test_merge_patch_follows_rfc_7396_appendix_a():
    # A selection of RFC 7396's examples (Appendix A).
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_patch_merges_settings_and_keeps_the_quality_block(people, manager_api):
    services.project_update(
        project=people.project,
        actor=people.manager,
        settings={
            "quality": {"escalate_below": 0.4, "auto_pause": False},
            "labeling": {"lease_seconds": 300},
        },
    )

    response = manager_api.patch(
        url(people.project), {"settings": {"labeling": {"review_fraction": 0.2}}}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["settings"] == {
        "quality": {"escalate_below": 0.4, "auto_pause": False},
        "labeling": {"lease_seconds": 300, "review_fraction": 0.2},
    }
    # null removes a key: back to its default
    response = manager_api.patch(
        url(people.project), {"settings": {"quality": {"auto_pause": None}, "labeling": None}}, format="json"
    )
    assert response.json()["settings"] == {"quality": {"escalate_below": 0.4}}
    assert Project.objects.get(pk=people.project.pk).settings == {"quality": {"escalate_below": 0.4}}


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"labelling": {}}, "settings.labelling"),
        ({"labeling": {"reveiw_fraction": 0.5}}, "settings.labeling.reveiw_fraction"),
        ({"quality": {"controls": {"why": {"count": True}}}}, "settings.quality.controls.why.count"),
    ],
)
def test_unknown_settings_are_refused_by_name(people, manager_api, patch, key):
    before = Project.objects.get(pk=people.project.pk).settings

    response = manager_api.patch(url(people.project), {"settings": patch}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_setting" and body["key"] == key and key in body["detail"]
    assert Project.objects.get(pk=people.project.pk).settings == before


@pytest.mark.parametrize(
    "patch",
    [
        {"labeling": {"review_fraction": "lots"}},
        {"labeling": {"max_escalation": 2.5}},
        {"labeling": []},
        {"quality": {"auto_pause": "yes"}},
        {"quality": {"controls": {"why": {"counts": "yes"}}}},
    ],
)
def test_wrong_types_are_refused(people, manager_api, patch):
    response = manager_api.patch(url(people.project), {"settings": patch}, format="json")

    assert response.status_code == 400 and response.json()["code"] == "invalid_settings"
    assert Project.objects.get(pk=people.project.pk).settings == {}


def test_defaults_sample_for_review_and_serve_gold_once_there_is_gold(people):
    knobs = labeling_settings(people.project)

    assert knobs.review_fraction == 0.1
    assert knobs.gold_rate is None and effective_gold_rate(knobs) == DEFAULT_GOLD_RATE == 0.1


def warning_codes(manager_api, project) -> list[str]:
    return [w["code"] for w in manager_api.get(url(project)).json()["warnings"]]


def test_warnings_say_what_keeps_work_from_finishing(people, manager_api):
    project = people.project
    services.project_update(project=project, actor=people.manager, overlap=2)

    # one annotator, overlap 2: nothing can finish
    assert warning_codes(manager_api, project) == ["overlap_exceeds_annotators"]
    warning = manager_api.get(url(project)).json()["warnings"][0]
    assert warning["setting"] == "overlap" and "1 active annotator" in warning["message"]

    ProjectMembershipFactory(project=project, user=UserFactory(username="second"), role="annotator")
    # two annotators, overlap 2, escalation on by default: nobody spare to escalate to
    assert warning_codes(manager_api, project) == ["no_spare_annotator"]

    manager_api.patch(url(project), {"settings": {"quality": {"escalate_below": 0}}}, format="json")
    assert warning_codes(manager_api, project) == []

    response = manager_api.patch(url(project), {"settings": {"labeling": {"gold_rate": 0.2}}}, format="json")
    assert [w["code"] for w in response.json()["warnings"]] == ["gold_rate_without_gold"]
    make_items(project, {"text": "gold", "is_gold": True})
    assert warning_codes(manager_api, project) == []

    ProjectMembership.objects.filter(project=project, user__username="second").update(
        paused_at="2026-01-01T00:00Z"
    )
    assert warning_codes(manager_api, project) == ["overlap_exceeds_annotators"]
    assert Item.objects.filter(project=project).count() == 1
