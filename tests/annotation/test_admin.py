import pytest
from django.test import Client

from annotation.models import BucketSource

pytestmark = pytest.mark.django_db


def test_operators_read_items_and_jobs_but_never_the_bucket_secret(people, django_user_model):
    operator = django_user_model.objects.create_superuser(
        "operator", "op@example.org", "a-long-operator-pass"
    )
    source = BucketSource.objects.create(
        project=people.project, name="Photos", bucket="photos", secret_access_key="very-secret-value"
    )
    browser = Client()
    browser.force_login(operator)

    pages = [browser.get(f"/admin/annotation/{name}/") for name in ("item", "importjob", "bucketsource")]
    detail = browser.get(f"/admin/annotation/bucketsource/{source.id}/change/")
    add = browser.get("/admin/annotation/item/add/")

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert detail.status_code == 200
    assert "very-secret-value" not in detail.content.decode()
    assert add.status_code == 403
