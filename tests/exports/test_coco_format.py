import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pycocotools.coco import COCO

from exports.canonical import canonical_bytes

from .conftest import assert_byte_identical


def test_pycocotools_loads_images_categories_and_all_three_shapes(write_format, records, ctx):
    root, names, _ = write_format("coco", records, ctx)

    assert names == ["coco/test.json", "coco/train.json", "coco/validation.json"]
    coco = COCO(str(root / "coco/train.json"))
    assert sorted(coco.getImgIds()) == [1000, 1001, 1004, 1005]
    cats = coco.loadCats(coco.getCatIds())
    assert [(c["id"], c["name"], c["supercategory"]) for c in cats] == [
        (1, "car", "objects"),
        (2, "person", "objects"),
        (3, "road", "regions"),
        (4, "person", "pose"),
    ]
    assert cats[3]["keypoints"] == ["nose", "left_eye", "right_eye"]
    assert cats[3]["skeleton"] == [[1, 2], [1, 3]]
    # record 1000: 2 boxes + 1 polygon + 1 pose; record 1001: 1 box + 1 polygon + 1 pose
    assert len(coco.getAnnIds(imgIds=[1000])) == 4
    assert len(coco.getAnnIds(imgIds=[1001])) == 3
    boxes = coco.loadAnns(coco.getAnnIds(imgIds=[1000], catIds=[1]))
    assert boxes[0]["bbox"] == [10, 20.5, 200, 120]
    assert boxes[0]["area"] == 24000
    assert boxes[0]["attributes"] == {"control": "objects", "confidence": 0.5, "agreement": 0.9}
    polygon = coco.loadAnns(coco.getAnnIds(imgIds=[1000], catIds=[3]))[0]
    assert polygon["segmentation"] == [[0, 300, 640, 300, 640, 480, 0, 480]]
    assert polygon["bbox"] == [0, 300, 640, 180]
    assert polygon["area"] == 640 * 180
    assert int(coco.annToMask(polygon).sum()) > 0.9 * 640 * 180  # pycocotools rasterises it
    pose = coco.loadAnns(coco.getAnnIds(imgIds=[1000], catIds=[4]))[0]
    assert pose["keypoints"] == [320, 200, 2, 330, 190, 1, 0, 0, 0]
    assert pose["num_keypoints"] == 2
    image = coco.loadImgs([1000])[0]
    assert (image["file_name"], image["width"], image["height"]) == ("media/1000.jpg", 640, 480)
    ann_ids = [a["id"] for a in coco.dataset["annotations"]]
    assert ann_ids == list(range(1, len(ann_ids) + 1))


def test_file_is_canonical_json(write_format, records, ctx):
    root, _, _ = write_format("coco", records, ctx)

    raw = (root / "coco/test.json").read_bytes()

    assert canonical_bytes(json.loads(raw)) == raw


def test_rebuild_is_byte_identical(write_format, records, ctx):
    assert_byte_identical(write_format, "coco", records, ctx)


def test_a_failing_source_leaves_no_file_that_parses_as_complete(write_format, records, ctx, tmp_path):
    def failing():
        yield from records[:3]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_format("coco", failing(), ctx, sub="c")
    with pytest.raises(RuntimeError):
        write_format("parquet", failing(), ctx, sub="p")

    with pytest.raises(json.JSONDecodeError):
        json.loads((tmp_path / "c/coco/train.json").read_bytes())
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(tmp_path / "p/parquet/train.parquet")
