"""YOLO (Ultralytics layout): boxes of every bbox control as normalised ``class cx cy w h`` lines.

Files:

    yolo/data.yaml                     path: ., train/val/test: images/<split>, names: {0: car, ...}
    yolo/labels/<split>/<item id>.txt  one line per box; empty for an image without boxes
    yolo/images/<split>/<item id><ext> the image, placed by the build through `place_media`

Splits are named ``train``, ``val``, ``test`` (``unsplit`` when no split was made). Class ids number
the labels of all bbox controls in schema order from 0; a label used by two bbox controls is named
``<control>.<label>``. Coordinates are the schema's pixel boxes divided by the image size, written
with 6 decimals (``%.6f``), clamped to [0, 1]. Records whose image size is unknown get no label file
(YOLO cannot express their boxes) and are counted in ``yolo/skipped.txt`` by item id. Polygons and
keypoints are not exported here (use COCO).

Names in data.yaml are written as JSON strings (valid YAML), so a label like ``yes``, ``null`` or
``a: b`` stays a string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from exports.formats.base import (
    ExportFormat,
    LazyFiles,
    OpenFile,
    PlaceMedia,
    join,
    split_file_name,
)
from exports.records import ExportContext, ExportRecord, label_values

CONTROL_TYPES = frozenset({"bbox"})


def classes(ctx: ExportContext) -> tuple[list[str], dict[tuple[str, str], int]]:
    pairs = [(c["name"], label) for c in ctx.controls("bbox") for label in label_values(c)]
    counts: dict[str, int] = {}
    for _, label in pairs:
        counts[label] = counts.get(label, 0) + 1
    names = [label if counts[label] == 1 else f"{control}.{label}" for control, label in pairs]
    return names, {pair: i for i, pair in enumerate(pairs)}


def _unit(value: float) -> str:
    return f"{min(1.0, max(0.0, value)):.6f}"


def label_lines(
    record: ExportRecord, ctx: ExportContext, class_ids: Mapping[tuple[str, str], int]
) -> list[str]:
    width, height = record.media.width, record.media.height
    lines = []
    for control in ctx.controls("bbox"):
        for box in record.labels.get(control["name"]) or []:
            class_id = class_ids.get((control["name"], box.get("label")))
            if class_id is None:
                continue
            cx = (box["x"] + box["width"] / 2) / width
            cy = (box["y"] + box["height"] / 2) / height
            parts = [_unit(cx), _unit(cy), _unit(box["width"] / width), _unit(box["height"] / height)]
            lines.append(f"{class_id} {' '.join(parts)}\n")
    return lines


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    names, class_ids = classes(ctx)
    written: list[str] = []
    splits: set[str] = set()
    with LazyFiles(open_file) as files:
        for record in records:
            media = record.media
            if media is None or not media.width or not media.height:
                files.write("yolo/skipped.txt", f"{record.item_id}\n".encode())
                continue
            split = split_file_name(record.split_name, short=True)
            splits.add(split)
            stem = str(record.item_id)
            name = join("yolo", "labels", split, f"{stem}.txt")
            with open_file(name) as handle:
                handle.write("".join(label_lines(record, ctx, class_ids)).encode("utf-8"))
            written.append(name)
            if place_media is not None and not media.is_url:
                place_media(media, join("yolo", "images", split, stem + (media.suffix or ".jpg")))
        lines = ["path: .\n"]
        lines += [f"{split}: images/{split}\n" for split in sorted(splits)]
        lines.append("names:\n")
        lines += [f"  {i}: {json.dumps(label)}\n" for i, label in enumerate(names)]
        with open_file("yolo/data.yaml") as handle:
            handle.write("".join(lines).encode("utf-8"))
    return sorted([*written, "yolo/data.yaml", *files.names()])


FORMAT = ExportFormat("yolo", "YOLO (Ultralytics: boxes)", write, CONTROL_TYPES)
