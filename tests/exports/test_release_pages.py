# ruff: noqa: F811 - the lab/release_storage fixtures are imported from test_release_service
"""Release pages: who sees what, the create form (errors change nothing), the detail page (escaped
names, files, verify, retry), the diff page."""

import pytest

from exports.models import Release

from .test_release_service import lab, release_storage, set_consensus  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def pages(project, path=""):
    return f"/projects/{project.id}/releases/{path}"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def published(people, lab, client, django_capture_on_commit_callbacks):
    """Release 1 ("v1", jsonl + csv) created with the form by the manager and built (Celery eager)."""
    login(client, people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pages(people.project), {"name": "v1", "formats": ["csv"], "filter": "all"})
    assert response.status_code == 302, response.content
    release = Release.objects.get(project=people.project, number=1)
    assert release.status == Release.Status.PUBLISHED
    return release


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manager", 200),
        ("org_admin", 200),
        ("reviewer", 200),
        ("annotator", 403),
        ("org_member", 404),
        ("outsider", 404),
    ],
)
def test_who_may_see_the_release_pages(people, published, client, who, status):
    login(client, getattr(people, who))
    for path in ("", "1/", "1/diff/?against=1"):
        assert client.get(pages(people.project, path)).status_code == status, path


def test_the_releases_tab_shows_for_readers_only(people, lab, client):
    login(client, people.reviewer)
    body = client.get(f"/projects/{people.project.id}/").content.decode()
    assert f'href="/projects/{people.project.id}/releases/"' in body
    login(client, people.annotator)
    body = client.get(f"/projects/{people.project.id}/").content.decode()
    assert "/releases/" not in body


def test_release_of_another_project_is_404(people, published, client):
    login(client, people.outsider)
    assert client.get(pages(people.other_project, "1/")).status_code == 404


def test_reviewer_sees_no_create_form_and_cannot_post(people, lab, client):
    login(client, people.reviewer)
    body = client.get(pages(people.project)).content.decode()
    assert "Create release" not in body
    response = client.post(pages(people.project), {"name": "sneaky", "formats": ["jsonl"], "filter": "all"})
    assert response.status_code == 403
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "../../etc/passwd", "formats": ["jsonl"], "filter": "all"}, "A release name is 1 to 100"),
        ({"name": "ok", "formats": ["nope"], "filter": "all"}, "Unknown format"),
        ({"name": "ok", "formats": ["coco"], "filter": "all"}, "Nothing in the label schema for: coco"),
        ({"name": "ok", "filter": "all"}, "Choose at least one format"),
        (
            {"name": "ok", "formats": ["jsonl"], "filter": "min_agreement", "min_agreement": "lots"},
            "not a number",
        ),
        (
            {"name": "ok", "formats": ["jsonl"], "filter": "min_agreement", "min_agreement": "2"},
            "min_agreement",
        ),
        ({"name": "ok", "formats": ["jsonl"], "filter": "split", "split": "a b"}, "split must be"),
        (
            {
                "name": "ok",
                "formats": ["jsonl"],
                "filter": "dates",
                "created_from": "2026-05-01",
                "created_until": "2026-01-01",
            },
            "created_from is after",
        ),
        ({"name": "ok", "formats": ["jsonl"], "filter": "bogus"}, "Choose one of the filters"),
        (
            {"name": "ok", "formats": ["jsonl"], "filter": "all", "licence": "CC-BY-4"},
            "is not an SPDX licence expression. Unknown: CC-BY-4",
        ),
        (
            {"name": "ok", "formats": ["jsonl"], "filter": "all", "languages": "en, <b>x</b>"},
            "is not a language tag",
        ),
    ],
)
def test_create_form_errors_are_shown_and_change_nothing(people, lab, client, form, message):
    login(client, people.manager)
    response = client.post(pages(people.project), form)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body and message in body.replace("&#x27;", "'")
    assert not Release.objects.exists()
    assert 'value="ok"' in body or form["name"] != "ok"  # the form keeps what was typed


def test_taken_name_is_refused(people, published, client):
    response = client.post(pages(people.project), {"name": "v1", "formats": ["jsonl"], "filter": "all"})
    assert response.status_code == 400
    assert "already has a release named" in response.content.decode()
    assert Release.objects.count() == 1


