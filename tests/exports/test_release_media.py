# ruff: noqa: F811 - fixtures are imported from test_release_service and test_bucket_sources
"""Media in releases: each item's stored file copied once into ``media/``, YOLO and VOC linking to it,
sizes from the import, bucket objects copied through their source, failures that name the item; and
the release's licence, languages and intended uses in manifest.json, croissant.json and DATASHEET.md."""

import hashlib
import json
import os
import warnings

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.imports.services.jobs import import_job_create
from annotation.models import Item
from annotation.sources.sync import bucket_source_sync
from core.exceptions import DomainError
from exports import services
from exports.datasheet import md
from exports.models import Release, ReleaseFile
from exports.services.storage import Target
from projects import services as project_services
from quality.models import ConsensusResult
from tests.annotation.conftest import make_source, s3  # noqa: F401 - fixtures
from tests.annotation.media_samples import png_bytes, zip_bytes
from tests.annotation.test_bucket_sources import _put

from .conftest import assert_mlcroissant_validates
from .test_release_service import create_release, release_storage  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)  # imports and builds run after real commits

SCHEMA = {
    "version": 1,
    "fields": [{"name": "image", "type": "image", "source": "file"}],
    "controls": [
        {
            "name": "objects",
            "type": "bbox",
            "field": "image",
            "labels": [{"value": "car"}, {"value": "person"}],
        }
    ],
}
SIZES = {"a.png": (64, 48), "b.png": (40, 30), "c.png": (50, 20)}
BOX = {"x": 2, "y": 3, "width": 10, "height": 8, "label": "car"}


def _label(project, items):
    for item in items:
        ConsensusResult.objects.create(
            project=project,
            item=item,
            control="objects",
            method="box_consensus",
            method_version="1",
            answer=[BOX],
            confidence=0.9,
            agreement=0.8,
            annotations=2,
        )


@pytest.fixture
def images(people, release_storage, django_capture_on_commit_callbacks):
    """Three PNGs of different sizes imported as one ZIP (the real import path), boxes as consensus;
    splits train, train, validation."""
    return _import_images(people, django_capture_on_commit_callbacks)


def _import_images(people, django_capture_on_commit_callbacks):
    project = people.project
    project_services.schema_version_create(project=project, actor=people.manager, definition=SCHEMA)
    sources = {name: png_bytes(i, size) for i, (name, size) in enumerate(SIZES.items())}
    with django_capture_on_commit_callbacks(execute=True):
        import_job_create(
            project=project,
            actor=people.manager,
            upload=SimpleUploadedFile("photos.zip", zip_bytes(sources)),
        )
    items = list(Item.objects.filter(project=project).order_by("id"))
    assert len(items) == 3 and all(item.media for item in items)
    for item, split in zip(items, ["train", "train", "validation"], strict=True):
        Item.objects.filter(pk=item.pk).update(split=split)
    _label(project, items)
    by_item = {item.id: sources[item.data["file"]] for item in items}
    return project, items, by_item


def _root(release_storage, release):
    return release_storage / release.storage_prefix


def _jsonl(root):
    records = []
    for path in sorted((root / "jsonl").glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines()]
    return sorted(records, key=lambda r: r["item_id"])


def test_each_items_media_is_copied_once_and_the_layouts_link_to_it(images, create_release, release_storage):
    _, items, originals = images

    release = create_release(formats=["coco", "yolo", "voc"])

    assert release.status == Release.Status.PUBLISHED, release.error
    root = _root(release_storage, release)
    files = {f.path: f.sha256 for f in ReleaseFile.objects.filter(release=release)}
    splits = {items[0].id: "train", items[1].id: "train", items[2].id: "val"}
    for item_id, content in originals.items():
        digest = hashlib.sha256(content).hexdigest()
        copy = root / "media" / f"{item_id}.png"
        assert copy.read_bytes() == content
        assert files[f"media/{item_id}.png"] == digest
        yolo = root / "yolo" / "images" / splits[item_id] / f"{item_id}.png"
        voc = root / "voc" / "JPEGImages" / f"{item_id}.png"
        assert os.path.samefile(copy, yolo) and os.path.samefile(copy, voc)  # linked, not copied again
        assert (
            files[f"yolo/images/{splits[item_id]}/{item_id}.png"]
            == files[f"voc/JPEGImages/{item_id}.png"]
            == digest
        )
    assert release.manifest["media"] == {
        "included": True,
        "files": 3,
        "bytes": sum(len(content) for content in originals.values()),
    }
    records = _jsonl(root)
    assert [r["media"] for r in records] == [
        {
            "path": f"media/{item.id}.png",
            "width": SIZES[item.data["file"]][0],
            "height": SIZES[item.data["file"]][1],
            "duration": None,
            "frame_count": None,
        }
        for item in items
    ]
    assert services.release_verify(release=release)["ok"] is True
    assert services.release_reproduce(release=release, directory=release_storage / "again") == []


