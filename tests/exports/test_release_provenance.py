# ruff: noqa: F811 - the lab/release_storage fixtures are imported from test_release_service
"""Provenance (#18) in a built release with two source kinds: each record's lineage in every format
that writes lineage (jsonl, csv, parquet), the manifest's sources with kind and terms, DATASHEET.md's
EU training-data summary filled from them, croissant RAI, and AI_RMF.json signed in the manifest and
checked by `tessera pull --verify`."""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from accounts.services import api_token_create
from annotation.models import Item
from annotation.provenance import services as provenance_services
from exports import services
from exports.manifest import MANIFEST_NAME
from tessera_client.__main__ import main

from .test_release_service import lab, release_storage, set_consensus  # noqa: F401 - fixtures

PUBLIC = {
    "dataset": "IMDb reviews",
    "url": "https://ai.stanford.edu/~amaas/data/sentiment/",
    "licence": "CC-BY-4.0",
}


@pytest.fixture
def two_kinds(people, lab):
    project, items = lab
    public = provenance_services.provenance_source_create(
        project=project, actor=people.manager, name="IMDb", kind="public", terms=PUBLIC
    )
    user = provenance_services.provenance_source_create(
        project=project, actor=people.manager, name="App feedback", kind="user",
        terms={"legal_basis": "consent"},
    )  # fmt: skip
    Item.objects.filter(pk__in=[items[0].pk, items[1].pk]).update(
        provenance_source=public, licence="CC-BY-4.0"
    )
    Item.objects.filter(pk__in=[items[2].pk, items[3].pk]).update(provenance_source=user, consent="granted")
    return project, items, public, user


@pytest.fixture
def built(people, two_kinds, django_capture_on_commit_callbacks, release_storage):
    with django_capture_on_commit_callbacks(execute=True):
        release = services.release_create(
            project=people.project, actor=people.manager, name="v1", formats=["jsonl", "csv", "parquet"],
            licence="CC-BY-4.0",
        )  # fmt: skip
    release.refresh_from_db()
    assert release.is_published, release.error
    return release, release_storage / release.storage_prefix


PUBLIC_LINEAGE = {"kind": "public", "name": "IMDb", "terms": PUBLIC}
USER_LINEAGE = {"kind": "user", "name": "App feedback", "terms": {"legal_basis": "consent"}}


@pytest.mark.django_db
def test_every_format_writes_the_provenance_in_the_lineage(two_kinds, built):
    _project, items, _public, _user = two_kinds
    _release, root = built
    expected = {items[0].id: PUBLIC_LINEAGE, items[1].id: PUBLIC_LINEAGE, items[2].id: USER_LINEAGE}
    expected[items[3].id] = USER_LINEAGE

    jsonl = {}
    for path in (root / "jsonl").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            jsonl[row["item_id"]] = row["lineage"]
    csv_rows = {}
    for path in (root / "csv").glob("*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            csv_rows[int(row["item_id"])] = json.loads(row["lineage"])
    parquet = {}
    for path in (root / "parquet").glob("*.parquet"):
        for row in pq.read_table(path).to_pylist():
            parquet[row["item_id"]] = json.loads(row["lineage"])

    for found in (jsonl, csv_rows, parquet):
        assert {item: lineage["provenance"] for item, lineage in found.items()} == expected


@pytest.mark.django_db
def test_manifest_datasheet_croissant_and_ai_rmf_say_the_kinds_and_terms(built):
    _release, root = built
    manifest = json.loads((root / MANIFEST_NAME).read_bytes())

    sources = {s["name"]: s for s in manifest["sources"]}
    assert sources["IMDb"]["kind"] == "public"
    assert sources["IMDb"]["url"] == PUBLIC["url"]
    assert sources["IMDb"]["terms"] == PUBLIC
    assert sources["App feedback"]["kind"] == "user"
    assert sources["App feedback"]["consent"] == "obtained"

    datasheet = (root / "DATASHEET.md").read_text()
    public_section = datasheet.split("#### 2.1 Publicly available datasets")[1].split("####")[0]
    assert "IMDb: 2 items, licence CC\\-BY\\-4.0" in public_section
    assert "ai.stanford.edu" in public_section
    user_section = datasheet.split("#### 2.4 User data")[1].split("####")[0]
    assert "App feedback: 2 items" in user_section
    assert "legal basis (GDPR Art. 6) consent" in user_section

    croissant = json.loads((root / "croissant.json").read_bytes())
    assert croissant["rai:dataCollectionType"] == ["public", "user"]
    assert "legal_basis consent" in croissant["rai:dataCollection"]

    rmf = json.loads((root / "AI_RMF.json").read_bytes())
    assert "AI_RMF.json" in {entry["path"] for entry in manifest["files"]}
    rows = {row["id"]: row for row in rmf["subcategories"]}
    assert list(rows) == [
        "MAP 2.3", "MAP 4.1", "MAP 4.2", "MEASURE 2.1", "MEASURE 2.2", "MEASURE 2.3", "MEASURE 2.5",
        "MEASURE 2.10",
    ]  # fmt: skip
    assert rows["MAP 2.3"]["facts"]["provenance_kinds"] == {"public": 2, "user": 2}
    assert rows["MAP 2.3"]["status"] == "evidenced"
    assert rows["MEASURE 2.10"]["facts"]["user_data_legal_bases"] == {"App feedback": "consent"}
    assert rows["MEASURE 2.10"]["status"] == "partial"  # not scanned for personal data
    assert any("scanned" in gap for gap in rows["MEASURE 2.10"]["gaps"])
    assert rows["MEASURE 2.1"]["facts"]["gold_items"] == 0  # the lab's gold item has no reference answer
    assert "No gold (reference-answer) items are in the release." in rows["MEASURE 2.1"]["gaps"]
    assert rows["MEASURE 2.1"]["status"] == "partial"  # a test split, no gold
    assert all(row["status"] in ("evidenced", "partial", "gap") for row in rows.values())


@pytest.mark.django_db
def test_the_rebuild_is_byte_identical(built, tmp_path):
    release, root = built

    problems = services.release_reproduce(release=release, directory=tmp_path / "again")

    assert problems == []
    assert (tmp_path / "again" / "AI_RMF.json").read_bytes() == (root / "AI_RMF.json").read_bytes()


@pytest.mark.django_db(transaction=True)
def test_tessera_pull_verify_checks_ai_rmf(people, built, live_server, tmp_path, capsys):
    _release, _root = built
    token = api_token_create(user=people.reviewer, name="pull")[1]
    out = tmp_path / "pulled"
    args = [
        "pull",
        str(people.project.id),
        "1",
        "--out",
        str(out),
        "--url",
        live_server.url,
        "--token",
        token,
    ]

    assert main(args) == 0
    assert (out / "AI_RMF.json").exists()
    (out / "AI_RMF.json").write_bytes((out / "AI_RMF.json").read_bytes().replace(b"gap", b"gop", 1))

    assert main([*args, "--verify"]) == 1
    assert "AI_RMF.json" in capsys.readouterr().out
