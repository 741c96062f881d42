"""A realistic Label Studio export (the "JSON" export type: a list of tasks) and its labeling config.

Built from Label Studio's documented task format (labelstud.io/guide/export, "Label Studio JSON
format of annotated tasks"): each task has `id`, `data`, `meta`, `annotations[]` (`id`,
`completed_by`, `result[]`, `was_cancelled`, `ground_truth`, `created_at`, `updated_at`,
`lead_time`) and `predictions[]`
(`model_version`, `score`, `result[]`). Regions carry `id`, `from_name`, `to_name`, `type`,
`value`, `origin`, and image regions `original_width`/`original_height` with coordinates in
percent of the image. Deterministic: the same tasks every time.

`TESSERA_SCHEMA` is the config written by hand in the contract with the config converter: a control's
`name` is the Label Studio `from_name`; its field reads the object's `value` without `$`.
"""

import json
import random

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInline="true">
    <Choice value="positive"/>
    <Choice value="negative"/>
    <Choice value="neutral"/>
  </Choices>
  <Labels name="ner" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="blue"/>
    <Label value="LOC" background="green"/>
  </Labels>
  <Relations>
    <Relation value="works_for"/>
    <Relation value="located_in"/>
  </Relations>
  <TextArea name="summary" toName="text" rows="2"/>
  <Rating name="quality" toName="text" maxRating="5"/>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="cat"/>
    <Label value="dog"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image">
    <Label value="cat"/>
    <Label value="dog"/>
  </PolygonLabels>
  <KeyPointLabels name="joints" toName="image">
    <Label value="nose"/>
    <Label value="tail"/>
  </KeyPointLabels>
