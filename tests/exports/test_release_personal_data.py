"""privacy.release_policy in release builds: flag (default), mask, drop; the manifest's and the
datasheet's personal-data facts; no raw value in a masked or dropped release (grep the files)."""

import json

import pytest

from annotation.models import PiiFinding
from annotation.pii.services import pii_detect
from exports import services as export_services
from exports.manifest import MANIFEST_NAME, public_key_from_pem, verify_release
from projects import services as project_services
from quality.models import ConsensusResult
from tests.factories import make_items

from .test_release_service import create_release, release_storage  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

EMAIL = "jane.doe@example.com"
TEXT = f"Ask {EMAIL} about Acme please"
SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {"name": "ner", "type": "spans", "field": "text", "labels": [{"value": "ORG"}, {"value": "CONTACT"}]}
    ],
}


@pytest.fixture
def lab(people, release_storage):  # noqa: F811
    project = people.project
    project_services.schema_version_create(project=project, actor=people.manager, definition=SCHEMA)
    personal, plain = make_items(project, TEXT, "Acme makes phones")
    acme = TEXT.index("Acme")
    for item, spans in [
        (
            personal,
            [
                {"id": "c", "start": 4, "end": 4 + len(EMAIL), "label": "CONTACT", "text": EMAIL},
                {"id": "o", "start": acme, "end": acme + 4, "label": "ORG", "text": "Acme"},
            ],
        ),
        (plain, [{"id": "o", "start": 0, "end": 4, "label": "ORG", "text": "Acme"}]),
    ]:
        ConsensusResult.objects.create(
            project=project,
            item=item,
            control="ner",
            method="majority_vote",
            method_version="1",
            answer=spans,
            confidence=1.0,
            agreement=1.0,
            annotations=1,
        )
    pii_detect(project_id=project.id)
    return project, personal, plain


def set_policy(people, policy):
    project = people.project
    project.refresh_from_db()
    project_services.project_update(
        project=project,
        actor=people.manager,
        settings={**project.settings, "privacy": {"release_policy": policy}},
    )


def files_bytes(root, release) -> bytes:
    return b"".join(p.read_bytes() for p in (root / release.storage_prefix).rglob("*") if p.is_file())


def records(root, release):
    path = root / release.storage_prefix / "jsonl" / "unsplit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_default_flags_and_lists_where_the_personal_data_is(lab, people, create_release, release_storage):  # noqa: F811
    _project, personal, _plain = lab
    release = create_release()
    rows = records(release_storage, release)
    assert len(rows) == 2 and rows[0]["data"]["text"] == TEXT
    sidecar = (release_storage / release.storage_prefix / "personal_data.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in sidecar] == [
        {"item_id": personal.id, "field": "text", "start": 4, "end": 4 + len(EMAIL), "type": "EMAIL"}
    ]
    manifest = json.loads((release_storage / release.storage_prefix / MANIFEST_NAME).read_bytes())
    assert manifest["personal_data"]["policy"] == "flag"
    assert manifest["personal_data"]["items"] == {"dropped": 0, "flagged": 1, "masked": 0}
    assert "personal_data.jsonl" in [f["path"] for f in manifest["files"]]
    key = public_key_from_pem(export_services.signing_public_key_info()["public_key_pem"].encode())
    assert verify_release(release_storage / release.storage_prefix, manifest, key) == []
    datasheet = (release_storage / release.storage_prefix / "DATASHEET.md").read_text()
    assert "## Personal data" in datasheet and "| EMAIL | 1 |" in datasheet and "1 flagged" in datasheet