def test_create_with_a_filter_and_raw_annotations(people, lab, client, django_capture_on_commit_callbacks):
    login(client, people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            pages(people.project),
            {
                "name": "train-only",
                "formats": ["jsonl"],
                "filter": "split",
                "split": "train",
                "include_raw": "on",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == pages(people.project, "1/")
    release = Release.objects.get()
    assert (release.filter, release.include_raw, release.records_done) == ({"split": "train"}, True, 2)


def test_detail_page_shows_counts_files_and_escapes_names(people, published, client, lab):
    body = client.get(pages(people.project, "1/")).content.decode()
    assert "Published" in body
    for file in published.files.all():
        assert f"/api/projects/{people.project.id}/releases/1/files/{file.path}" in body
        assert file.sha256 in body
    assert 'class="label-bar"' in body and "positive" in body
    # Names typed by users (the project's) are escaped; a release name cannot hold markup at all.
    people.project.name = "<script>alert(1)</script>"
    people.project.save()
    body = client.get(pages(people.project, "1/")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_list_page_lists_the_release(people, published, client):
    body = client.get(pages(people.project)).content.decode()
    assert ">v1</a>" in body and "Published" in body


def test_verify_button_names_the_tampered_file(people, published, client, release_storage):
    response = client.post(pages(people.project, "1/"))
    assert "Verified:" in response.content.decode()
    target = release_storage / published.storage_prefix / "csv" / "train.csv"
    target.write_bytes(target.read_bytes() + b"x")
    body = client.post(pages(people.project, "1/")).content.decode()
    assert "Verification failed" in body and "changed: csv/train.csv" in body


def test_annotator_cannot_verify(people, published, client):
    login(client, people.annotator)
    assert client.post(pages(people.project, "1/")).status_code == 403


def test_retry_of_a_published_release_is_refused_and_reviewers_may_not_retry(people, published, client):
    response = client.post(pages(people.project, "1/retry/"), follow=True)
    assert "published" in response.content.decode().lower()
    assert Release.objects.get().attempts == 1
    login(client, people.reviewer)
    assert client.post(pages(people.project, "1/retry/")).status_code == 403


def test_failed_release_offers_a_retry_that_builds_it(
    people, published, client, django_capture_on_commit_callbacks
):
    Release.objects.filter(pk=published.pk).update(status="failed", error="The build failed (OSError).")
    body = client.get(pages(people.project, "1/")).content.decode()
    assert "The build failed (OSError)." in body and "Retry the build" in body
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pages(people.project, "1/retry/"))
    published.refresh_from_db()
    assert (published.status, published.attempts) == (Release.Status.PUBLISHED, 2)


def test_diff_page_shows_relabelled_items_with_reasons(
    people, published, client, lab, django_capture_on_commit_callbacks
):
    set_consensus(people.project, lab[1][0], "negative", method="dawid_skene")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pages(people.project), {"name": "v2", "formats": ["jsonl"], "filter": "all"})
    body = client.get(pages(people.project, "2/diff/?against=1")).content.decode()
    assert "Changes in release 2 since release 1" in body
    assert f"sha256:{lab[1][0].checksum[:10]}" in body and "consensus method changed" in body
    assert 'class="diff-old">positive' in body and 'class="diff-new">negative' in body
    assert "-1" in body and "+1" in body


def test_diff_page_without_a_valid_other_release(people, published, client):
    assert (
        "Choose the release to compare with" in client.get(pages(people.project, "1/diff/")).content.decode()
    )
    assert client.get(pages(people.project, "1/diff/?against=9")).status_code == 404


def test_the_dataset_card_is_kept_shown_and_offered_again(
    people, lab, client, django_capture_on_commit_callbacks
):
    login(client, people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            pages(people.project),
            {
                "name": "carded",
                "formats": ["jsonl"],
                "filter": "all",
                "include_media": "on",
                "licence": "cc-by-sa-4.0",
                "languages": "en, PT-br",
                "intended_uses": "Sentiment <i>models</i>.",
                "limitations": "Phones only.",
            },
        )
    assert response.status_code == 302
    release = Release.objects.get(project=people.project)
    assert (release.licence, release.languages, release.include_media) == (
        "CC-BY-SA-4.0",
        ["en", "pt-BR"],
        True,
    )

    detail = client.get(pages(people.project, "1/")).content.decode()
    assert "<code>CC-BY-SA-4.0</code>" in detail and "en, pt-BR" in detail
    assert "Sentiment &lt;i&gt;models&lt;/i&gt;." in detail and "<i>models" not in detail
    form = client.get(pages(people.project)).content.decode()  # the next release starts from this card
    assert 'value="CC-BY-SA-4.0"' in form and 'value="en, pt-BR"' in form
    assert ">Phones only.</textarea>" in form


def test_large_folders_are_one_row_and_small_ones_list_each_file(people, published, client):
    from exports.models import ReleaseFile

    ReleaseFile.objects.bulk_create(
        ReleaseFile(release=published, path=f"media/{i}.png", sha256="0" * 64, size=1000) for i in range(30)
    )

    body = client.get(pages(people.project, "1/")).content.decode()

    assert '<code>media/</code> <span class="muted small">30 files</span>' in body
    assert "media/7.png" not in body
    assert "jsonl/train.jsonl" in body and "manifest.json" in body