def test_coco_and_datumaro_read_the_images_the_release_carries(images, create_release, release_storage):
    from pycocotools.coco import COCO

    datumaro = pytest.importorskip("datumaro")
    _, items, _ = images
    release = create_release(formats=["coco", "yolo", "voc"])
    root = _root(release_storage, release)

    coco_files = sorted((root / "coco").rglob("*.json"))
    assert coco_files
    seen = {}
    for path in coco_files:
        coco = COCO(str(path))
        for image in coco.imgs.values():
            assert (root / image["file_name"]).is_file()  # paths are relative to the release root
            seen[image["id"]] = (image["width"], image["height"])
    assert seen == {item.id: SIZES[item.data["file"]] for item in items}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yolo = datumaro.Dataset.import_from(str(root / "yolo"), "yolo")
        voc = datumaro.Dataset.import_from(str(root / "voc"), "voc_detection")
    for dataset in (yolo, voc):
        sizes = {int(item.id): item.media.size for item in dataset}  # read from the image files
        assert sizes == {item.id: SIZES[item.data["file"]][::-1] for item in items}  # (height, width)


def test_croissant_describes_the_media_and_mlcroissant_accepts_it(images, create_release, release_storage):
    release = create_release(formats=["csv"])
    root = _root(release_storage, release)

    croissant = json.loads((root / "croissant.json").read_text())
    media = [d for d in croissant["distribution"] if d["@id"] == "media-png"]
    assert media == [
        {
            "@type": "cr:FileSet",
            "@id": "media-png",
            "name": "media-png",
            "description": "The items' media files, named by item id (the records' media path).",
            "encodingFormat": "image/png",
            "includes": "media/*.png",
        }
    ]
    assert_mlcroissant_validates(root / "croissant.json")


def test_without_media_a_release_holds_labels_only(images, create_release, release_storage):
    release = create_release(formats=["yolo"], include_media=False)

    root = _root(release_storage, release)
    assert release.status == Release.Status.PUBLISHED, release.error
    assert not (root / "media").exists() and not (root / "yolo" / "images").exists()
    assert len(list((root / "yolo" / "labels").rglob("*.txt"))) == 3
    project, items, _ = images
    assert [r["media"] for r in _jsonl(root)] == [
        {
            "path": f"/api/projects/{project.id}/items/{item.id}/media/",  # fetched with a token
            "width": SIZES[item.data["file"]][0],
            "height": SIZES[item.data["file"]][1],
            "duration": None,
            "frame_count": None,
        }
        for item in items
    ]
    assert release.manifest["media"] == {"included": False, "files": 0, "bytes": 0}
    assert not ReleaseFile.objects.filter(release=release, path__startswith="media/").exists()


def test_a_missing_media_file_fails_the_build_naming_the_item(
    images, create_release, release_storage, people, django_capture_on_commit_callbacks
):
    _, items, originals = images
    default_storage.delete(items[1].media.name)

    release = create_release(formats=["yolo"])

    assert release.status == Release.Status.FAILED
    assert f"the media file of item {items[1].id} could not be read from storage" in release.error
    assert "build the release without media" in release.error
    assert not (release_storage / release.storage_prefix).exists()  # nothing partial is left
    assert not ReleaseFile.objects.filter(release=release).exists()

    # The file comes back (restored from a backup): a retry publishes the release, media and all.
    restored = release_storage / items[1].media.name
    restored.write_bytes(originals[items[1].id])
    with django_capture_on_commit_callbacks(execute=True):
        services.release_retry(release=release, actor=people.manager)
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED, release.error
    root = _root(release_storage, release)
    assert (root / "media" / f"{items[1].id}.png").read_bytes() == originals[items[1].id]


