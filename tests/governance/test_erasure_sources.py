"""Erasing a bucket source's items, and a later sync not bringing an erased object back."""

import pytest

from annotation.models import Item
from governance.erasure import services
from tests.annotation.test_bucket_sources import _put, _sync

pytestmark = pytest.mark.django_db


def test_an_erased_bucket_object_is_skipped_by_the_next_sync(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    _put(s3, "field/face.jpg", b"a face")
    _put(s3, "field/tree.jpg", b"a tree")
    source = make_source()
    assert _sync(source, django_capture_on_commit_callbacks).created == 2
    face = Item.objects.get(project=people.project, external_id="s3://photos/field/face.jpg")

    services.erase_items(project=people.project, item_ids=[face.id], reason="consent withdrawn", actor=None)
    again = _sync(source, django_capture_on_commit_callbacks)

    assert (again.created, again.existing, again.skipped["erased_content"]) == (0, 1, 1)
    assert not Item.objects.filter(external_id="s3://photos/field/face.jpg").exists()

    result = services.erase_source(
        project=people.project, bucket_source_id=source.id, reason="bucket retired", actor=None
    )
    assert result.items == 1 and not Item.objects.filter(project=people.project).exists()
