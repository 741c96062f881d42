"""The project settings area (issue #16 item 3) and the per-member overrides of the Members tab."""

import dataclasses
import re

import pytest

from core.models import AuditEvent
from projects.labeling import LabelingSettings
from projects.models import ProjectMembership
from projects.privacy_settings import PrivacySettings
from projects.quality_settings import QualitySettings
from projects.release_policy import ReleasePolicy
from projects.retention_settings import RetentionSettings
from projects.services import schema_version_create
from projects.settings_pages import levers as lv


def test_the_page_covers_every_setting():
    every = (
        {f"labeling.{f.name}" for f in dataclasses.fields(LabelingSettings)}
        | {f"quality.{f.name}" for f in dataclasses.fields(QualitySettings)}
        | {f"privacy.{f.name}" for f in dataclasses.fields(PrivacySettings)}
        | {f"release.{f.name}" for f in dataclasses.fields(ReleasePolicy)}
        | {f"retention.{f.name}" for f in dataclasses.fields(RetentionSettings)}
    )
    assert lv.all_settings() == every
    assert every == lv.catalogued_settings()
    assert all(lever.help.endswith((".", ")")) and lever.label for lever in lv.LEVERS)


def test_unchanged_form_is_an_empty_patch_and_an_emptied_field_goes_back_to_default():
    stored = {"labeling": {"review_fraction": 0.3}}
    current = lv.current_values(stored, 2)
    post = {lever.name: lv.display(lever, current[lever.name]) for lever in lv.LEVERS}
    post = {name: value for name, value in post.items() if value != "" or lv.BY_NAME[name].kind != "bool"}
    changes, errors = lv.form_to_patch(post, stored, 2)
    assert (changes, errors) == ({}, {})
    post["labeling.review_fraction"] = ""
    post["labeling.lease_seconds"] = "120"
    changes, errors = lv.form_to_patch(post, stored, 2)
    assert errors == {}
    assert changes == {"settings_patch": {"labeling": {"review_fraction": None, "lease_seconds": 120}}}


def test_bad_values_are_errors_by_field():
    _changes, errors = lv.form_to_patch(
        {"labeling.review_fraction": "lots", "labeling.lease_seconds": "5", "labeling.ordering": "x"}, {}, 1
    )
    assert set(errors) == {"labeling.review_fraction", "labeling.lease_seconds", "labeling.ordering"}


@pytest.mark.parametrize(
    "role,status",
    [("manager", 200), ("org_admin", 200), ("reviewer", 403), ("annotator", 403), ("outsider", 404)],
)
def test_settings_page_access(people, page_for, role, status):
    response = page_for(people.by_role(role)).get(f"/projects/{people.project.id}/settings/")
    assert response.status_code == status


def test_page_shows_groups_defaults_and_warnings(people, page_for):
    people.project.overlap = 3
    people.project.save()
    html = page_for(people.manager).get(f"/projects/{people.project.id}/settings/").content.decode()
    for title in ("Labeling", "Review", "Quality", "Gold", "Members"):
        assert f">{title}</h2>" in html
    assert 'data-code="overlap_exceeds_annotators"' in html
    assert 'Default: <span class="setting-default">0.1</span> (in use)' in html  # review sampling
    # Issue #16 walk: a bare <input> missed the stylesheet's input[type=text] rule (raw browser boxes).
    assert re.findall(r"<input(?![^>]*\btype=)[^>]*>", html) == []


