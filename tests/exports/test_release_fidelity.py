# ruff: noqa: F811 - fixtures are imported from other test modules
"""Nothing lost on the way in or out (issue #13): empty files pulled, gold items released with their
reference answer, pairwise strength carried, empty transcriptions, per-annotation lineage versions."""

import pytest

from accounts.services import api_token_create
from quality.models import ConsensusResult
from tessera_client.__main__ import main as tessera

from .test_release_media import images  # noqa: F401 - fixtures
from .test_release_service import create_release, release_storage  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_pull_verifies_a_yolo_release_with_an_image_without_boxes(
    people, images, create_release, live_server, tmp_path, capsys
):
    project, items, _ = images
    ConsensusResult.objects.filter(item=items[1]).update(answer=[])  # looked at, nothing to box
    release = create_release(formats=["yolo"])
    empty = [f for f in release.files.all() if f.size == 0]
    assert [f.path for f in empty] == [f"yolo/labels/train/{items[1].id}.txt"]
    token = api_token_create(user=people.reviewer, name="pull")[1]
    out = tmp_path / "release"
    args = ["pull", str(project.id), str(release.number), "--out", str(out), "--url", live_server.url]

    assert tessera([*args, "--token", token]) == 0
    assert (out / empty[0].path).is_file() and (out / empty[0].path).stat().st_size == 0
    assert tessera([*args, "--token", token]) == 0  # again: every file kept
    assert tessera([*args, "--token", token, "--verify"]) == 0
    assert capsys.readouterr().out.count("OK: ") == 3
