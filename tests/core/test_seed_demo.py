import pytest
from django.core.management import call_command

from annotation.models import ImportJob, Item
from projects.models import Project, ProjectMembership

pytestmark = pytest.mark.django_db(transaction=True)  # the demo import runs after its commit


def test_creates_the_demo_once_with_items_imported_through_the_pipeline():
    call_command("seed_demo", "--quiet")
    call_command("seed_demo", "--quiet")

    project = Project.objects.get(name="News sentiment")
    assert sorted(
        ProjectMembership.objects.filter(project=project).values_list("user__username", "role")
    ) == [
        ("admin", "manager"),
        ("ana", "annotator"),
        ("maria", "manager"),
        ("rui", "reviewer"),
    ]
    job = ImportJob.objects.get(project=project)
    assert (job.status, job.created) == ("succeeded", 20)
    assert Item.objects.filter(project=project, licence="CC0-1.0").count() == 20
    assert Item.objects.get(project=project, external_id="demo-20").meta == {"section": "sport"}


def test_the_image_demo_has_photos_with_their_sizes_through_the_pipeline():
    call_command("seed_demo", "--quiet")
    call_command("seed_demo", "--quiet")

    project = Project.objects.get(name="Street scenes")
    job = ImportJob.objects.get(project=project)
    assert (job.status, job.format, job.created) == ("succeeded", "zip", 8)
    items = list(Item.objects.filter(project=project).order_by("id"))
    assert [i.data["file"] for i in items] == [f"street-{n:02d}.png" for n in range(1, 9)]
    assert {(i.data["width"], i.data["height"], i.media_type, i.licence) for i in items} == {
        (480, 300, "image", "CC0-1.0")
    }
    assert all(i.media for i in items)
    assert ProjectMembership.objects.filter(project=project).count() == 4
