# ruff: noqa: F811 - the lab/release_storage fixtures are imported from test_release_service
"""/api/projects/<id>/releases/: create, list, read, download with Range, verify, diff, retry, access."""

import json
import urllib.request

import pytest

from exports import services
from exports.models import Release, ReleaseFile
from quality.models import ConsensusResult

from .test_release_service import lab, release_storage, set_consensus  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def url(project, path=""):
    return f"/api/projects/{project.id}/releases/{path}"


@pytest.fixture
def published(people, lab, client_for, django_capture_on_commit_callbacks):
    """Release 1 ("v1", jsonl + csv) created over the API by the manager and built."""
    client = client_for(people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(people.project), {"name": "v1", "formats": ["csv"]}, format="json")
    assert response.status_code == 202, response.content
    return Release.objects.get(project=people.project, number=1)


def test_manager_creates_a_release_with_a_token(people, lab, client_for, django_capture_on_commit_callbacks):
    client = client_for(people.manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(people.project),
            {"name": "2026-q1", "formats": ["jsonl"], "filter": {"split": "train"}, "include_raw": True},
            format="json",
        )

    assert response.status_code == 202
    body = response.json()
    assert {k: body[k] for k in ("number", "name", "status", "formats", "filter", "include_raw")} == {
        "number": 1,
        "name": "2026-q1",
        "status": "building",
        "formats": ["jsonl"],
        "filter": {"split": "train"},
        "include_raw": True,
    }
    assert body["requested_by"] == "manager"
    release = Release.objects.get(project=people.project, number=1)
    assert (release.status, release.records_done) == (Release.Status.PUBLISHED, 2)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "../../etc/passwd", "formats": ["jsonl"]}, "invalid_name"),
        ({"name": "a/b", "formats": ["jsonl"]}, "invalid_name"),
        ({"name": "v1", "formats": ["jsonl", "docx"]}, "unknown_format"),
        ({"name": "v1", "formats": ["jsonl"], "filter": {"min_agreement": 2}}, "bad_filter"),
        ({"name": "v1", "formats": ["jsonl"], "filter": {"owner": "me"}}, "bad_filter"),
        ({"name": "v1", "formats": ["jsonl"], "licence": "CC-BY-4"}, "invalid_licence"),
        ({"name": "v1", "formats": ["jsonl"], "languages": ["english language"]}, "invalid_languages"),
    ],
)
def test_create_rejects_bad_input(people, lab, client_for, body, code):
    response = client_for(people.manager).post(url(people.project), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Release.objects.exists() is False


def test_the_licence_languages_and_uses_given_are_in_the_release(
    people, lab, client_for, django_capture_on_commit_callbacks
):
    client = client_for(people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(people.project),
            {
                "name": "v1",
                "formats": ["jsonl"],
                "licence": "cc0-1.0",
                "languages": ["EN"],
                "intended_uses": "Sentiment models.",
                "limitations": "English reviews only.",
                "include_media": False,
            },
            format="json",
        )

    assert response.status_code == 202, response.content
    fields = ("licence", "languages", "intended_uses", "limitations", "include_media")
    assert {k: response.json()[k] for k in fields} == {
        "licence": "CC0-1.0",
        "languages": ["en"],
        "intended_uses": "Sentiment models.",
        "limitations": "English reviews only.",
        "include_media": False,
    }
    manifest = client.get(url(people.project, "1/")).json()["manifest"]
    assert manifest["release"]["licence"] == "CC0-1.0"
    assert manifest["release"]["limitations"] == "English reviews only."
    assert manifest["media"] == {"included": False, "files": 0, "bytes": 0}


def test_create_rejects_unknown_fields(people, lab, client_for):
    response = client_for(people.manager).post(
        url(people.project), {"name": "v1", "formats": ["jsonl"], "path": "/tmp"}, format="json"
    )

    assert response.status_code == 400
    assert Release.objects.exists() is False


@pytest.mark.parametrize(("role", "expected"), [("reviewer", 403), ("annotator", 403), ("outsider", 404)])
def test_only_managers_create(people, lab, client_for, role, expected):
    response = client_for(people.by_role(role)).post(
        url(people.project), {"name": "v1", "formats": ["jsonl"]}, format="json"
    )

    assert response.status_code == expected
    assert Release.objects.exists() is False


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("org_admin", 200),
        ("manager", 200),
        ("reviewer", 200),
        ("annotator", 403),
        ("org_member", 404),
        ("outsider", 404),
    ],
)
def test_who_may_read_and_download(people, published, client_for, role, expected):
    client = client_for(people.by_role(role))

    responses = [
        client.get(url(people.project)),
        client.get(url(people.project, "1/")),
        client.get(url(people.project, "1/files/jsonl/train.jsonl")),
        client.get(url(people.project, "1/verify/")),
        client.get(url(people.project, "public-key/")),
    ]

    assert [r.status_code for r in responses] == [expected] * 5