def test_saving_merges_only_the_changes_and_is_audited(people, page_for):
    project = people.project
    project.settings = {"quality": {"auto_pause": False}}
    project.save()
    client = page_for(people.manager)
    page = client.get(f"/projects/{project.id}/settings/")
    response = client.post(
        f"/projects/{project.id}/settings/",
        {
            "labeling.review_fraction": "0.25",
            "overlap": "1",
            "expected_updated_at": page.context["expected_updated_at"],
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.settings == {"quality": {"auto_pause": False}, "labeling": {"review_fraction": 0.25}}
    assert AuditEvent.objects.filter(project_id=project.id, action="project.updated").exists()


def test_invalid_value_is_shown_next_to_its_field_and_changes_nothing(people, page_for):
    project = people.project
    response = page_for(people.manager).post(
        f"/projects/{project.id}/settings/", {"labeling.review_fraction": "2", "overlap": "1"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="setting-labeling-review-fraction-error"' in html
    project.refresh_from_db()
    assert project.settings == {}


def test_service_error_lands_next_to_the_field(people, page_for):
    response = page_for(people.manager).post(f"/projects/{people.project.id}/settings/", {"overlap": "500"})
    assert response.status_code == 400
    assert 'id="setting-overlap-error"' in response.content.decode()


def test_controls_that_count_are_stored_only_when_changed(people, page_for):
    project = people.project
    schema_version_create(
        project=project,
        actor=people.manager,
        definition={
            "version": 1,
            "fields": [{"name": "text", "type": "text", "source": "text"}],
            "controls": [
                {"name": "label", "type": "single_choice", "field": "text", "labels": [{"value": "a"}]},
                {"name": "why", "type": "text", "field": "text"},
            ],
        },
    )
    client = page_for(people.manager)
    on = {"quality.auto_pause": "on", "overlap": "1"}  # a browser posts the checked boxes
    client.post(f"/projects/{project.id}/settings/", {"counts.label": "on", **on})
    project.refresh_from_db()
    assert "quality" not in project.settings  # nothing changed from the defaults
    client.post(f"/projects/{project.id}/settings/", {"counts.label": "on", "counts.why": "on", **on})
    project.refresh_from_db()
    assert project.settings["quality"]["controls"] == {"why": {"counts": True}}


def test_reviewer_cannot_post_settings(people, page_for):
    response = page_for(people.reviewer).post(f"/projects/{people.project.id}/settings/", {"overlap": "2"})
    assert response.status_code == 403


def _membership(people, who):
    return ProjectMembership.objects.get(project=people.project, user=getattr(people, who))


def test_manager_sets_member_overrides_and_pauses_and_resumes(people, page_for):
    member = _membership(people, "annotator")
    client = page_for(people.manager)
    url = f"/projects/{people.project.id}/members/{member.id}/overrides/"
    assert client.post(url, {"quota": "7", "gold_rate": "0.2", "groups": "night, day"}).status_code == 302
    member.refresh_from_db()
    assert (member.quota, member.gold_rate, member.groups) == (7, 0.2, ["day", "night"])
    client.post(url, {"action": "pause", "reason": "Re-read the guidelines"})
    member.refresh_from_db()
    assert member.paused_at is not None and member.paused_reason == "Re-read the guidelines"
    client.post(url, {"action": "resume"})
    member.refresh_from_db()
    assert member.paused_at is None
    actions = set(AuditEvent.objects.filter(project_id=people.project.id).values_list("action", flat=True))
    assert "project_member.workflow_changed" in actions
    html = client.get(f"/projects/{people.project.id}/members/").content.decode()
    assert 'id="member-overrides"' in html and 'value="7"' in html


def test_bad_override_is_refused_with_a_message(people, page_for):
    member = _membership(people, "annotator")
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/members/{member.id}/overrides/", {"gold_rate": "3"}, follow=True
    )
    assert "A gold rate is between 0 and 1" in response.content.decode()
    member.refresh_from_db()
    assert member.gold_rate is None


@pytest.mark.parametrize("role,status", [("reviewer", 403), ("annotator", 403), ("outsider", 404)])
def test_only_managers_set_overrides(people, page_for, role, status):
    member = _membership(people, "annotator")
    response = page_for(people.by_role(role)).post(
        f"/projects/{people.project.id}/members/{member.id}/overrides/", {"quota": "1"}
    )
    assert response.status_code == status
    member.refresh_from_db()
    assert member.quota is None


def test_member_of_another_project_is_not_found(people, page_for):
    other = ProjectMembership.objects.get(project=people.other_project)
    response = page_for(people.manager).post(
        f"/projects/{people.project.id}/members/{other.id}/overrides/", {"quota": "1"}
    )
    assert response.status_code == 404


def test_personal_data_settings_from_the_page(people, client):
    client.force_login(people.manager)
    url = f"/projects/{people.project.id}/settings/"
    page = client.get(url).content.decode()
    assert 'id="settings-privacy"' in page and "Annotators see placeholders" in page
    form = {
        "expected_updated_at": people.project.updated_at.isoformat(),
        "privacy.mask_for_annotators": "on",
        "privacy.release_policy": "mask",
        "privacy.default_region": "de",
        "privacy.patterns": "EMPLOYEE_ID = EMP-\\d{6}",
        "privacy.word_lists": "CLIENT = Acme, Globex",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    people.project.refresh_from_db()
    assert people.project.settings["privacy"] == {
        "mask_for_annotators": True,
        "release_policy": "mask",
        "default_region": "DE",
        "patterns": [{"name": "EMPLOYEE_ID", "pattern": "EMP-\\d{6}"}],
        "word_lists": [{"name": "CLIENT", "words": ["Acme", "Globex"]}],
    }
    people.project.refresh_from_db()
    bad = client.post(
        url,
        {
            **form,
            "expected_updated_at": people.project.updated_at.isoformat(),
            "privacy.patterns": "BAD = (x",
        },
    )
    assert bad.status_code == 400
    assert "not a valid regular expression" in bad.content.decode()