@pytest.fixture
def bucket_items(people, release_storage, s3, make_source, django_capture_on_commit_callbacks):
    """Two PNGs in a bucket source (moto on loopback), synced as items (never downloaded by the sync)."""
    project_services.schema_version_create(project=people.project, actor=people.manager, definition=SCHEMA)
    contents = {"field/a.png": png_bytes(1, (64, 48)), "field/b.png": png_bytes(2, (40, 30))}
    for key, body in contents.items():
        _put(s3, key, body)
    source = make_source()
    with django_capture_on_commit_callbacks(execute=True):
        bucket_source_sync(source_id=source.id)
    items = list(Item.objects.filter(project=people.project).order_by("id"))
    assert [item.media_url for item in items] == ["s3://photos/field/a.png", "s3://photos/field/b.png"]
    _label(people.project, items)
    return items, contents


def test_bucket_objects_are_copied_through_their_source(bucket_items, create_release, release_storage):
    items, contents = bucket_items

    release = create_release(formats=["coco"])

    assert release.status == Release.Status.PUBLISHED, release.error
    root = _root(release_storage, release)
    for item, key in zip(items, sorted(contents), strict=True):
        assert (root / "media" / f"{item.id}.png").read_bytes() == contents[key]
    assert release.manifest["media"]["files"] == 2
    assert services.release_verify(release=release)["ok"] is True


def test_without_media_bucket_items_keep_their_reference(bucket_items, create_release, release_storage):
    items, _ = bucket_items

    release = create_release(name="refs", formats=["jsonl"], include_media=False)

    records = _jsonl(_root(release_storage, release))
    assert [r["item_id"] for r in records] == [item.id for item in items]
    assert [r["media"]["path"] for r in records] == ["s3://photos/field/a.png", "s3://photos/field/b.png"]


def test_a_bucket_object_that_is_gone_fails_the_build(bucket_items, s3, create_release, release_storage):
    items, _ = bucket_items
    s3.delete_object(Bucket="photos", Key="field/b.png")

    release = create_release(formats=["jsonl"])

    assert release.status == Release.Status.FAILED
    assert f"the media of item {items[1].id} could not be read from bucket photos" in release.error
    assert not (release_storage / release.storage_prefix).exists()


@pytest.fixture
def temporary_files(monkeypatch):
    """What each remote build left in its temporary directory just before deleting it."""
    seen: list[str] = []
    cleanup = Target.cleanup

    def spy(target):
        if not target.local:
            seen.extend(p.relative_to(target.root).as_posix() for p in target.root.rglob("*") if p.is_file())
        cleanup(target)

    monkeypatch.setattr(Target, "cleanup", spy)
    return seen


def test_media_on_s3_storage_are_copied_verified_and_downloaded(
    people,
    s3_storage,
    settings,
    tmp_path,
    client_for,
    create_release,
    temporary_files,
    django_capture_on_commit_callbacks,
):
    import urllib.request

    settings.EXPORTS_SIGNING_KEY_PATH = str(tmp_path / "s3-key.pem")
    project, items, originals = _import_images(people, django_capture_on_commit_callbacks)

    release = create_release(formats=["yolo"])

    # Media were streamed into the bucket (YOLO's copies made there, server-side): the worker's
    # temporary directory held only the label files and metadata.
    assert temporary_files and not [p for p in temporary_files if p.startswith(("media/", "yolo/images/"))]

    assert release.status == Release.Status.PUBLISHED, release.error
    assert services.release_verify(release=release)["ok"] is True
    client = client_for(people.manager)
    for path in (f"media/{items[0].id}.png", f"yolo/images/train/{items[0].id}.png"):
        response = client.get(f"/api/projects/{project.id}/releases/1/files/{path}")
        assert response.status_code == 302
        assert urllib.request.urlopen(response["Location"]).read() == originals[items[0].id]  # noqa: S310


