import hashlib
import json

import pytest

from exports import verify
from exports.facts import ReleaseFacts, ReleaseTally, Source
from exports.formats import FORMATS
from exports.manifest import (
    MANIFEST_NAME,
    DirectoryOutput,
    FileEntry,
    build_manifest,
    generate_private_key,
    manifest_bytes,
    merkle_root,
    public_key_pem,
    sha256_file,
    sign_manifest,
    verify_release,
)

from .conftest import SCHEMA


def make_facts(tally: ReleaseTally) -> ReleaseFacts:
    summary = tally.summary()
    return ReleaseFacts(
        project_name="Reviews",
        project_slug="reviews",
        release_name="v1",
        release_number=1,
        schema=SCHEMA,
        schema_version=3,
        guideline_version=2,
        licence="CC-BY-4.0",
        consensus={
            "sentiment": {"method": "dawid_skene"},
            "objects": {"method": "box_consensus", "iou": 0.5},
        },
        filter={"status": ["accepted"]},
        counts=summary["counts"],
        agreement={"sentiment": {"metric": "krippendorff_alpha", "value": 0.71, "ci95": [0.65, 0.77]}},
        annotators=summary["annotators"],
        sources=(
            Source(
                name="reviews-2024.jsonl", items=8, licence="CC-BY-4.0", consent="obtained", kind="public"
            ),
        ),
        synthetic_share=summary["synthetic_share"],
        transformations=(
            {"type": "dedup", "removed": 3},
            {"type": "split", "seed": 7, "ratios": [0.8, 0.1, 0.1]},
        ),
        formats=("jsonl", "coco"),
        published="2026-11-24",
        organisation="Acme Research",
    )


@pytest.fixture
def release(tmp_path, records, ctx):
    """A written release directory with a signed manifest.json, and the key that signed it."""
    root = tmp_path / "release"
    root.mkdir()
    output = DirectoryOutput(root)
    tally = ReleaseTally(SCHEMA)
    FORMATS["jsonl"].write(tally.wrap(iter(records)), ctx, output)
    FORMATS["coco"].write(iter(records), ctx, output)
    key = generate_private_key()
    manifest = sign_manifest(build_manifest(make_facts(tally), output.entries()), key)
    (root / MANIFEST_NAME).write_bytes(manifest_bytes(manifest))
    return root, manifest, key


def test_merkle_root_follows_the_documented_construction():
    entries = [FileEntry(f"f{i}", hashlib.sha256(bytes([i])).hexdigest(), 1) for i in (2, 0, 1)]
    h = hashlib.sha256
    leaves = [h(b"\x00" + f"f{i}".encode() + b"\x00" + h(bytes([i])).digest()).digest() for i in (0, 1, 2)]

    root = merkle_root(entries)

    assert root == h(b"\x01" + h(b"\x01" + leaves[0] + leaves[1]).digest() + leaves[2]).hexdigest()
    assert merkle_root([]) == h(b"").hexdigest()
    assert merkle_root(entries[:1]) == leaves[2].hex()


def test_intact_release_verifies(release):
    root, manifest, key = release

    assert verify_release(root, manifest, key.public_key()) == []
    assert [f["path"] for f in manifest["files"]] == [
        "coco/test.json",
        "coco/train.json",
        "coco/validation.json",
        "jsonl/test.jsonl",
        "jsonl/train.jsonl",
        "jsonl/validation.jsonl",
    ]
    assert manifest["files"][4]["sha256"] == sha256_file(root / "jsonl/train.jsonl")[0]
    assert manifest["counts"]["splits"] == {"test": 2, "train": 4, "validation": 2}
    assert manifest["counts"]["labels"]["sentiment"] == {"negative": 2, "neutral": 2, "positive": 4}
    assert manifest["annotators"] == {"count": 2, "annotations": {"ann-7f3a": 8, "ann-c01d": 8}}
    assert manifest["synthetic_share"] == 0.25
    assert manifest["signature"]["algorithm"] == "Ed25519"


def test_tampered_missing_and_extra_files_are_each_named(release):
    root, manifest, key = release
    (root / "jsonl/train.jsonl").write_bytes(
        (root / "jsonl/train.jsonl").read_bytes().replace(b"positive", b"negative")
    )
    (root / "coco/test.json").unlink()
    (root / "coco/evil.json").write_text("{}")

    problems = verify_release(root, manifest, key.public_key())

    assert problems == ["extra: coco/evil.json", "missing: coco/test.json", "changed: jsonl/train.jsonl"]


def test_edited_manifest_fails_the_signature(release):
    root, manifest, key = release
    forged = {**manifest, "counts": {**manifest["counts"], "records": 1}}

    assert verify_release(root, forged, key.public_key()) == [
        "signature: does not verify (manifest.json was changed or signed with another key)"
    ]


