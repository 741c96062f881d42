"""The erasure pages: "Erase…" on the item page and "Erase data subject…" on the Data tab, for org
admins only; the dry run first, then the confirmation."""

import pytest

from annotation.models import Item, MetadataField
from governance.models import Erasure
from tests.factories import make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(people):
    MetadataField.objects.create(project=people.project, name="customer", type="string")
    return make_items(
        people.project,
        {"text": "first", "meta": {"customer": "c-1"}, "external_id": "r-1"},
        {"text": "second", "meta": {"customer": "c-2"}},
    )


def test_the_links_show_for_org_admins_only(people, items, page_for):
    item_page = f"/projects/{people.project.id}/items/{items[0].id}/"
    data_page = f"/projects/{people.project.id}/data/"
    admin, manager = page_for(people.org_admin), page_for(people.manager)
    assert 'id="item-erase"' in admin.get(item_page).content.decode()
    assert 'id="erase-subject-link"' in admin.get(data_page).content.decode()
    assert 'id="item-erase"' not in manager.get(item_page).content.decode()
    assert 'id="erase-subject-link"' not in manager.get(data_page).content.decode()
    assert manager.get(f"{item_page}erase/").status_code == 403
    assert page_for(people.outsider).get(f"{item_page}erase/").status_code == 404


def test_erase_an_item_from_its_page(people, items, page_for):
    client = page_for(people.org_admin)
    url = f"/projects/{people.project.id}/items/{items[0].id}/erase/"
    assert "Erase item r-1" in client.get(url).content.decode()

    missing = client.post(url, {"step": "preview", "reason": ""})
    assert "Say why these items are erased" in missing.content.decode()
    preview = client.post(url, {"step": "preview", "reason": "asked by the author"})
    assert 'id="erase-preview"' in preview.content.decode()
    assert Item.objects.filter(id=items[0].id).exists() and not Erasure.objects.exists()

    done = client.post(url, {"step": "confirm", "reason": "asked by the author"})
    assert done.status_code == 302 and done["Location"] == f"/projects/{people.project.id}/data/"
    assert not Item.objects.filter(id=items[0].id).exists()
    assert Erasure.objects.get().reason == "asked by the author"
    assert client.get(url).status_code == 404  # the item is gone


def test_erase_a_data_subject_from_the_data_tab(people, items, page_for):
    client = page_for(people.org_admin)
    url = f"/projects/{people.project.id}/data/erase-subject/"
    page = client.get(url).content.decode()
    assert '<option value="customer"' in page
    unknown = client.post(url, {"step": "preview", "key": "nope", "value": "x", "reason": "r"})
    assert "is not a metadata key of this project" in unknown.content.decode()
    preview = client.post(url, {"step": "preview", "key": "customer", "value": "c-2", "reason": "r"})
    assert "1 item</strong> would be erased" in preview.content.decode()
    done = client.post(url, {"step": "confirm", "key": "customer", "value": "c-2", "reason": "r"})
    assert done.status_code == 302
    assert list(Item.objects.values_list("id", flat=True)) == [items[0].id]
