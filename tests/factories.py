"""One factory per model, with realistic defaults. Writes with rules go through services, not here."""

import itertools

import factory
from django.contrib.auth import get_user_model

from projects.models import Organisation, OrganisationMembership, Project, ProjectMembership

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # persist the hashed password
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class OrganisationMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationMembership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = OrganisationMembership.Role.MEMBER


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    description = "Sentiment of product reviews."
    overlap = 1


class ProjectMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectMembership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = ProjectMembership.Role.ANNOTATOR


_item_serial = itertools.count(1)


def make_items(project, *rows, **common) -> list:
    """Create items in one bulk insert. Each row is a text, or a dict with an optional "text" plus any
    Item field (meta, split, consent, ...); `common` fields apply to every row. Hashes are unique, the
    search text follows the text unless given."""
    from annotation.models import Item

    items = []
    for row in rows:
        fields = {"text": row} if isinstance(row, str) else dict(row)
        serial = next(_item_serial)
        text = fields.pop("text", f"item number {serial}")
        values = {
            "target": project.overlap,
            "data": {"text": text},
            "content_hash": f"content-{serial}",
            "checksum": f"checksum-{serial}",
            "search_text": text.lower(),
            **common,
            **fields,
        }
        items.append(Item(project=project, **values))
    return Item.objects.bulk_create(items)


def label_schema(
    *labels: str, control: str = "sentiment", field: str = "text", required: bool = True
) -> dict:
    """A valid label schema: one single-choice control over the item's `text` (see docs/SCHEMA.md)."""
    return {
        "version": 1,
        "fields": [{"name": field, "type": "text"}],
        "controls": [
            {
                "name": control,
                "type": "single_choice",
                "field": field,
                "required": required,
                "labels": [{"value": value} for value in labels or ("positive", "negative")],
            }
        ],
    }
