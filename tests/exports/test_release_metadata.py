"""croissant.json and DATASHEET.md from the same facts as the manifest, in a complete release."""

import json
from dataclasses import replace

import pytest

from exports.canonical import canonical_bytes
from exports.croissant import build_croissant
from exports.datasheet import build_datasheet, md
from exports.facts import ReleaseTally, Source
from exports.formats import FORMATS
from exports.manifest import (
    MANIFEST_NAME,
    DirectoryOutput,
    build_manifest,
    generate_private_key,
    manifest_bytes,
    sign_manifest,
    verify_release,
)

from .conftest import SCHEMA, assert_mlcroissant_validates, make_records
from .test_manifest import make_facts


def build_release(root, records, ctx, key, facts_changes=None):
    """What the build task will do: every applicable format, then croissant.json, DATASHEET.md, manifest."""
    output = DirectoryOutput(root)
    tally = ReleaseTally(SCHEMA)
    FORMATS["jsonl"].write(tally.wrap(iter(records)), ctx, output)
    for name in ("csv", "parquet", "coco", "conll"):
        FORMATS[name].write(iter(records), ctx, output)
    facts = replace(
        make_facts(tally), formats=("jsonl", "csv", "parquet", "coco", "conll"), **(facts_changes or {})
    )
    data_files = output.entries()
    with output("croissant.json") as handle:
        handle.write(canonical_bytes(build_croissant(facts, data_files)) + b"\n")
    with output("DATASHEET.md") as handle:
        handle.write(build_datasheet(facts, data_files).encode("utf-8"))
    manifest = sign_manifest(build_manifest(facts, output.entries()), key)
    (root / MANIFEST_NAME).write_bytes(manifest_bytes(manifest))
    return manifest


@pytest.fixture
def release(tmp_path, records, ctx):
    key = generate_private_key()
    root = tmp_path / "release"
    root.mkdir()
    manifest = build_release(root, records, ctx, key)
    return root, manifest, key


def test_mlcroissant_validate_accepts_croissant_json(release):
    root, _, _ = release

    assert_mlcroissant_validates(root / "croissant.json")


def test_mlcroissant_reads_the_records_and_rai_fields(release):
    import mlcroissant as mlc

    root, _, _ = release

    dataset = mlc.Dataset(str(root / "croissant.json"))
    rows = list(dataset.records("records"))

    assert sorted(int(row["records/item_id"]) for row in rows) == list(range(1000, 1008))
    by_id = {int(row["records/item_id"]): row for row in rows}
    assert by_id[1001]["records/label.sentiment"] == b"neutral"
    assert by_id[1001]["records/confidence.sentiment"] == pytest.approx(0.6)
    metadata = dataset.metadata
    assert "reviews-2024.jsonl" in metadata.data_collection
    assert metadata.annotator_demographics[0].startswith("Not collected")
    assert metadata.data_annotation_protocol[0].startswith(
        "Annotated in Tessera under label schema version 3"
    )


def test_croissant_lists_per_split_files_with_their_hashes(release):
    root, manifest, _ = release
    croissant = json.loads((root / "croissant.json").read_bytes())

    listed = {
        d["contentUrl"]: d["sha256"] for d in croissant["distribution"] if d["@type"] == "cr:FileObject"
    }
    in_manifest = {f["path"]: f["sha256"] for f in manifest["files"]}

    assert set(listed) == {p for p in in_manifest if p.split("/")[0] in {"jsonl", "csv", "parquet"}}
    assert all(in_manifest[path] == digest for path, digest in listed.items())
    assert croissant["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert croissant["version"] == "1.0.0"


def test_datasheet_states_the_facts_and_the_eu_summary_sections(release):
    root, _manifest, _ = release
    text = (root / "DATASHEET.md").read_text(encoding="utf-8")

    assert text.startswith("# Datasheet: Reviews: release v1\n")
    assert "| train | 4 |" in text
    assert "| sentiment | positive | 4 |" in text
    assert "| reviews\\-2024.jsonl | 8 | CC\\-BY\\-4.0 | obtained | public |" in text
    assert "| sentiment | krippendorff\\_alpha | 0.710 |" in text
    assert "Synthetic share: 25.00% of records." in text
    for heading in (
        "## Training data summary",
        "### 1. General information",
        "#### 1.3 Modalities, overall training data size and other characteristics",
        "### 2. List of data sources",
        "#### 2.1 Publicly available datasets",
        "#### 2.5 Synthetic data",
        "### 3. Data processing aspects",
        "#### 3.1 Respect of reservation of rights from text and data mining exception or limitation",
    ):
        assert f"\n{heading}\n" in text


def test_hostile_names_are_escaped_in_the_datasheet(tmp_path, records, ctx):
    key = generate_private_key()
    root = tmp_path / "r"
    root.mkdir()
    hostile = Source(name="<img src=x onerror=alert(1)>", items=1, licence="[x](javascript:alert(1))")
    build_release(
        root, records, ctx, key, {"project_name": "<script>alert(1)</script>", "sources": (hostile,)}
    )

    text = (root / "DATASHEET.md").read_text(encoding="utf-8")

    assert "<script>" not in text and "<img" not in text
    assert "](javascript:" not in text
    assert md("<img src=x>") == "&lt;img src=x&gt;"
    assert md("[a](b)\nc") == "\\[a\\]\\(b\\) c"


def test_whole_release_verifies_and_rebuilds_byte_identically(tmp_path, release, ctx):
    root, manifest, key = release
    again = tmp_path / "again"
    again.mkdir()

    rebuilt = build_release(again, make_records(), ctx, key)

    assert verify_release(root, manifest, key.public_key()) == []
    assert manifest_bytes(rebuilt) == (root / MANIFEST_NAME).read_bytes()
    (root / "DATASHEET.md").write_text("edited", encoding="utf-8")
    assert verify_release(root, manifest, key.public_key()) == ["changed: DATASHEET.md"]
