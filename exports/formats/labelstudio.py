"""Label Studio JSON: the task list Label Studio imports and exports ("JSON" export type).

File: ``labelstudio/tasks.json``, a JSON array (streamed, one canonical task per element):

    {"id": item id, "data": item data + {"tessera_media": path}, "meta": {...},
     "annotations": [{"result": [...], "was_cancelled": false, "ground_truth": false}, ...]}

The first annotation is the consensus; with include_raw each raw annotation follows, and
``meta.annotations`` says, index by index, what each one is (``{"source": "consensus"}`` or
``{"source": "annotator", "annotator": pseudonym, "revision", "review"}``). ``meta`` also carries
item id, external id, split, and per control confidence and agreement.

Regions use Label Studio's result shape: ``{"id", "from_name": control, "to_name": field,
"type", "value", "origin": "manual"}``, with image coordinates in percent of the image size
(``original_width``/``original_height`` given; the size is the released media's, else the item data's
``width``/``height``, which a Label Studio import records) as Label Studio stores them:

    single/multiple choice, image class  choices        {"choices": [...]}
    taxonomy                             taxonomy       {"taxonomy": [[path...], ...]}
    spans                                labels         {"start", "end", "text", "labels": [l]}
                                                        (offsets in UTF-16 code units, as Label Studio counts)
    relations                            relation       from_id / to_id, "labels": [l]
    bbox                                 rectanglelabels {"x","y","width","height","rotation":0,...}
    polygon                              polygonlabels  {"points": [[x%, y%], ...], ...}
    keypoints                            keypointlabels one region per labelled point
    audio/video segments                 labels         {"start", "end", "labels": [l]}
    text, transcription                  textarea       {"text": [s]}
    rating                               rating         {"rating": n}
    pairwise                             pairwise       {"selected": "left"|"right"} (ties omitted)
    ranking                              ranker         {"ranker": {"ranked": [ids]}}

Image regions are left out when the image size is unknown; chat turn labels and video boxes have no
Label Studio region type and are only in ``meta.labels``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from exports.canonical import canonical_bytes
from exports.formats.base import ExportFormat, OpenFile, PlaceMedia
from exports.records import ExportContext, ExportRecord

UNMAPPED = frozenset({"chat_turn_labels", "video_bbox"})


def _pct(value: float, size: int) -> float:
    return value * 100.0 / size


def _utf16(text: str, offset: int) -> int:
    """A code-point offset (Tessera) as a UTF-16 code-unit offset (Label Studio, JavaScript strings)."""
    head = text[:offset]
    return offset + sum(1 for char in head if ord(char) >= 0x10000)


def _size_of(record: ExportRecord) -> tuple[Any, Any]:
    """The image size: the released media's, else the item data's (an import recorded it there)."""
    media = record.media
    width = media.width if media else None
    height = media.height if media else None
    if not (width and height):
        data = record.data if isinstance(record.data, Mapping) else {}
        given = data.get("width"), data.get("height")
        if all(type(v) is int and v > 0 for v in given):
            width, height = given
    return width, height


def regions(control: Mapping[str, Any], answer: Any, record: ExportRecord, ctx: ExportContext) -> list[dict]:
    """Label Studio result regions of one control's answer."""
    name, kind = control["name"], control["type"]
    base = {"from_name": name, "to_name": control["field"], "origin": "manual"}
    width, height = _size_of(record)
    sized = {"original_width": width, "original_height": height, "image_rotation": 0}

    def region(i: Any, type_: str, value: dict, **extra: Any) -> dict:
        return {"id": f"{name}-{i}", **base, "type": type_, "value": value, **extra}

    if kind in {"single_choice", "multiple_choice", "image_class"}:
        return [region(0, "choices", {"choices": answer if isinstance(answer, list) else [answer]})]
    if kind == "taxonomy":
        paths = answer if answer and isinstance(answer[0], list) else [answer]
        return [region(0, "taxonomy", {"taxonomy": paths})]
    if kind == "spans":
        text = record.data.get(ctx.field_source(control["field"]))
        out = []
        for span in answer:
            value = {"start": span["start"], "end": span["end"], "labels": [span["label"]]}
            if isinstance(text, str):
                value["text"] = text[span["start"] : span["end"]]
                if not text.isascii():  # Label Studio counts UTF-16 code units
                    value["start"], value["end"] = _utf16(text, span["start"]), _utf16(text, span["end"])
            out.append({"id": str(span["id"]), **base, "type": "labels", "value": value})
        return out
    if kind == "relations":
        return [
            {
                "from_id": str(r["from"]),
                "to_id": str(r["to"]),
                "type": "relation",
                "direction": "right",
                "labels": [r["label"]],
            }
            for r in answer
        ]
    if kind in {"audio_segments", "video_segments"}:
        return [
            region(i, "labels", {"start": s["start"], "end": s["end"], "labels": [s["label"]]})
            for i, s in enumerate(answer)
        ]
    if kind in {"text", "transcription"}:
        if isinstance(answer, dict) and answer.get("no_speech"):
            answer = ""  # "nothing is said" (docs/SCHEMA.md): Label Studio's empty text area
        return [region(0, "textarea", {"text": [answer]})]
    if kind == "rating":
        return [region(0, "rating", {"rating": answer})]
    if kind == "pairwise":
        choice = answer.get("choice")
        return (
            [region(0, "pairwise", {"selected": "left" if choice == "A" else "right"})]
            if choice != "tie"
            else []
        )
    if kind == "ranking":
        return [region(0, "ranker", {"ranker": {"ranked": answer}})]
    if kind in {"bbox", "polygon", "keypoints"} and width and height:
        out = []
        for i, obj in enumerate(answer):
            if kind == "bbox":
                value = {
                    "x": _pct(obj["x"], width),
                    "y": _pct(obj["y"], height),
                    "width": _pct(obj["width"], width),
                    "height": _pct(obj["height"], height),
                    "rotation": 0,
                    "rectanglelabels": [obj["label"]],
                }
                out.append(region(i, "rectanglelabels", value, **sized))
            elif kind == "polygon":
                points = [[_pct(x, width), _pct(y, height)] for x, y in obj["points"]]
                out.append(
                    region(
                        i,
                        "polygonlabels",
                        {"points": points, "closed": True, "polygonlabels": [obj["label"]]},
                        **sized,
                    )
                )
            else:
                for point in obj.get("points", []):
                    if point.get("visibility", 0) == 0:
                        continue
                    value = {
                        "x": _pct(point["x"], width),
                        "y": _pct(point["y"], height),
                        "width": 0.5,
                        "keypointlabels": [point["name"]],
                    }
                    out.append(region(f"{i}-{point['name']}", "keypointlabels", value, **sized))
        return out
    return []


