"""YOLO and Pascal VOC, read back by Datumaro (the reader CVAT and OpenVINO use)."""

import warnings
from pathlib import Path

import pytest
from PIL import Image

from exports.formats import FORMATS
from exports.manifest import DirectoryOutput

from .conftest import assert_byte_identical

datumaro = pytest.importorskip("datumaro")
from datumaro.components.annotation import AnnotationType  # noqa: E402
from datumaro.components.dataset import Dataset  # noqa: E402


def write_with_images(tmp_path: Path, name: str, records, ctx) -> tuple[Path, list[str], DirectoryOutput]:
    """Write a format and play the build's part: put a real 640x480 image where the format asks."""
    root = tmp_path / "release"
    root.mkdir()
    output = DirectoryOutput(root)
    placed = []

    def place_media(media, relative_name):
        assert media.path.startswith("media/")
        target = root / relative_name
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (media.width, media.height), (90, 120, 150)).save(target, format="JPEG")
        output.add_existing(relative_name)
        placed.append(relative_name)

    names = FORMATS[name].write(iter(records), ctx, output, place_media)
    return root, names, output


def boxes_by_item(dataset) -> dict[tuple[str, str], list[tuple[str, list[float]]]]:
    labels = dataset.categories()[AnnotationType.label]
    out = {}
    for item in dataset:
        out[(item.subset, item.id)] = sorted(
            (labels[ann.label].name, [round(v, 2) for v in ann.get_bbox()])
            for ann in item.annotations
            if ann.type == AnnotationType.bbox
        )
    return out


EXPECTED_TWO = [("car", [10.0, 20.5, 200.0, 120.0]), ("person", [400.0, 150.0, 40.0, 110.0])]
EXPECTED_ONE = [("car", [10.0, 20.5, 200.0, 120.0])]


def test_datumaro_imports_yolo_splits_classes_and_boxes(tmp_path, records, ctx):
    root, names, output = write_with_images(tmp_path, "yolo", records, ctx)

    assert "yolo/data.yaml" in names
    assert "yolo/labels/val/1002.txt" in names
    assert (root / "yolo/labels/train/1001.txt").read_text() == "0 0.171875 0.167708 0.312500 0.250000\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = Dataset.import_from(str(root / "yolo"), "yolo")

    assert [c.name for c in dataset.categories()[AnnotationType.label]] == ["car", "person"]
    found = boxes_by_item(dataset)
    assert sorted(found) == sorted(
        [
            ("train", "1000"),
            ("train", "1001"),
            ("train", "1004"),
            ("train", "1005"),
            ("val", "1002"),
            ("val", "1006"),
            ("test", "1003"),
            ("test", "1007"),
        ]
    )
    assert found[("train", "1000")] == EXPECTED_TWO
    assert found[("train", "1001")] == EXPECTED_ONE
    assert output.entries()  # images and labels were all hashed


def test_yolo_names_are_yaml_safe_strings(tmp_path, records, ctx):
    from dataclasses import replace

    import yaml

    schema = {
        **ctx.schema,
        "controls": [
            {
                "name": "objects",
                "type": "bbox",
                "field": "image",
                "labels": [{"value": "yes"}, {"value": "a: b"}],
            }
        ],
    }
    relabelled = [
        replace(r, labels={"objects": [{"x": 1, "y": 1, "width": 2, "height": 2, "label": "a: b"}]})
        for r in records[:1]
    ]
    root, _, _ = write_with_images(tmp_path, "yolo", relabelled, replace(ctx, schema=schema))

    config = yaml.safe_load((root / "yolo/data.yaml").read_text())
    assert config["names"] == {0: "yes", 1: "a: b"}
    assert config["train"] == "images/train"


def test_datumaro_imports_voc_boxes_with_exact_corners(tmp_path, records, ctx):
    root, names, _ = write_with_images(tmp_path, "voc", records, ctx)

    assert {"voc/ImageSets/Main/train.txt", "voc/ImageSets/Main/val.txt", "voc/labelmap.txt"} <= set(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = Dataset.import_from(str(root / "voc"), "voc_detection")

    found = boxes_by_item(dataset)
    assert len(found) == 8
    assert found[("train", "1000")] == EXPECTED_TWO
    assert found[("test", "1003")] == EXPECTED_ONE
    item = dataset.get("1000", subset="train")
    attributes = next(ann.attributes for ann in item.annotations if ann.type == AnnotationType.bbox)
    assert attributes["control"] == "objects"
    assert float(attributes["confidence"]) == 0.5


def test_voc_escapes_xml_in_names(tmp_path, records, ctx):
    from dataclasses import replace
    from xml.etree import ElementTree

    schema = {
        **ctx.schema,
        "controls": [
            {"name": "objects", "type": "bbox", "field": "image", "labels": [{"value": 'R&D "lab"'}]}
        ],
    }
    relabelled = [
        replace(r, labels={"objects": [{"x": 1, "y": 2, "width": 3, "height": 4, "label": 'R&D "lab"'}]})
        for r in records[:1]
    ]
    root, _, _ = write_with_images(
        tmp_path, "voc", relabelled, replace(ctx, schema=schema, project_name="<script>&")
    )

    tree = ElementTree.parse(root / "voc/Annotations/1000.xml")  # noqa: S314 - our own output
    assert tree.findtext("object/name") == 'R&D "lab"'
    assert tree.findtext("source/database") == "<script>&"
    assert [tree.findtext(f"object/bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")] == [
        "1",
        "2",
        "4",
        "6",
    ]


@pytest.mark.parametrize("name", ["yolo", "voc"])
def test_rebuild_is_byte_identical(write_format, records, ctx, name):
    assert_byte_identical(write_format, name, records, ctx)


def test_without_place_media_only_labels_are_written(write_format, records, ctx):
    root, names, _ = write_format("yolo", records, ctx)

    assert not (root / "yolo/images").exists()
    assert len([n for n in names if n.startswith("yolo/labels/")]) == 8
