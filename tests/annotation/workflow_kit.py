"""A small labeling lab for workflow tests: a project with a schema, annotators and items."""

from dataclasses import dataclass, field

from rest_framework.test import APIClient

from annotation.models import Item
from projects import services
from projects.models import ProjectMembership
from tests.factories import ProjectMembershipFactory, UserFactory, label_schema, make_items


@dataclass
class Lab:
    people: object
    project: object
    annotators: list = field(default_factory=list)
    items: list = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"/api/projects/{self.project.id}/{path}"

    @staticmethod
    def client(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    def next(self, user) -> dict:
        response = self.client(user).post(self.url("queue/next/"))
        assert response.status_code == 200, response.content
        return response.json()

    def submit(self, user, assignment_id: int, label: str = "positive", **extra):
        body = {"result": {"sentiment": label}, **extra}
        return self.client(user).post(self.url(f"assignments/{assignment_id}/submit/"), body, format="json")

    def item(self, item_id: int) -> Item:
        return Item.objects.get(pk=item_id)

    def set_labeling(self, **knobs) -> None:
        settings_ = dict(self.project.settings)
        settings_["labeling"] = {**settings_.get("labeling", {}), **knobs}
        services.project_update(project=self.project, actor=self.people.manager, settings=settings_)
        self.project.refresh_from_db()


def make_lab(
    people, *, overlap: int = 1, annotators: int = 3, items: int = 5, review_fraction: float = 0.0, **knobs
) -> Lab:
    """`review_fraction` is 0 here, deliberately: the product default samples 10% of items into review
    (by item id), and these labs test other rules with items that complete. Tests about review pass
    their own fraction; tests/quality/test_defaults_end_to_end.py runs on the real defaults."""
    knobs["review_fraction"] = review_fraction
    project = people.project
    if overlap != project.overlap:
        services.project_update(project=project, actor=people.manager, overlap=overlap)
        project.refresh_from_db()
    services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema("positive", "negative", "neutral")
    )
    lab = Lab(people=people, project=project)
    lab.annotators = [people.annotator] + [
        ProjectMembershipFactory(
            project=project, user=UserFactory(username=f"annotator{i}"), role=ProjectMembership.Role.ANNOTATOR
        ).user
        for i in range(2, annotators + 1)
    ]
    lab.items = make_items(project, *[f"headline number {i}" for i in range(items)])
    lab.set_labeling(**knobs)
    return lab