def result_of(labels: Mapping[str, Any], record: ExportRecord, ctx: ExportContext) -> list[dict]:
    out = []
    for control in ctx.controls():
        answer = labels.get(control["name"])
        if answer in (None, "", [], {}) and control["type"] not in {"text", "transcription"}:
            continue
        if answer is None or control["type"] in UNMAPPED:
            continue
        out += regions(control, answer, record, ctx)
    return out


def task(record: ExportRecord, ctx: ExportContext) -> dict[str, Any]:
    annotations = [
        {"result": result_of(record.labels, record, ctx), "was_cancelled": False, "ground_truth": False}
    ]
    described: list[dict[str, Any]] = [{"source": "consensus"}]
    if ctx.include_raw:
        for raw in record.annotations:
            annotations.append(
                {"result": result_of(raw.result, record, ctx), "was_cancelled": False, "ground_truth": False}
            )
            described.append(
                {
                    "source": "annotator",
                    "annotator": raw.annotator,
                    "revision": raw.revision,
                    "review": raw.review,
                }
            )
    data = dict(record.data)
    if record.media is not None:
        data["tessera_media"] = record.media.path
    return {
        "id": record.item_id,
        "data": data,
        "annotations": annotations,
        "meta": {
            "item_id": record.item_id,
            "external_id": record.external_id,
            "split": record.split,
            "confidence": record.confidence,
            "agreement": record.agreement,
            "annotations": described,
            "labels": {k: v for k, v in record.labels.items() if k in _unmapped_names(ctx)},
        },
    }


def _unmapped_names(ctx: ExportContext) -> set[str]:
    return {c["name"] for c in ctx.controls(*UNMAPPED)}


def write(
    records: Iterable[ExportRecord],
    ctx: ExportContext,
    open_file: OpenFile,
    place_media: PlaceMedia | None = None,
) -> list[str]:
    name = "labelstudio/tasks.json"
    with open_file(name) as handle:
        handle.write(b"[")
        buffer: list[bytes] = []
        first = True
        for record in records:
            buffer.append((b"\n" if first else b",\n") + canonical_bytes(task(record, ctx)))
            first = False
            if len(buffer) >= 1000:
                handle.write(b"".join(buffer))
                buffer.clear()
        handle.write(b"".join(buffer) + b"\n]\n")
    return [name]


FORMAT = ExportFormat("labelstudio", "Label Studio JSON", write)
