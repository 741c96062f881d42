"""Round trip: Label Studio export -> Tessera -> release in `labelstudio` format -> label-studio-sdk.

label-studio-sdk's own Converter (with the original labeling config) is the reader: it must find the
same regions, for the same annotators' work, in our release as in the original export.
"""

import json
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from label_studio_sdk.converter import Converter

from annotation.imports.services.jobs import import_job_create
from exports import services as release_services
from projects import services as project_services

from .labelstudio_export import CONFIG, TESSERA_SCHEMA, export_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def release_storage(settings, tmp_path):
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.EXPORTS_SIGNING_KEY_PATH = str(tmp_path / "keys" / "release.pem")
    return root


def _normal(value):
    """Regions as comparable values: floats rounded (percent arithmetic), ids and render sizes left out."""
    if isinstance(value, float):
        return round(value, 6) if not value.is_integer() else int(value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        skip = {"id", "parentID", "closed"}
        if value.get("type") == "keypointlabels":
            skip.add("width")  # the point's drawing size in Label Studio, not a label
        return {k: _normal(v) for k, v in sorted(value.items()) if k not in skip}
    return value


def _read(path) -> Counter:
    """(text, from_name regions) of every annotation, as label-studio-sdk reads them."""
    converter = Converter(CONFIG, project_dir=str(path.parent), download_resources=False)
    found = Counter()
    for entry in converter.iter_from_json_file(str(path)):
        if entry is None or not entry["output"]:
            continue
        outputs = {
            name: sorted((_normal(v) for v in values), key=json.dumps)
            for name, values in entry["output"].items()
        }
        found[json.dumps([entry["input"]["text"], outputs], sort_keys=True)] += 1
    return found


def _relations(tasks) -> Counter:
    found = Counter()
    for task in tasks:
        for annotation in task["annotations"]:
            for region in annotation["result"]:
                if region.get("type") == "relation":
                    found[(task["data"]["text"], region["labels"][0], region["direction"])] += 1
    return found


@pytest.mark.parametrize("schema_from", ["hand-written schema", "the Label Studio config"])
def test_a_label_studio_export_survives_the_round_trip(
    schema_from, people, tmp_path, release_storage, django_capture_on_commit_callbacks
):
    if schema_from == "the Label Studio config":
        # What a migrating team does: "New project from a Label Studio config", then the export.
        project, _, untranslated = project_services.project_create_from_labelstudio(
            organisation=people.organisation, actor=people.manager, name="Migrated", labelstudio_config=CONFIG
        )
        assert {entry["name"] for entry in untranslated} <= {"sentiment", "summary"}  # display attributes
    else:
        project = people.project
        project_services.schema_version_create(
            project=project, actor=people.manager, definition=TESSERA_SCHEMA
        )
    original = tmp_path / "original.json"
    original.write_bytes(export_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            project=project,
            actor=people.manager,
            upload=SimpleUploadedFile("export.json", original.read_bytes()),
        )
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_sample
    with django_capture_on_commit_callbacks(execute=True):
        release = release_services.release_create(
            project=project, actor=people.manager, name="ls", formats=["labelstudio"], include_raw=True
        )
    release.refresh_from_db()
    assert release.status == "published", release.detail
    released = json.loads(
        (release_storage / release.storage_prefix / "labelstudio" / "tasks.json").read_text()
    )
    # The raw annotations, one per annotator (the consensus, first, is Tessera's own addition).
    for task in released:
        kinds = task["meta"]["annotations"]
        task["annotations"] = [
            a for a, k in zip(task["annotations"], kinds, strict=True) if k["source"] == "annotator"
        ]
    ours = tmp_path / "released.json"
    ours.write_text(json.dumps(released))

    source = json.loads(original.read_text())
    annotated = [t for t in source if any(not a["was_cancelled"] for a in t["annotations"])]
    assert len(released) == len(annotated) == 45
    # Original data keys are kept: the same config loads them ($text, $image).
    by_text = {t["data"]["text"]: t for t in released}
    for task in annotated:
        assert {k: by_text[task["data"]["text"]]["data"][k] for k in task["data"]} == task["data"]

    # Imported annotators are marked as such in the lineage (pseudonymous all the same).
    for task in released:
        described = [k for k in task["meta"]["annotations"] if k["source"] == "annotator"]
        assert described and all(k["annotator"].startswith("ann-imported-") for k in described)

    expected, got = _read(original), _read(ours)
    assert sum(expected.values()) == 55
    assert got == expected
    assert _relations(released) == _relations(annotated)
