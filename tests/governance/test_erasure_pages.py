"""The erasure pages: "Erase…" on the item page, on an import's row and on a bucket source, and "Erase
data subject…" on the Data tab, for org admins only; the dry run first, then the confirmation with the
number of items typed."""

import pytest

from annotation.models import BucketSource, ImportJob, Item, MetadataField
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

    untyped = client.post(url, {"step": "confirm", "reason": "asked by the author"})
    assert "Type 1 (the number of items that would be erased) to confirm. Nothing was erased." in (
        untyped.content.decode()
    )
    assert 'id="erase-confirm-count"' in untyped.content.decode()  # the preview again
    mistyped = client.post(url, {"step": "confirm", "reason": "asked by the author", "confirm_count": "2"})
    assert "Nothing was erased" in mistyped.content.decode()
    assert Item.objects.filter(id=items[0].id).exists() and not Erasure.objects.exists()

    done = client.post(url, {"step": "confirm", "reason": "asked by the author", "confirm_count": " 1 "})
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
    done = client.post(
        url, {"step": "confirm", "key": "customer", "value": "c-2", "reason": "r", "confirm_count": "1"}
    )
    assert done.status_code == 302
    assert list(Item.objects.values_list("id", flat=True)) == [items[0].id]


def test_erase_an_import_from_its_row_in_the_data_tab(people, items, page_for):
    job = ImportJob.objects.create(project=people.project, format="jsonl", original_name="batch.jsonl")
    Item.objects.filter(id=items[1].id).update(import_job=job)
    other = ImportJob.objects.create(project=people.project, format="jsonl", original_name="other.jsonl")
    url = f"/projects/{people.project.id}/data/imports/{job.id}/erase/"
    admin, manager = page_for(people.org_admin), page_for(people.manager)
    data_page = admin.get(f"/projects/{people.project.id}/data/").content.decode()
    assert f'href="{url}"' in data_page and "Erase the items of import #" in data_page
    assert f'href="{url}"' not in manager.get(f"/projects/{people.project.id}/data/").content.decode()
    assert manager.get(url).status_code == 403
    assert page_for(people.outsider).get(url).status_code == 404
    assert admin.get(f"/projects/{people.project.id}/data/imports/{other.id + 1}/erase/").status_code == 404

    assert f"Erase import #{job.id} (batch.jsonl)" in admin.get(url).content.decode()
    preview = admin.post(url, {"step": "preview", "reason": "licence ended"}).content.decode()
    assert "1 item</strong> would be erased" in preview and "No published release holds them." in preview
    assert Item.objects.count() == 2
    done = admin.post(url, {"step": "confirm", "reason": "licence ended", "confirm_count": "1"})
    assert done.status_code == 302
    assert list(Item.objects.values_list("id", flat=True)) == [items[0].id]
    erasure = Erasure.objects.get()
    assert (erasure.scope, erasure.reason, erasure.detail) == (
        "source",
        "licence ended",
        {"import_job": job.id},
    )

    empty = admin.post(
        f"/projects/{people.project.id}/data/imports/{other.id}/erase/", {"step": "preview", "reason": "r"}
    ).content.decode()
    assert "0 items</strong> would be erased" in empty and 'id="erase-confirm"' not in empty


def test_erase_a_bucket_sources_items_from_the_sources_page(people, items, page_for):
    source = BucketSource.objects.create(
        project=people.project, name="Field photos", bucket="photos", prefix="field/"
    )
    Item.objects.filter(id=items[0].id).update(
        source=Item.Source.BUCKET, source_ref="s3://photos/field/a.jpg"
    )
    url = f"/projects/{people.project.id}/data/sources/{source.id}/erase/"
    sources_page = f"/projects/{people.project.id}/data/sources/"
    admin, manager = page_for(people.org_admin), page_for(people.manager)
    assert f'href="{url}"' in admin.get(sources_page).content.decode()
    assert f'href="{url}"' not in manager.get(sources_page).content.decode()
    assert manager.get(url).status_code == 403

    assert "Erase bucket source Field photos (s3://photos/field/)" in admin.get(url).content.decode()
    preview = admin.post(url, {"step": "preview", "reason": "bucket retired"}).content.decode()
    assert "1 item</strong> would be erased" in preview
    done = admin.post(url, {"step": "confirm", "reason": "bucket retired", "confirm_count": "1"})
    assert done.status_code == 302
    assert list(Item.objects.values_list("id", flat=True)) == [items[1].id]
    assert Erasure.objects.get().detail == {"bucket_source": source.id}
