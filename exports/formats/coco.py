"""COCO: boxes, polygons and keypoints of every image control, one JSON file per split.

Files: ``coco/<split>.json`` with ``annotations``, ``categories``, ``images``, ``info``, ``licenses``
(keys in sorted order; the whole file is canonical JSON, so ``canonical_dumps(json.load(f))`` equals
its bytes). Loadable by ``pycocotools.coco.COCO``.

- images: one per record with media: ``id`` = item id, ``file_name`` = the media path in the release
  (or URL), ``width``/``height`` when known, plus ``tessera_external_id``.
- categories: for each bbox, polygon and keypoints control in schema order, for each of its labels in
  order, ids from 1; ``name`` = label, ``supercategory`` = control name. A keypoints control without
  labels has one category named after the control; keypoints categories carry ``keypoints`` (names)
  and ``skeleton`` (1-based index pairs), as COCO does.
- annotations, ids from 1 in record order: ``bbox`` [x, y, width, height] in pixels (the schema's
  units, origin top-left); polygons as ``segmentation`` [[x1, y1, x2, y2, ...]] with their bounding
  box and shoelace area; keypoints as ``keypoints`` [x, y, v, ...] in the category's keypoint order
  (absent points 0, 0, 0), ``num_keypoints`` = points with v > 0, bbox of those points. Each carries
  ``attributes``: control, confidence and agreement of that control on the item.

Streaming: the annotations array is written as records arrive; the images array goes to a temporary
file (per split) and is copied in after ``categories``, so memory does not grow with the release.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

from exports.canonical import canonical_bytes
from exports.formats.base import ExportFormat, OpenFile, PlaceMedia, join
from exports.records import ExportContext, ExportRecord, label_values

CONTROL_TYPES = frozenset({"bbox", "polygon", "keypoints"})


def categories(ctx: ExportContext) -> tuple[list[dict[str, Any]], dict[tuple[str, str | None], int]]:
    """COCO categories and the lookup (control name, label or None) -> category id."""
    out: list[dict[str, Any]] = []
    ids: dict[tuple[str, str | None], int] = {}
    for control in ctx.controls(*CONTROL_TYPES):
        names = label_values(control) or ([None] if control["type"] == "keypoints" else [])
        for label in names:
            category: dict[str, Any] = {
                "id": len(out) + 1,
                "name": label if label is not None else control["name"],
                "supercategory": control["name"],
            }
            if control["type"] == "keypoints":
                points = [k["value"] for k in control.get("keypoints", [])]
                index = {name: i + 1 for i, name in enumerate(points)}
                category["keypoints"] = points
                category["skeleton"] = [[index[a], index[b]] for a, b in control.get("skeleton", [])]
            ids[(control["name"], label)] = category["id"]
            out.append(category)
    return out, ids


def polygon_area(points: list[list[float]]) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2


def _bounds(xs: list[float], ys: list[float]) -> list[float]:
    if not xs:
        return [0, 0, 0, 0]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def record_annotations(
    record: ExportRecord, ctx: ExportContext, category_ids: Mapping[tuple[str, str | None], int]
) -> list[dict[str, Any]]:
    """The COCO annotations of one record (without ids), in schema-control then answer order."""
    out = []
    for control in ctx.controls(*CONTROL_TYPES):
        name = control["name"]
        answer = record.labels.get(name)
        if not isinstance(answer, list):
            continue
        attributes = {
            "control": name,
            "confidence": record.confidence.get(name),
            "agreement": record.agreement.get(name),
        }
        for obj in answer:
            label = obj.get("label")
            category = category_ids.get((name, label if control.get("labels") else None))
            if category is None:
                continue
            ann: dict[str, Any] = {"category_id": category, "image_id": record.item_id, "iscrowd": 0}
            if control["type"] == "bbox":
                ann["bbox"] = [obj["x"], obj["y"], obj["width"], obj["height"]]
                ann["area"] = obj["width"] * obj["height"]
                ann["segmentation"] = []
            elif control["type"] == "polygon":
                points = obj["points"]
                ann["segmentation"] = [[coordinate for point in points for coordinate in point]]
                ann["bbox"] = _bounds([p[0] for p in points], [p[1] for p in points])
                ann["area"] = polygon_area(points)
            else:
                order = [k["value"] for k in control.get("keypoints", [])]
                by_name = {p["name"]: p for p in obj.get("points", [])}
                flat: list[float] = []
                visible = [p for p in by_name.values() if p.get("visibility", 0) > 0]
                for point_name in order:
                    point = by_name.get(point_name)
                    if point is None or point.get("visibility", 0) == 0:
                        flat += [0, 0, 0]
                    else:
                        flat += [point["x"], point["y"], point["visibility"]]
                ann["keypoints"] = flat
                ann["num_keypoints"] = len(visible)
                ann["bbox"] = _bounds([p["x"] for p in visible], [p["y"] for p in visible])
                ann["area"] = ann["bbox"][2] * ann["bbox"][3]
                ann["segmentation"] = []
            ann["attributes"] = attributes
            out.append(ann)
    return out


def image_entry(record: ExportRecord) -> dict[str, Any]:
    media = record.media
    entry: dict[str, Any] = {
        "id": record.item_id,
        "file_name": media.path,
        "tessera_external_id": record.external_id,
    }
    if media.width is not None:
        entry["width"] = media.width
    if media.height is not None:
        entry["height"] = media.height
    return entry


class _SplitFile:
    def __init__(self, handle):
        self.handle = handle
        self.images = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.annotation_count = 0
        self.image_count = 0
        handle.write(b'{"annotations":[')

    def add(self, image: dict[str, Any], annotations: list[dict[str, Any]]) -> None:
        self.images.write((b"," if self.image_count else b"") + canonical_bytes(image))
        self.image_count += 1
        chunks = []
        for ann in annotations:
            self.annotation_count += 1
            ann["id"] = self.annotation_count
            chunks.append(canonical_bytes(ann))
        if chunks:
            self.handle.write((b"," if self.annotation_count > len(chunks) else b"") + b",".join(chunks))

    def abort(self) -> None:
        self.images.close()
        self.handle.close()

    def close(self, categories_json: bytes, info_json: bytes) -> None:
        self.handle.write(b'],"categories":' + categories_json + b',"images":[')
        self.images.seek(0)
        shutil.copyfileobj(self.images, self.handle)
        self.images.close()
        self.handle.write(b'],"info":' + info_json + b',"licenses":[]}')
        self.handle.close()


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    cats, category_ids = categories(ctx)
    files: dict[str, _SplitFile] = {}
    try:
        for record in records:
            if record.media is None:
                continue
            name = join("coco", f"{record.split_name}.json")
            split_file = files.get(name)
            if split_file is None:
                split_file = files[name] = _SplitFile(open_file(name))
            split_file.add(image_entry(record), record_annotations(record, ctx, category_ids))
    except BaseException:
        for split_file in files.values():  # no closing brackets: a failed file must not look complete
            split_file.abort()
        raise
    info = canonical_bytes(
        {
            "description": f"{ctx.project_name}: release {ctx.release_name}",
            "version": str(ctx.release_number),
            "contributor": "Tessera",
        }
    )
    for split_file in files.values():
        split_file.close(canonical_bytes(cats), info)
    return sorted(files)


FORMAT = ExportFormat("coco", "COCO (boxes, polygons, keypoints)", write, CONTROL_TYPES)
