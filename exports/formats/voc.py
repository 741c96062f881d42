"""Pascal VOC: boxes of every bbox control as one XML file per image.

Files:

    voc/Annotations/<item id>.xml      <annotation> with <filename>, <size>, one <object> per box
    voc/ImageSets/Main/<split>.txt     item ids of the split (train, val, test, or unsplit)
    voc/JPEGImages/<item id><ext>      the image, placed by the build through `place_media`
    voc/labelmap.txt                   ``name:::`` per label (CVAT/Datumaro label map)
    voc/dataset_meta.json              {"labels": [...]}: the exact label names, for Datumaro

Box corners are written in the schema's pixels without the historical +1 (``xmin = x``, ``xmax = x +
width``), as Datumaro and CVAT read them by default. Each object has ``pose`` Unspecified,
``truncated``/``difficult``/``occluded`` 0 and ``attributes`` control, confidence and agreement.
Text is XML-escaped; a label containing ``:`` (which the label map cannot hold) appears there with
``_`` instead and exactly in dataset_meta.json. Images without a known size are still listed, without
``<size>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from exports.canonical import canonical_bytes
from exports.formats.base import (
    ExportFormat,
    LazyFiles,
    OpenFile,
    PlaceMedia,
    join,
    split_file_name,
)
from exports.formats.yolo import classes
from exports.records import ExportContext, ExportRecord

CONTROL_TYPES = frozenset({"bbox"})


def _number(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _attribute(name: str, value: Any) -> str:
    text = "" if value is None else _number(value) if isinstance(value, int | float) else escape(str(value))
    return f"<attribute><name>{name}</name><value>{text}</value></attribute>"


def annotation_xml(record: ExportRecord, ctx: ExportContext, file_name: str, names, class_ids) -> bytes:
    media = record.media
    parts = ["<annotation>", "<folder>JPEGImages</folder>", f"<filename>{escape(file_name)}</filename>"]
    parts.append(f"<source><database>{escape(ctx.project_name)}</database></source>")
    if media is not None and media.width and media.height:
        parts.append(
            f"<size><width>{media.width}</width><height>{media.height}</height><depth>3</depth></size>"
        )
    parts.append("<segmented>0</segmented>")
    for control in ctx.controls("bbox"):
        name = control["name"]
        for box in record.labels.get(name) or []:
            class_id = class_ids.get((name, box.get("label")))
            if class_id is None:
                continue
            x, y = box["x"], box["y"]
            corners = (x, y, x + box["width"], y + box["height"])
            bndbox = "".join(
                f"<{tag}>{_number(v)}</{tag}>"
                for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), corners, strict=True)
            )
            attributes = (
                _attribute("control", name)
                + _attribute("confidence", record.confidence.get(name))
                + _attribute("agreement", record.agreement.get(name))
            )
            parts.append(
                f"<object><name>{escape(names[class_id])}</name><pose>Unspecified</pose>"
                f"<truncated>0</truncated><occluded>0</occluded><difficult>0</difficult>"
                f"<bndbox>{bndbox}</bndbox><attributes>{attributes}</attributes></object>"
            )
    parts.append("</annotation>\n")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + "".join(parts)).encode("utf-8")


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    names, class_ids = classes(ctx)
    written = []
    with LazyFiles(open_file) as lists:
        for record in records:
            stem = str(record.item_id)
            suffix = (record.media.suffix if record.media else "") or ".jpg"
            name = join("voc", "Annotations", f"{stem}.xml")
            with open_file(name) as handle:
                handle.write(annotation_xml(record, ctx, stem + suffix, names, class_ids))
            written.append(name)
            split = split_file_name(record.split_name, short=True)
            lists.write(f"voc/ImageSets/Main/{split}.txt", f"{stem}\n".encode())
            if place_media is not None and record.media is not None and not record.media.is_url:
                place_media(record.media, join("voc", "JPEGImages", stem + suffix))
        with open_file("voc/labelmap.txt") as handle:
            lines = ["# label:color_rgb:parts:actions\n"] + [f"{n.replace(':', '_')}:::\n" for n in names]
            handle.write("".join(lines).encode("utf-8"))
        with open_file("voc/dataset_meta.json") as handle:
            handle.write(canonical_bytes({"labels": names}) + b"\n")
    return sorted([*written, "voc/labelmap.txt", "voc/dataset_meta.json", *lists.names()])


FORMAT = ExportFormat("voc", "Pascal VOC (boxes)", write, CONTROL_TYPES)
