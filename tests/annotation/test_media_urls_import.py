"""import_job_create + import_job_run for media URLs in records (single media files and ZIP
archives: test_media_import.py)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.imports.services.jobs import import_job_create, import_job_run
from annotation.models import ImportJob, Item

from .media_samples import (
    jsonl,
    local_storage_fixture,  # noqa: F401 - the local_storage fixture
)

pytestmark = pytest.mark.django_db

README = "Photos from the 2024 shelter survey.\n"


@pytest.fixture
def run_with_resolver(people):
    """Create the job, then run it with a fake DNS resolver: no test ever resolves a real name."""

    def run(content: bytes, name: str, answers: dict[str, list[str]], **options) -> ImportJob:
        job = import_job_create(
            project=people.project, actor=people.manager, upload=SimpleUploadedFile(name, content), **options
        )

        def resolver(host: str, port: int) -> list[str]:
            if host not in answers:
                raise OSError(f"no test answer for {host}")
            return answers[host]

        return import_job_run(job_id=job.id, resolver=resolver)

    return run


def _report(job: ImportJob) -> list[list[str]]:
    with job.error_report.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode())))


# --- Media URLs in item files ---------------------------------------------------------------------


def test_media_urls_in_records_are_kept_as_checked_references(run_with_resolver, people, local_storage):
    content = jsonl(
        {"image": "https://cdn.example.org/cats/1.png", "caption": "cat", "id": "u1"},
        {"audio": "http://sounds.example.org/a.mp3"},
        {"image": "a cat on a mat"},  # not a URL: plain data
        {"text": "no media", "url": "http://127.0.0.1/page"},  # "url" is not a media key
    )

    job = run_with_resolver(
        content, "refs.jsonl", {"cdn.example.org": ["93.184.216.34"], "sounds.example.org": ["2606:4700::1"]}
    )

    assert (job.status, job.created) == ("succeeded", 4)
    items = Item.objects.filter(project=people.project).order_by("id")
    assert [(i.media_url, i.media_type, i.media.name, i.media_bytes) for i in items] == [
        ("https://cdn.example.org/cats/1.png", "image", "", None),
        ("http://sounds.example.org/a.mp3", "audio", "", None),
        ("", "", "", None),
        ("", "", "", None),
    ]
    assert items[0].data == {"image": "https://cdn.example.org/cats/1.png", "caption": "cat"}


def test_media_urls_to_blocked_addresses_are_errors_for_their_line(run_with_resolver, people, local_storage):
    content = jsonl(
        {"image": "http://169.254.169.254/latest/meta-data/"},
        {"image": "https://rebind.example.org/x.png"},
        {"video": "http://127.0.0.1:8000/admin/"},
        {"image": "file:///etc/passwd"},
        {"image": "https://nowhere.example.org/x.png"},
        {"image": "https://ok.example.org/x.png", "audio": "https://ok.example.org/x.mp3"},
        {"image": "https://ok.example.org/fine.png"},
    )

    job = run_with_resolver(
        content,
        "refs.jsonl",
        {"rebind.example.org": ["93.184.216.34", "10.0.0.7"], "ok.example.org": ["93.184.216.34"]},
    )

    assert job.status == "failed"
    assert _report(job)[1:] == [
        ["1", "data.image", "169.254.169.254 resolves to a cloud metadata address (169.254.169.254)."],
        ["2", "data.image", "rebind.example.org resolves to a private address (10.0.0.7)."],
        ["3", "data.video", "127.0.0.1 resolves to a loopback address (127.0.0.1)."],
        ["4", "data.image", "Only http and https URLs are allowed, not file:."],
        ["5", "data.image", "nowhere.example.org cannot be resolved."],
        ["6", "data.audio", "an item has one media URL, not several"],
    ]
    assert Item.objects.filter(project=people.project).count() == 0


def test_each_host_is_resolved_once_per_import(people, local_storage):
    calls = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.216.34"]

    rows = [{"image": f"https://cdn.example.org/{i}.png"} for i in range(50)]
    content = jsonl(*rows, {"video": "https://media.example.net/a.mp4"})
    job = import_job_create(
        project=people.project, actor=people.manager, upload=SimpleUploadedFile("many.jsonl", content)
    )

    job = import_job_run(job_id=job.id, resolver=resolver)

    assert (job.status, job.created) == ("succeeded", 51)
    assert sorted(calls) == [("cdn.example.org", 443), ("media.example.net", 443)]