def test_bucket_media_are_streamed_into_an_s3_release(
    people,
    s3_storage,
    s3,
    make_source,
    settings,
    tmp_path,
    create_release,
    django_capture_on_commit_callbacks,
):
    s3.create_bucket(Bucket="tessera-test")  # the s3 fixture reset moto after s3_storage made it
    settings.EXPORTS_SIGNING_KEY_PATH = str(tmp_path / "s3-key.pem")
    project_services.schema_version_create(project=people.project, actor=people.manager, definition=SCHEMA)
    body = png_bytes(5, (64, 48))
    _put(s3, "field/a.png", body)
    source = make_source()
    with django_capture_on_commit_callbacks(execute=True):
        bucket_source_sync(source_id=source.id)
    (item,) = Item.objects.filter(project=people.project)
    _label(people.project, [item])

    release = create_release(formats=["voc"])

    assert release.status == Release.Status.PUBLISHED, release.error
    for path in (f"media/{item.id}.png", f"voc/JPEGImages/{item.id}.png"):
        with default_storage.open(f"{release.storage_prefix}{path}", "rb") as handle:
            assert handle.read() == body
    assert ReleaseFile.objects.get(release=release, path=f"media/{item.id}.png").sha256 == (
        hashlib.sha256(body).hexdigest()
    )
    assert services.release_verify(release=release)["ok"] is True


# --- Licence, languages, intended uses ----------------------------------------------------------------


def test_licence_and_languages_are_checked_and_normalised(images, create_release, release_storage):
    release = create_release(
        formats=["csv"],
        licence="cc-by-4.0 or mit",
        languages="EN, pt-BR, en",
        intended_uses="Training <b>detectors</b> for street scenes.",
        limitations="Daytime only.",
    )

    assert (release.licence, release.languages) == ("CC-BY-4.0 OR MIT", ["en", "pt-BR"])
    assert release.manifest["release"]["licence"] == "CC-BY-4.0 OR MIT"
    assert release.manifest["release"]["languages"] == ["en", "pt-BR"]
    assert release.manifest["release"]["intended_uses"] == "Training <b>detectors</b> for street scenes."
    root = _root(release_storage, release)
    croissant = json.loads((root / "croissant.json").read_text())
    assert (croissant["license"], croissant["inLanguage"]) == ("CC-BY-4.0 OR MIT", ["en", "pt-BR"])
    assert croissant["rai:dataUseCases"] == ["Training <b>detectors</b> for street scenes."]
    assert croissant["rai:dataLimitations"] == ["Daytime only."]
    datasheet = (root / "DATASHEET.md").read_text()
    assert md("CC-BY-4.0 OR MIT") in datasheet and md("Daytime only.") in datasheet
    assert md("Training <b>detectors</b> for street scenes.") in datasheet
    assert "<b>" not in datasheet  # user text is escaped in the datasheet


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [
        ({"licence": "CC-BY-4"}, "invalid_licence", "Unknown: CC-BY-4"),
        ({"licence": "<script>alert(1)</script>"}, "invalid_licence", "SPDX expression"),
        ({"licence": "MIT AND"}, "invalid_licence", "not an SPDX licence expression"),
        ({"languages": ["en", "english language"]}, "invalid_languages", "not a language tag"),
        ({"languages": "en; ../etc"}, "invalid_languages", "not a language tag"),
        ({"intended_uses": "x" * 5001}, "invalid_intended_uses", "at most 5,000"),
        ({"include_media": "yes"}, "invalid_option", "true or false"),
    ],
)
def test_bad_descriptions_are_refused_and_create_nothing(images, people, options, code, words):
    with pytest.raises(DomainError) as raised:
        services.release_create(
            project=people.project, actor=people.manager, name="v1", formats=["jsonl"], **options
        )

    assert raised.value.code == code
    assert words in raised.value.message
    assert not Release.objects.exists()


def test_own_licences_use_licenseref(images, create_release):
    release = create_release(formats=["jsonl"], licence="LicenseRef-acme-internal")

    assert release.status == Release.Status.PUBLISHED
    assert release.manifest["release"]["licence"] == "LicenseRef-acme-internal"