</View>
"""


def _labels(*values: str) -> list[dict]:
    return [{"value": v} for v in values]


TESSERA_SCHEMA = {
    "version": 1,
    "fields": [
        {"name": "text", "type": "text", "source": "text"},
        {"name": "image", "type": "image", "source": "image"},
    ],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "labels": _labels("positive", "negative", "neutral"),
        },
        {"name": "ner", "type": "spans", "field": "text", "labels": _labels("PER", "ORG", "LOC")},
        {
            "name": "relations",
            "type": "relations",
            "field": "text",
            "spans": "ner",
            "labels": _labels("works_for", "located_in"),
        },
        {"name": "summary", "type": "text", "field": "text"},
        {"name": "quality", "type": "rating", "field": "text", "min": 1, "max": 5},
        {"name": "box", "type": "bbox", "field": "image", "labels": _labels("cat", "dog")},
        {"name": "outline", "type": "polygon", "field": "image", "labels": _labels("cat", "dog")},
        {"name": "joints", "type": "keypoints", "field": "image", "keypoints": _labels("nose", "tail")},
    ],
}

PEOPLE = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"]
ORGS = ["Acme Corp", "Initech", "Globex", "Umbrella"]
PLACES = ["London", "Paris", "Zürich", "Oslo"]
SIZES = [(800, 600), (1024, 768), (640, 480)]
USERS = [11, 12, 13, 14]


def _text(i: int) -> tuple[str, list[tuple[int, int, str]]]:
    person, org, place = PEOPLE[i % 5], ORGS[i % 4], PLACES[(i // 2) % 4]
    text = f"🚀 Task {i}: {person} joined {org} in {place} and liked it."
    spans = []
    for value, label in ((person, "PER"), (org, "ORG"), (place, "LOC")):
        start = text.index(value)
        # Label Studio counts offsets in UTF-16 code units; the rocket is two of them.
        spans.append((len(text[:start].encode("utf-16-le")) // 2, label, value))
    return text, [
        (start, start + len(value.encode("utf-16-le")) // 2, label) for start, label, value in spans
    ]


def _regions(i: int, rng: random.Random, text: str, spans, size, *, rich: bool) -> list[dict]:
    width, height = size
    image = {"to_name": "image", "original_width": width, "original_height": height, "image_rotation": 0}
    out = [
        {
            "id": f"s{i}",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "origin": "manual",
            "value": {"choices": [rng.choice(["positive", "negative", "neutral"])]},
        }
    ]
    utf16 = text.encode("utf-16-le")
    for n, (start, end, label) in enumerate(spans):
        out.append(
            {
                "id": f"e{i}-{n}",
                "from_name": "ner",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {
                    "start": start,
                    "end": end,
                    "text": utf16[start * 2 : end * 2].decode("utf-16-le"),
                    "labels": [label],
                },
            }
        )
    if i % 3 == 0:
        out.append(
            {
                "from_id": f"e{i}-0",
                "to_id": f"e{i}-1",
                "type": "relation",
                "direction": "right",
                "labels": ["works_for"],
            }
        )
    x, y = rng.randint(0, 40), rng.randint(0, 40)
    out.append(
        {
            "id": f"b{i}",
            "from_name": "box",
            "type": "rectanglelabels",
            "origin": "manual",
            **image,
            "value": {
                "x": x * 1.25,
                "y": y * 1.25,
                "width": 25.0,
                "height": 12.5,
                "rotation": 0,
                "rectanglelabels": [rng.choice(["cat", "dog"])],
            },
        }
    )
    if rich:
        out += [
            {
                "id": f"p{i}",
                "from_name": "outline",
                "type": "polygonlabels",
                "origin": "manual",
                **image,
                "value": {
                    "points": [[10.0, 10.0], [50.0, 12.5], [30.0, 62.5]],
                    "closed": True,
                    "polygonlabels": ["cat"],
                },
            },
            {
                "id": f"k{i}a",
                "from_name": "joints",
                "type": "keypointlabels",
                "origin": "manual",
                **image,
                "value": {"x": 25.0, "y": 50.0, "width": 0.5, "keypointlabels": ["nose"]},
            },
            {
                "id": f"k{i}b",
                "from_name": "joints",
                "type": "keypointlabels",
                "origin": "manual",
                **image,
                "value": {"x": 75.0, "y": 50.0, "width": 0.5, "keypointlabels": ["tail"]},
            },
            {
                "id": f"t{i}",
                "from_name": "summary",
                "to_name": "text",
                "type": "textarea",
                "origin": "manual",
                "value": {"text": [f"About {PEOPLE[i % 5]}"]},
            },
            {
                "id": f"r{i}",
                "from_name": "quality",
                "to_name": "text",
                "type": "rating",
                "origin": "manual",
                "value": {"rating": 1 + i % 5},
            },
        ]
    return out


def tasks(count: int = 50) -> list[dict]:
    """`count` tasks: one annotation each for the first 60%, two (two people) for the next 20%, a
    cancelled one plus a real one for the next 10%, predictions only for the rest; every other task
    also has a model prediction."""
    rng = random.Random(13)
    out = []
    for i in range(count):
        text, spans = _text(i)
        size = SIZES[i % 3]
        task = {
            "id": 1000 + i,
            "data": {"text": text, "image": f"/data/upload/3/{i:04d}-photo.jpg"},
            "meta": {"batch": i // 10, "source": "web"},
            "annotations": [],
            "predictions": [],
            "created_at": "2026-03-01T09:00:00.000000Z",
            "project": 3,
        }
        share = i / count
        if share < 0.9:
            people = [USERS[i % 4]] + ([USERS[(i + 1) % 4]] if share >= 0.6 else [])
            for n, user in enumerate(people):
                cancelled = share >= 0.8 and n == 0
                task["annotations"].append(
                    {
                        "id": 5000 + i * 10 + n,
                        "completed_by": user,
                        "result": [] if cancelled else _regions(i, rng, text, spans, size, rich=i % 2 == 0),
                        "was_cancelled": cancelled,
                        "ground_truth": False,
                        "created_at": f"2026-03-0{2 + n}T10:{i % 60:02d}:00.000000Z",
                        "updated_at": f"2026-03-0{2 + n}T10:{i % 60:02d}:30.000000Z",
                        "lead_time": round(12.5 + i, 3),
                        "task": 1000 + i,
                    }
                )
        if i % 2 == 1 or share >= 0.9:
            task["predictions"].append(
                {
                    "id": 9000 + i,
                    "model_version": "detector-v2",
                    "score": round(0.5 + (i % 5) / 10, 2),
                    "result": _regions(i, rng, text, spans, size, rich=False),
                }
            )
        out.append(task)
    return out


def export_bytes(count: int = 50) -> bytes:
    return json.dumps(tasks(count), ensure_ascii=False, indent=1).encode()
