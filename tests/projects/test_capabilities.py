"""project_capabilities: what a user may do in a project, from the permission table, computed once."""

import pytest

from projects import access
from projects.access import PROJECT_PERMISSIONS, ProjectAction
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_capabilities_follow_the_permission_table(people, role):
    user = people.by_role(role)

    can = access.project_capabilities(user=user, project=people.project)

    expected_role = {"org_member": None, "outsider": None}.get(role, role)
    assert can.role == expected_role
    assert can == {action.value: expected_role in roles for action, roles in PROJECT_PERMISSIONS.items()}
    for action in ProjectAction:
        assert can[action] == access.can_do_in_project(user=user, project=people.project, action=action)


def test_a_project_read_for_the_user_needs_no_second_query(people, django_assert_num_queries):
    project = access.project_get_for_user(user=people.reviewer, project_id=people.project.id)

    with django_assert_num_queries(0):
        can = access.project_capabilities(user=people.reviewer, project=project)
    assert can["review"] and not can["update"]
    # Another user's capabilities on the same object are not the cached ones.
    with django_assert_num_queries(2):
        assert access.project_capabilities(user=people.manager, project=project).role == "manager"


@pytest.mark.parametrize(
    ("role", "tabs"),
    [
        ("manager", {"Data", "Label", "Review", "Quality", "Releases"}),
        ("reviewer", {"Data", "Review", "Quality", "Releases"}),
        ("annotator", {"Label"}),
    ],
)
def test_project_pages_show_the_tabs_the_capabilities_allow(people, page_for, role, tabs):
    html = page_for(people.by_role(role)).get(f"/projects/{people.project.id}/").content.decode()

    for tab in {"Data", "Label", "Review", "Quality", "Releases"}:
        assert (f">{tab}</a>" in html) == (tab in tabs), tab