def test_a_file_swapped_with_a_matching_manifest_entry_breaks_the_merkle_root(release):
    root, manifest, key = release
    files = [dict(f) for f in manifest["files"]]
    (root / "coco/test.json").write_text("{}")
    files[0] = {"path": "coco/test.json", "sha256": sha256_file(root / "coco/test.json")[0], "bytes": 2}

    problems = verify_release(root, {**manifest, "files": files}, key.public_key())

    assert "merkle_root: does not match the manifest's file list" in problems
    assert problems[0].startswith("signature:")


def test_another_key_is_refused(release):
    root, manifest, _ = release

    problems = verify_release(root, manifest, generate_private_key().public_key())

    assert len(problems) == 1 and problems[0].startswith("signature: made with key")


def test_manifest_and_signature_are_deterministic(records, ctx):
    tally = ReleaseTally(SCHEMA)
    for record in records:
        tally.observe(record)
    key = generate_private_key()
    entries = [FileEntry("b", "00" * 32, 3), FileEntry("a", "11" * 32, 4)]

    first = manifest_bytes(sign_manifest(build_manifest(make_facts(tally), entries), key))
    second = manifest_bytes(sign_manifest(build_manifest(make_facts(tally), list(reversed(entries))), key))

    assert first == second
    assert first.endswith(b"}\n")
    assert b"\n" not in first[:-1]
    assert json.loads(first)["files"][0]["path"] == "a"


@pytest.mark.parametrize(
    "name", ["../x", "/etc/passwd", "a/../../b", "a\\b", "", "a//b", "./a", MANIFEST_NAME]
)
def test_output_refuses_names_outside_the_release(tmp_path, name):
    output = DirectoryOutput(tmp_path)

    with pytest.raises(ValueError):
        output(name)
    assert list(tmp_path.iterdir()) == []


def test_output_refuses_writing_a_name_twice(tmp_path):
    output = DirectoryOutput(tmp_path)
    with output("a/b.txt") as handle:
        handle.write(b"x")

    with pytest.raises((ValueError, FileExistsError)):
        output("a/b.txt")
    assert output.entries() == [FileEntry("a/b.txt", hashlib.sha256(b"x").hexdigest(), 1)]


def test_output_never_writes_through_a_symbolic_link(tmp_path):
    root, outside = tmp_path / "release", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "evil").symlink_to(outside)  # a folder link planted in the release directory
    (root / "trap.txt").symlink_to(outside / "trap.txt")  # and a file link
    output = DirectoryOutput(root)

    with pytest.raises(ValueError, match="leaves the release directory"):
        output("evil/x.txt")
    with pytest.raises(FileExistsError):
        output("trap.txt")
    with output("media/1.png") as handle:
        handle.write(b"png")
    with pytest.raises(ValueError, match="leaves the release directory"):
        output.link("media/1.png", "evil/1.png")
    assert list(outside.iterdir()) == []
    output.link("media/1.png", "yolo/images/train/1.png")
    assert (root / "yolo/images/train/1.png").read_bytes() == b"png"
    assert [e.path for e in output.entries()] == ["media/1.png", "yolo/images/train/1.png"]
    assert output.entries()[0].sha256 == output.entries()[1].sha256


def test_verify_command_reports_ok_and_problems(release, tmp_path, capsys):
    root, _, key = release
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_key_pem(key.public_key()))

    assert verify.main([str(root), "--public-key", str(pem)]) == 0
    assert capsys.readouterr().out.startswith("OK: 6 files, merkle root ")
    (root / "jsonl/test.jsonl").unlink()
    assert verify.main([str(root), "--public-key", str(pem)]) == 1
    assert capsys.readouterr().out == "missing: jsonl/test.jsonl\n"


@pytest.mark.parametrize(
    "files",
    [None, [{"path": "a"}], [{"path": "a", "sha256": "zz", "bytes": 1}], "not a list"],
)
def test_a_malformed_file_list_is_a_problem_not_a_crash(release, files):
    root, manifest, key = release
    broken = {key_: value for key_, value in manifest.items() if key_ != "files"}
    if files is not None:
        broken["files"] = files

    problems = verify_release(root, broken, key.public_key())

    assert problems[-1] == "files: the manifest's file list is malformed"


def test_verify_command_reports_an_unreadable_manifest(tmp_path, capsys):
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_key_pem(generate_private_key().public_key()))

    assert verify.main([str(tmp_path), "--public-key", str(pem)]) == 1
    assert capsys.readouterr().out == "manifest.json: cannot be read (FileNotFoundError)\n"
