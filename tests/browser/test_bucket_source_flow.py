"""A manager adds an S3 bucket (moto on loopback) as a source, syncs it, and sees the items."""

import urllib.request

import pytest

from annotation.models import BucketSource, Item

from .conftest import login, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.django_db(transaction=True)


def _bucket_with_objects(endpoint: str) -> None:
    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))  # noqa: S310
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="field-photos")
    for name in ("a.png", "b.jpg", "notes.txt"):
        client.put_object(Bucket="field-photos", Key=f"2026/{name}", Body=f"bytes of {name}".encode())
    client.put_object(Bucket="field-photos", Key="elsewhere/c.png", Body=b"outside the prefix")


def test_manager_adds_a_bucket_syncs_it_and_a_resync_adds_nothing(page, people, s3_endpoint):
    _bucket_with_objects(s3_endpoint)
    project = people.project
    login(page, people.manager)

    page.goto(f"/projects/{project.id}/data/")
    page.locator("#bucket-sources-link").click()
    page.get_by_label("Name", exact=True).fill("Field photos")
    page.get_by_label("Bucket", exact=True).fill("field-photos")
    page.get_by_label("Prefix").fill("2026/")
    page.get_by_label("Endpoint URL").fill(s3_endpoint)
    page.get_by_label("Region").fill("us-east-1")
    page.get_by_label("Access key id").fill("AKIAFIELDPHOTOS")
    page.get_by_label("Secret access key").fill("s3cr3t-field-photos")
    page.get_by_role("button", name="Add source").click()
    expect(page.locator("#sources")).to_contain_text("Field photos")

    page.get_by_role("button", name="Sync Field photos now").click()
    expect(page.locator("#sources")).to_contain_text("3 new · 0 already items · 3 listed")
    shot(page, "bucket-sources")

    page.get_by_role("button", name="Sync Field photos now").click()
    expect(page.locator("#sources")).to_contain_text("0 new · 3 already items · 3 listed")
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == [
        "s3://field-photos/2026/a.png",
        "s3://field-photos/2026/b.jpg",
        "s3://field-photos/2026/notes.txt",
    ]
    assert BucketSource.objects.get(project=project).secret_access_key == "s3cr3t-field-photos"
    assert "s3cr3t-field-photos" not in page.content()  # stored for syncing, never shown again