def test_other_project_release_is_404(people, published, client_for):
    outsider = client_for(people.outsider)

    response = outsider.get(f"/api/projects/{people.other_project.id}/releases/1/")
    mine = client_for(people.manager).get(f"/api/projects/{people.other_project.id}/releases/")

    assert response.status_code == 404
    assert mine.status_code == 404


def test_list_and_retrieve_with_manifest(people, published, client_for):
    client = client_for(people.reviewer)

    listing = client.get(url(people.project)).json()
    detail = client.get(url(people.project, "1/")).json()

    assert [(r["number"], r["name"], r["status"], r["records_done"]) for r in listing["results"]] == [
        (1, "v1", "published", 4)
    ]
    assert detail["manifest"] == published.manifest
    assert detail["progress"] is None
    files = {f["path"]: f for f in detail["files"]}
    stored = ReleaseFile.objects.get(release=published, path="csv/train.csv")
    assert files["csv/train.csv"] == {"path": "csv/train.csv", "sha256": stored.sha256, "size": stored.size}
    assert "manifest.json" in files


def test_download_streams_the_whole_file(people, published, client_for, release_storage):
    expected = (release_storage / published.storage_prefix / "jsonl" / "train.jsonl").read_bytes()

    response = client_for(people.reviewer).get(url(people.project, "1/files/jsonl/train.jsonl"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == expected
    assert response["Content-Length"] == str(len(expected))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "application/x-ndjson"
    assert (
        response["ETag"] == f'"{ReleaseFile.objects.get(release=published, path="jsonl/train.jsonl").sha256}"'
    )
    assert response["Content-Disposition"] == 'attachment; filename="v1-jsonl-train.jsonl"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_resumes_with_a_range(people, published, client_for, release_storage):
    expected = (release_storage / published.storage_prefix / "csv" / "train.csv").read_bytes()
    client = client_for(people.manager)
    path = url(people.project, "1/files/csv/train.csv")
    size = len(expected)

    head = client.get(path, HTTP_RANGE="bytes=0-9")
    tail = client.get(path, HTTP_RANGE="bytes=10-")
    suffix = client.get(path, HTTP_RANGE="bytes=-5")
    stale = client.get(path, HTTP_RANGE="bytes=10-", HTTP_IF_RANGE='"0000"')

    assert (head.status_code, head["Content-Range"], head["Content-Length"]) == (
        206,
        f"bytes 0-9/{size}",
        "10",
    )
    assert tail.status_code == 206
    assert tail["Content-Range"] == f"bytes 10-{size - 1}/{size}"
    assert b"".join(head.streaming_content) + b"".join(tail.streaming_content) == expected
    assert b"".join(suffix.streaming_content) == expected[-5:]
    assert stale.status_code == 200  # If-Range does not match: the whole file
    assert b"".join(stale.streaming_content) == expected


@pytest.mark.parametrize("header", ["bytes=100000-", "bytes=abc", "bytes=9-3", "bytes=-0", "items=0-1"])
def test_bad_range_is_416(people, published, client_for, header):
    size = ReleaseFile.objects.get(release=published, path="csv/train.csv").size

    response = client_for(people.manager).get(url(people.project, "1/files/csv/train.csv"), HTTP_RANGE=header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("path", ["jsonl/../manifest.json", "nothing.txt", "jsonl//train.jsonl", "jsonl/"])
def test_download_of_unknown_or_unclean_paths_is_404(people, published, client_for, path):
    response = client_for(people.manager).get(url(people.project, f"1/files/{path}"))

    assert response.status_code == 404


def test_files_of_a_release_being_built_are_not_served(people, lab, client_for):
    release = services.release_create(
        project=people.project, actor=people.manager, name="v1", formats=["jsonl"]
    )
    ReleaseFile.objects.create(release=release, path="jsonl/train.jsonl", sha256="0" * 64, size=1)

    response = client_for(people.manager).get(url(people.project, "1/files/jsonl/train.jsonl"))
    detail = client_for(people.manager).get(url(people.project, "1/")).json()

    assert response.status_code == 404
    assert (detail["status"], detail["progress"]) == ("building", {"records_done": 0, "records_total": 0})


def test_verify_says_which_file_was_tampered(people, published, client_for, release_storage):
    client = client_for(people.reviewer)
    intact = client.post(url(people.project, "1/verify/")).json()
    target = release_storage / published.storage_prefix / "jsonl" / "test.jsonl"
    target.write_bytes(target.read_bytes().replace(b"neutral", b"negative"))

    tampered = client.get(url(people.project, "1/verify/")).json()

    assert intact["ok"] is True and intact["problems"] == []
    assert intact["merkle_root"] == published.manifest["merkle_root"]
    assert tampered["ok"] is False
    assert tampered["problems"] == ["changed: jsonl/test.jsonl"]


def test_public_key_matches_the_manifest_signature(people, published, client_for):
    body = client_for(people.reviewer).get(url(people.project, "public-key/")).json()

    assert body["key_id"] == published.manifest["signature"]["key_id"]
    assert body["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_diff_against_an_older_release(
    people, lab, published, client_for, django_capture_on_commit_callbacks
):
    project, items = lab
    set_consensus(project, items[2], "positive")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people.manager).post(url(project), {"name": "v2", "formats": ["jsonl"]}, format="json")
    client = client_for(people.reviewer)

    response = client.get(url(project, "2/diff/?against=1"))
    missing = client.get(url(project, "2/diff/?against=9"))
    bad = client.get(url(project, "2/diff/?against=x"))

    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == {"added": 0, "removed": 0, "relabelled": 1, "unchanged": 3}
    assert body["relabelled"][0]["item_id"] == items[2].id
    assert (body["relabelled"][0]["old"], body["relabelled"][0]["new"]) == (
        {"sentiment": "neutral"},
        {"sentiment": "positive"},
    )
    assert body["label_counts"]["sentiment"]["positive"] == {"old": 2, "new": 3, "change": 1}
    assert (missing.status_code, bad.status_code, bad.json()["code"]) == (404, 400, "bad_against")


def test_retry_of_a_published_release_is_409(people, published, client_for):
    response = client_for(people.manager).post(url(people.project, "1/retry/"))
    reviewer = client_for(people.reviewer).post(url(people.project, "1/retry/"))

    assert response.status_code == 409
    assert response.json()["code"] == "release_published"
    assert reviewer.status_code == 403


def test_s3_release_downloads_through_a_presigned_url_and_verifies(
    people,
    lab,
    s3_storage,
    settings,
    tmp_path,
    client_for,
    django_capture_on_commit_callbacks,
):
    settings.EXPORTS_SIGNING_KEY_PATH = str(tmp_path / "s3-key.pem")
    client = client_for(people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(people.project), {"name": "v1", "formats": ["csv"]}, format="json")
    release = Release.objects.get(project=people.project, number=1)

    response = client.get(url(people.project, "1/files/jsonl/train.jsonl"))
    verified = client.get(url(people.project, "1/verify/")).json()

    assert release.status == Release.Status.PUBLISHED
    assert response.status_code == 302
    assert "X-Amz-Signature=" in response["Location"]
    body = urllib.request.urlopen(response["Location"]).read()  # noqa: S310 - the loopback S3
    stored = ReleaseFile.objects.get(release=release, path="jsonl/train.jsonl")
    assert len(body) == stored.size
    assert [json.loads(line)["item_id"] for line in body.splitlines()] == [lab[1][0].id, lab[1][1].id]
    assert verified["ok"] is True, verified
    assert ConsensusResult.objects.count() == 5
