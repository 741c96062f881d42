"""Provenance sources (#18): per-kind terms (pure), the service and API (400 naming the field, 404
outside the project), and imports/bucket sources attributing their items to a source."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.imports.services.jobs import import_job_create
from annotation.models import Item, ProvenanceSource
from annotation.provenance import services
from annotation.provenance.terms import TermsError, clean_terms
from core.exceptions import DomainError
from core.models import AuditEvent

PUBLIC = {
    "dataset": "IMDb reviews",
    "url": "https://ai.stanford.edu/~amaas/data/sentiment/",
    "licence": "cc-by-4.0",
}


# --- terms (pure) -----------------------------------------------------------------------------------


def test_public_terms_are_cleaned_in_a_fixed_order_with_the_spdx_licence_canonical():
    clean = clean_terms("public", {"licence": " cc-by-4.0 ", "url": PUBLIC["url"], "dataset": " IMDb "})

    assert list(clean) == ["dataset", "url", "licence"]
    assert clean == {"dataset": "IMDb", "url": PUBLIC["url"], "licence": "CC-BY-4.0"}


@pytest.mark.parametrize(
    ("kind", "terms", "field"),
    [
        ("public", {**PUBLIC, "licence": "CC-BY-FOO"}, "licence"),
        ("public", {**PUBLIC, "url": "ftp://x"}, "url"),
        ("public", {"url": PUBLIC["url"], "licence": "MIT"}, "dataset"),
        ("licensed", {"licensor": "Getty"}, "agreement"),
        ("scraped", {"crawler": "c", "domains": ["not a domain"], "period_start": "2024-01-01",
                     "period_end": "2024-02-01", "robots": "respected"}, "domains"),
        ("scraped", {"crawler": "c", "domains": ["example.org"], "period_start": "2024-03-01",
                     "period_end": "2024-02-01", "robots": "respected"}, "period_end"),
        ("scraped", {"crawler": "c", "domains": ["example.org"], "period_start": "2024-01-01",
                     "period_end": "2024-02-30", "robots": "respected"}, "period_end"),
        ("user", {"legal_basis": "because"}, "legal_basis"),
        ("synthetic", {"generator": "g", "model": "m", "prompt_hash": "abc"}, "prompt_hash"),
        ("internal", {"owner": "ml", "licensor": "x"}, "licensor"),
        ("web", {}, "kind"),
    ],
)  # fmt: skip
def test_a_wrong_term_is_named(kind, terms, field):
    with pytest.raises(TermsError) as error:
        clean_terms(kind, terms)

    assert error.value.field == field


def test_scraped_domains_are_lowercased_sorted_and_deduplicated():
    clean = clean_terms(
        "scraped",
        {"crawler": "ccbot", "domains": "News.example.org, blog.example.com,news.example.org",
         "period_start": "2024-01-01", "period_end": "2024-06-30", "robots": "respected"},
    )  # fmt: skip

    assert clean["domains"] == ["blog.example.com", "news.example.org"]


# --- service and API --------------------------------------------------------------------------------


def test_create_is_audited_and_names_are_unique(people):
    source = services.provenance_source_create(
        project=people.project, actor=people.manager, name="IMDb", kind="public", terms=PUBLIC
    )

    assert source.terms["licence"] == "CC-BY-4.0"
    event = AuditEvent.objects.get(action="provenance_source.created")
    assert event.changes["kind"] == "public"
    with pytest.raises(DomainError) as error:
        services.provenance_source_create(
            project=people.project, actor=people.manager, name="IMDb", kind="internal", terms={"owner": "x"}
        )
    assert error.value.code == "provenance_name_taken"


def test_api_creates_lists_and_refuses_wrong_terms_with_a_code_naming_the_field(people, client_for):
    client = client_for(people.manager)
    url = f"/api/projects/{people.project.id}/provenance-sources/"

    bad = client.post(
        url, {"name": "Users", "kind": "user", "terms": {"legal_basis": "vibes"}}, format="json"
    )
    good = client.post(
        url, {"name": "Users", "kind": "user", "terms": {"legal_basis": "consent"}}, format="json"
    )

    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_provenance_legal_basis"
    assert good.status_code == 201, good.content
    assert good.json()["terms"] == {"legal_basis": "consent"}
    listed = client.get(url).json()
    assert [s["name"] for s in listed] == ["Users"]
    assert ProvenanceSource.objects.count() == 1


def test_outside_the_organisation_the_sources_are_404(people, client_for):
    source = services.provenance_source_create(
        project=people.project, actor=people.manager, name="IMDb", kind="public", terms=PUBLIC
    )
    client = client_for(people.outsider)

    assert client.get(f"/api/projects/{people.project.id}/provenance-sources/").status_code == 404
    assert client.get(f"/api/projects/{people.project.id}/provenance-sources/{source.id}/").status_code == 404


def test_an_annotator_cannot_create_a_source(people, client_for):
    response = client_for(people.annotator).post(
        f"/api/projects/{people.project.id}/provenance-sources/",
        {"name": "x", "kind": "internal", "terms": {"owner": "ml"}},
        format="json",
    )

    assert response.status_code in (403, 404)
    assert not ProvenanceSource.objects.exists()


def test_a_source_in_use_is_not_deleted(people, django_capture_on_commit_callbacks):
    source = services.provenance_source_create(
        project=people.project, actor=people.manager, name="IMDb", kind="public", terms=PUBLIC
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_job_create(
            project=people.project, actor=people.manager, provenance_source_id=source.id,
            upload=SimpleUploadedFile("a.jsonl", b'{"text": "one"}\n'),
        )  # fmt: skip

    with pytest.raises(DomainError) as error:
        services.provenance_source_delete(project=people.project, actor=people.manager, source_id=source.id)

    assert error.value.code == "provenance_source_in_use"


# --- imports ----------------------------------------------------------------------------------------


def test_an_import_attributes_every_item_to_its_source_and_defaults_still_apply(
    people, django_capture_on_commit_callbacks
):
    source = services.provenance_source_create(
        project=people.project, actor=people.manager, name="IMDb", kind="public", terms=PUBLIC
    )
    rows = b"".join(json.dumps({"text": f"review {n}"}).encode() + b"\n" for n in range(5))
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            project=people.project, actor=people.manager, upload=SimpleUploadedFile("r.jsonl", rows),
            provenance_source_id=source.id, defaults={"licence": "CC-BY-4.0", "consent": "not_required"},
        )  # fmt: skip
    job.refresh_from_db()

    assert job.status == "succeeded", job.detail
    assert job.provenance_source_id == source.id
    items = Item.objects.filter(project=people.project)
    assert items.count() == 5
    assert set(items.values_list("provenance_source_id", "licence", "consent")) == {
        (source.id, "CC-BY-4.0", "not_required")
    }


def test_another_projects_source_is_refused_and_nothing_is_stored(people):
    other = services.provenance_source_create(
        project=people.other_project, actor=None, name="Theirs", kind="internal", terms={"owner": "x"}
    )

    with pytest.raises(DomainError) as error:
        import_job_create(
            project=people.project, actor=people.manager, provenance_source_id=other.id,
            upload=SimpleUploadedFile("a.jsonl", b'{"text": "one"}\n'),
        )  # fmt: skip

    assert error.value.code == "invalid_provenance_source"
    assert not people.project.import_jobs.exists()


def test_the_import_api_takes_a_provenance_source(people, client_for, django_capture_on_commit_callbacks):
    source = services.provenance_source_create(
        project=people.project,
        actor=people.manager,
        name="Users",
        kind="user",
        terms={"legal_basis": "consent"},
    )
    client = client_for(people.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/projects/{people.project.id}/imports/",
            {"file": SimpleUploadedFile("u.jsonl", b'{"text": "mine"}\n'), "provenance_source": source.id},
            format="multipart",
        )

    assert response.status_code == 202, response.content
    assert response.json()["provenance_source"] == source.id
    assert Item.objects.get(project=people.project).provenance_source_id == source.id
    refused = client.post(
        f"/api/projects/{people.project.id}/imports/",
        {"file": SimpleUploadedFile("u.jsonl", b'{"text": "x"}\n'), "provenance_source": 999999},
        format="multipart",
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_provenance_source"


# --- record of processing ---------------------------------------------------------------------------


def test_record_of_processing_per_project_and_source_as_csv_and_json(people, client):
    from core.downloads import DOWNLOAD_HEADERS
    from tests.factories import make_items

    project = people.project
    project.settings = {"retention": {"raw_media_days": 30, "unreleased_items_days": None, "drafts_days": 7}}
    project.save(update_fields=["settings"])
    user = services.provenance_source_create(
        project=project,
        actor=people.manager,
        name="App feedback",
        kind="user",
        terms={"legal_basis": "consent"},
    )
    make_items(project, "a", "b", consent="granted", provenance_source_id=user.id)
    make_items(project, "c", consent="withdrawn", provenance_source_id=user.id)
    make_items(project, "d", licence="MIT")
    client.force_login(people.org_admin)

    response = client.get(f"/organisations/{project.organisation_id}/record-of-processing.json")

    assert response.status_code == 200
    for header, value in DOWNLOAD_HEADERS.items():
        assert response[header] == value
    assert "attachment" in response["Content-Disposition"]
    rows = json.loads(response.content)["rows"]
    mine = [r for r in rows if r["project_id"] == project.id]
    assert [(r["source"], r["kind"], r["legal_basis"], r["items"]) for r in mine] == [
        ("App feedback", "user", "consent", 3),
        (None, None, None, 1),
    ]
    assert mine[0]["consent"] == {"granted": 2, "not_required": 0, "withdrawn": 1, "unknown": 0}
    assert mine[0]["retention"] == {"raw_media_days": 30, "unreleased_items_days": None, "drafts_days": 7}
    assert mine[1]["licences"] == ["MIT"]
    assert people.other_project.id not in {r["project_id"] for r in rows}
    csv_body = client.get(
        f"/organisations/{project.organisation_id}/record-of-processing.csv"
    ).content.decode()
    assert csv_body.startswith("project,project_id,source,source_id,kind,legal_basis,licences,items,")
    assert "App feedback" in csv_body


def test_record_of_processing_is_404_outside_the_organisation_and_403_for_members(people, client):
    url = f"/organisations/{people.project.organisation_id}/record-of-processing.csv"

    client.force_login(people.outsider)
    assert client.get(url).status_code == 404
    client.force_login(people.org_member)
    assert client.get(url).status_code == 403


# --- where it shows: Data tab, items API, item page -------------------------------------------------


def test_data_tab_filters_and_shows_items_by_source_kind(people, client, client_for):
    from tests.factories import make_items

    public = services.provenance_source_create(
        project=people.project, actor=people.manager, name="IMDb", kind="public", terms=PUBLIC
    )
    mine, theirs = make_items(people.project, "from imdb", "from nowhere")
    Item.objects.filter(pk=mine.pk).update(provenance_source=public)
    client.force_login(people.manager)

    page = client.get(f"/projects/{people.project.id}/data/?provenance_kind=public")
    api = client_for(people.manager).get(f"/api/projects/{people.project.id}/items/?provenance_kind=none")
    bad = client_for(people.manager).get(f"/api/projects/{people.project.id}/items/?provenance_kind=web")
    item_page = client.get(f"/projects/{people.project.id}/items/{mine.id}/")

    html = page.content.decode()
    assert "from imdb" in html and "from nowhere" not in html
    assert "IMDb · public" in html
    assert [row["id"] for row in api.json()["results"]] == [theirs.id]
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_filter"
    assert item_page.status_code == 200
    assert 'id="item-provenance"' in item_page.content.decode()
    assert "ai.stanford.edu" in item_page.content.decode()


# --- bucket sources ---------------------------------------------------------------------------------


def test_a_bucket_sync_attributes_its_items_to_the_bucket_sources_provenance(
    people, s3, make_source, django_capture_on_commit_callbacks
):
    from annotation.sources.services import bucket_source_update

    from .test_bucket_sources import _put, _sync

    scraped = services.provenance_source_create(
        project=people.project, actor=people.manager, name="Field crawl", kind="scraped",
        terms={"crawler": "fieldbot", "domains": ["example.org"], "period_start": "2024-01-01",
               "period_end": "2024-03-31", "robots": "respected"},
    )  # fmt: skip
    other = services.provenance_source_create(
        project=people.other_project, actor=None, name="Theirs", kind="internal", terms={"owner": "x"}
    )
    with pytest.raises(DomainError) as error:
        make_source(provenance_source=other.id)
    assert error.value.code == "invalid_provenance_source"
    source = make_source()
    bucket_source_update(source=source, actor=people.manager, provenance_source=scraped.id)
    _put(s3, "field/cat.jpg", b"cat pixels")

    _sync(source, django_capture_on_commit_callbacks)

    assert list(
        Item.objects.filter(project=people.project).values_list("provenance_source_id", flat=True)
    ) == [scraped.id]
    assert AuditEvent.objects.filter(action="bucket_source.updated").get().changes == {
        "provenance_source": [None, scraped.id]
    }