def test_mask_replaces_values_and_moves_span_labels(lab, people, create_release, release_storage):  # noqa: F811
    from django.utils import timezone

    from annotation.models import Annotation, Assignment

    _project, personal, _plain = lab
    assignment = Assignment.objects.create(
        project=people.project,
        item=personal,
        annotator=people.annotator,
        status="submitted",
        leased_at=timezone.now(),
    )
    Annotation.objects.create(
        project=people.project,
        item=personal,
        assignment=assignment,
        annotator=people.annotator,
        result={"ner": [{"id": "c", "start": 4, "end": 4 + len(EMAIL), "label": "CONTACT", "text": EMAIL}]},
        schema_version=people.project.schema_versions.get(),
    )
    set_policy(people, "mask")
    release = create_release(include_raw=True)
    assert EMAIL.encode() not in files_bytes(release_storage, release)
    key = public_key_from_pem(export_services.signing_public_key_info()["public_key_pem"].encode())
    assert verify_release(release_storage / release.storage_prefix, release.manifest, key) == []
    first = records(release_storage, release)[0]
    masked = first["data"]["text"]
    assert masked == "Ask [EMAIL] about Acme please"
    spans = first["labels"]["ner"]
    assert [masked[s["start"] : s["end"]] for s in spans] == ["[EMAIL]", "Acme"]
    assert [s["text"] for s in spans] == ["[EMAIL]", "Acme"]
    raw = first["annotations"][0]["result"]["ner"][0]
    assert (masked[raw["start"] : raw["end"]], raw["text"]) == ("[EMAIL]", "[EMAIL]")
    assert release.manifest["personal_data"]["items"]["masked"] == 1


def test_drop_leaves_the_items_out_and_says_so(lab, people, create_release, release_storage):  # noqa: F811
    _project, _personal, plain = lab
    set_policy(people, "drop")
    release = create_release()
    assert [r["item_id"] for r in records(release_storage, release)] == [plain.id]
    assert EMAIL.encode() not in files_bytes(release_storage, release)
    assert release.manifest["personal_data"]["items"]["dropped"] == 1
    assert release.manifest["personal_data"]["findings"] == {"EMAIL": 1}
    assert "1 dropped" in (release_storage / release.storage_prefix / "DATASHEET.md").read_text()


def test_dismissed_findings_do_not_count(lab, people, create_release, release_storage):  # noqa: F811
    _project, personal, _plain = lab
    PiiFinding.objects.filter(item=personal).update(status="dismissed")
    set_policy(people, "drop")
    release = create_release()
    assert len(records(release_storage, release)) == 2
    assert release.manifest["personal_data"]["findings"] == {}


def test_reviewers_with_placeholders_download_only_releases_without_raw_personal_data(
    lab,
    people,
    create_release,  # noqa: F811
):
    """Release files cannot be masked per reader: with privacy.mask_for_reviewers a reviewer gets 403
    release_personal_data for the data files of a release that holds raw values (flag policy, one
    flagged item), the description files still, and every file of a release built with `mask`."""
    from django.test import Client
    from rest_framework.test import APIClient

    flagged = create_release(name="flagged")
    set_policy(people, "mask")
    masked = create_release(name="masked")
    project = people.project
    project.refresh_from_db()
    project_services.project_update(
        project=project,
        actor=people.manager,
        settings={**project.settings, "privacy": {**project.settings["privacy"], "mask_for_reviewers": True}},
    )
    reviewer, manager = APIClient(), APIClient()
    reviewer.force_authenticate(people.reviewer)
    manager.force_authenticate(people.manager)
    base = f"/api/projects/{project.id}/releases/"

    refused = reviewer.get(f"{base}{flagged.number}/files/jsonl/unsplit.jsonl")
    assert refused.status_code == 403 and refused.json()["code"] == "release_personal_data"
    assert reviewer.get(f"{base}{flagged.number}/files/{MANIFEST_NAME}").status_code == 200
    assert reviewer.get(f"{base}{flagged.number}/files/DATASHEET.md").status_code == 200
    assert manager.get(f"{base}{flagged.number}/files/jsonl/unsplit.jsonl").status_code == 200
    body = b"".join(reviewer.get(f"{base}{masked.number}/files/jsonl/unsplit.jsonl").streaming_content)
    assert EMAIL.encode() not in body and b"[EMAIL]" in body
    page = Client()
    page.force_login(people.reviewer)
    detail = page.get(f"/projects/{project.id}/releases/{flagged.number}/").content.decode()
    assert 'id="release-files-refused"' in detail and "not yours to download" in detail
    assert (
        'id="release-files-refused"'
        not in page.get(f"/projects/{project.id}/releases/{masked.number}/").content.decode()
    )
