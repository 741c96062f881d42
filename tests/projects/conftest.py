"""Fixtures of the projects tests."""

import pytest


@pytest.fixture
def manager_api(people, client_for):
    return client_for(people.manager)


@pytest.fixture
def admin_api(people, client_for):
    return client_for(people.org_admin)
