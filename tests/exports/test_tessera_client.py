# ruff: noqa: F811 - the lab/release_storage fixtures are imported from test_release_service
"""`python -m tessera_client pull` against a live server (pytest-django's live_server, Celery eager):
pull and verify with a token, a tampered file named with exit 1, a partial file resumed with Range,
and the client's canonical JSON equal to the server's (it signs those bytes)."""

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import api_token_create
from exports import services
from exports.canonical import canonical_bytes as server_canonical
from tessera_client.__main__ import PullError, _safe_path, main
from tessera_client.verify import canonical_bytes, merkle_root

from .test_release_service import lab, release_storage, set_consensus  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def release(people, lab, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = services.release_create(
            project=people.project, actor=people.manager, name="v1", formats=["jsonl", "csv"]
        )
    created.refresh_from_db()
    assert created.is_published
    return created


@pytest.fixture
def token(people):
    return api_token_create(user=people.reviewer, name="pull")[1]


def pull(live_server, project, token, out, *extra):
    return main(
        ["pull", str(project.id), "1", "--out", str(out), "--url", live_server.url, "--token", token, *extra]
    )


def test_pull_downloads_and_verifies_a_release(people, release, token, live_server, tmp_path, capsys):
    out = tmp_path / "release"

    assert pull(live_server, people.project, token, out) == 0

    assert "OK: " in capsys.readouterr().out
    stored = {file.path: file.sha256 for file in release.files.all()}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(stored)
    assert json.loads((out / "manifest.json").read_bytes()) == release.manifest


def test_a_release_with_media_is_pulled_in_parallel_and_verified(
    people, lab, token, live_server, tmp_path, capsys, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from annotation.models import Item

    project, items = lab
    for n, item in enumerate(items[:4]):  # give the labelled items stored files of their own
        name = default_storage.save(f"media/test/{n}.png", ContentFile(bytes([n]) * (50_000 + n)))
        Item.objects.filter(pk=item.pk).update(media=name, media_type="image")
    with django_capture_on_commit_callbacks(execute=True):
        created = services.release_create(project=project, actor=people.manager, name="v1", formats=["jsonl"])
    created.refresh_from_db()
    assert created.manifest["media"]["files"] == 4
    out = tmp_path / "release"

    assert pull(live_server, people.project, token, out, "--jobs", "3") == 0

    assert f"OK: {created.files.count() - 1} files" in capsys.readouterr().out
    for n, item in enumerate(items[:4]):
        assert (out / "media" / f"{item.id}.png").read_bytes() == bytes([n]) * (50_000 + n)
    assert pull(live_server, people.project, token, out, "--jobs", "0") == 2


def test_a_tampered_file_is_named_and_exits_1_then_pull_repairs_it(
    people, release, token, live_server, tmp_path, capsys
):
    out = tmp_path / "release"
    assert pull(live_server, people.project, token, out) == 0
    target = out / "csv" / "train.csv"
    body = target.read_bytes()
    target.write_bytes(body[:-1] + (b"X" if body[-1:] != b"X" else b"Y"))  # same size, other bytes
    (out / "jsonl" / "test.jsonl").unlink()
    capsys.readouterr()

    assert pull(live_server, people.project, token, out, "--verify") == 1

    assert capsys.readouterr().out.splitlines() == ["changed: csv/train.csv", "missing: jsonl/test.jsonl"]
    assert pull(live_server, people.project, token, out) == 0
    assert target.read_bytes() == body


def test_an_edited_manifest_fails_the_signature(people, release, token, live_server, tmp_path, capsys):
    out = tmp_path / "release"
    assert pull(live_server, people.project, token, out) == 0
    manifest = json.loads((out / "manifest.json").read_bytes())
    manifest["counts"]["records"] += 1
    (out / "manifest.json").write_bytes(canonical_bytes(manifest) + b"\n")
    capsys.readouterr()
    assert pull(live_server, people.project, token, out, "--verify") == 1
    assert capsys.readouterr().out.startswith("signature: does not verify")


def test_an_interrupted_download_resumes_with_a_range(people, release, token, live_server, tmp_path, capsys):
    out = tmp_path / "release"
    assert pull(live_server, people.project, token, out) == 0
    target = out / "jsonl" / "train.jsonl"
    whole = target.read_bytes()
    target.write_bytes(whole[: len(whole) // 2])  # what a killed download leaves
    capsys.readouterr()

    assert pull(live_server, people.project, token, out) == 0

    log = capsys.readouterr().err
    assert "resumed jsonl/train.jsonl" in log  # a 206 answer, appended to the partial file
    assert "downloaded" not in log  # every other file was kept
    assert target.read_bytes() == whole


def test_without_a_valid_token_the_pull_fails_with_exit_2(people, release, live_server, tmp_path, capsys):
    assert pull(live_server, people.project, "tsr_wrong", tmp_path / "r") == 2
    assert "HTTP 401" in capsys.readouterr().err
    annotator = api_token_create(user=people.annotator, name="a")[1]
    assert pull(live_server, people.project, annotator, tmp_path / "r") == 2
    assert "HTTP 403" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_cli_runs_without_django(people, release, token, live_server, tmp_path):
    code = (
        "import sys; sys.modules['django'] = None; sys.modules['exports'] = None; "
        "from tessera_client.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    args = ["pull", str(people.project.id), "1", "--out", str(tmp_path / "r"), "--url", live_server.url]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env={"TESSERA_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", "a\\b", "", "a//b"])
def test_unsafe_file_names_from_a_server_are_refused(tmp_path, name):
    with pytest.raises(PullError):
        _safe_path(tmp_path, name)


def test_client_canonical_json_and_merkle_root_match_the_server():
    from exports.manifest import FileEntry
    from exports.manifest import merkle_root as server_merkle

    rng = random.Random(7)
    floats = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(5000)]
    floats = [f for f in floats if f == f and abs(f) != float("inf")]
    floats += [0.1, 10.0, -0.0, 1e-7, 0.00001, 2.5e-5, 1e16, 1e15, 0.8, 1 / 3]
    value = {"b": floats, "a": {"é": 'quote " back \\ nl \n ctl \x01 ls \u2028', "n": [None, True, 2**63]}}
    assert canonical_bytes(value) == server_canonical(value)
    entries = [(f"p/{i}.csv", f"{i:064x}") for i in range(7)]
    assert merkle_root(entries) == server_merkle(FileEntry(p, d, 1) for p, d in entries)
    assert merkle_root([]) == server_merkle([])
