"""Shared fixtures. `people` builds one organisation with a project and a person in every role."""

import os
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from projects.models import OrganisationMembership, ProjectMembership

from .factories import (
    OrganisationFactory,
    OrganisationMembershipFactory,
    ProjectFactory,
    ProjectMembershipFactory,
    UserFactory,
)

pytest_plugins = ["tests.s3"]  # s3_endpoint / s3_storage fixtures

REQUIRE_SERVICES = os.environ.get("TESSERA_REQUIRE_SERVICES") == "1"


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"tessera: database={db['ENGINE'].rsplit('.', 1)[-1]} redis={'yes' if settings.REDIS_URL else 'no'} "
        f"require_services={REQUIRE_SERVICES}"
    ]


@dataclass
class People:
    """One organisation, one project in it, and a person for each role (plus an outsider elsewhere)."""

    organisation: object
    project: object
    org_admin: object
    manager: object
    reviewer: object
    annotator: object
    org_member: object  # in the organisation, with no role in the project
    outsider: object  # admin of another organisation
    other_organisation: object
    other_project: object

    def by_role(self, role: str):
        return getattr(self, role)


ROLES = ["org_admin", "manager", "reviewer", "annotator", "org_member", "outsider"]


@pytest.fixture
def people(db) -> People:
    organisation = OrganisationFactory(name="Acme Research", slug="acme")
    project = ProjectFactory(organisation=organisation, name="Reviews")
    users = {
        name: UserFactory(username=name)
        for name in ["org_admin", "manager", "reviewer", "annotator", "org_member"]
    }
    OrganisationMembershipFactory(
        organisation=organisation, user=users["org_admin"], role=OrganisationMembership.Role.ADMIN
    )
    for name in ["manager", "reviewer", "annotator", "org_member"]:
        OrganisationMembershipFactory(organisation=organisation, user=users[name])
    for name, role in [("manager", "manager"), ("reviewer", "reviewer"), ("annotator", "annotator")]:
        ProjectMembershipFactory(project=project, user=users[name], role=ProjectMembership.Role(role))
    other_organisation = OrganisationFactory(name="Globex", slug="globex")
    outsider = UserFactory(username="outsider")
    OrganisationMembershipFactory(
        organisation=other_organisation, user=outsider, role=OrganisationMembership.Role.ADMIN
    )
    other_project = ProjectFactory(organisation=other_organisation, name="Globex secrets")
    ProjectMembershipFactory(project=other_project, user=outsider, role=ProjectMembership.Role.MANAGER)
    return People(
        organisation=organisation,
        project=project,
        outsider=outsider,
        other_organisation=other_organisation,
        other_project=other_project,
        **users,
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """An APIClient authenticated with a real API token of `user` (the way ML teams call the API)."""

    def make(user) -> APIClient:
        _, key = api_token_create(user=user, name=f"test-{user.pk}-{os.urandom(4).hex()}")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make


@pytest.fixture
def page_for():
    """A Django test client signed in as `user` (server-rendered pages)."""
    from django.test import Client

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
