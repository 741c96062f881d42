"""Label Studio result types -> Tessera answers (annotation/imports/labelstudio/, pure), each checked
with the schema validator that submissions use."""

import pytest

from annotation.imports.labelstudio.convert import convert_task
from projects.schema import validate_annotation


def _labels(*values):
    return [{"value": v} for v in values]


SCHEMA = {
    "version": 1,
    "fields": [
        {"name": "prompt", "type": "candidates", "source": "answers"},
        {"name": "clip", "type": "audio", "source": "audio"},
        {"name": "movie", "type": "video", "source": "video"},
        {"name": "photo", "type": "image", "source": "image"},
        {"name": "doc", "type": "text", "source": "text"},
    ],
    "controls": [
        {"name": "better", "type": "pairwise", "field": "prompt"},
        {"name": "order", "type": "ranking", "field": "prompt"},
        {
            "name": "topic",
            "type": "taxonomy",
            "field": "doc",
            "choices": [{"value": "Sport", "children": [{"value": "Tennis"}]}],
        },
        {"name": "tags", "type": "multiple_choice", "field": "doc", "labels": _labels("a", "b", "c")},
        {"name": "speaker", "type": "audio_segments", "field": "clip", "labels": _labels("alice", "bob")},
        {"name": "scene", "type": "video_segments", "field": "movie", "labels": _labels("intro", "credits")},
        {"name": "kind", "type": "image_class", "field": "photo", "labels": _labels("cat", "dog")},
        {"name": "heard", "type": "transcription", "field": "clip"},
        {"name": "ner", "type": "spans", "field": "doc", "labels": _labels("PER", "ORG")},
        {"name": "rel", "type": "relations", "field": "doc", "spans": "ner", "labels": _labels("works_for")},
    ],
}
DATA = {
    "answers": [{"id": "left", "text": "A"}, {"id": "right", "text": "B"}],
    "audio": "/data/upload/a.wav",
    "video": "/data/upload/v.mp4",
    "frame_count": 250,
    "duration": 10,
    "image": "/data/upload/p.jpg",
    "text": "Ada 👩‍💻 works at Acme",
}


def region(name, kind, value, **extra):
    return {
        "id": extra.pop("id", f"{name}-1"),
        "from_name": name,
        "to_name": "x",
        "type": kind,
        "value": value,
        **extra,
    }


def convert(result, data=DATA):
    task = convert_task([{"completed_by": 1, "result": result}], [], SCHEMA, data)
    assert task.problems == []
    answer = task.annotations[0].result
    issues = validate_annotation(SCHEMA, data, answer, media={"duration": 10, "frame_count": 250})
    assert issues == [], issues
    return answer


def problems(result, data=DATA):
    return convert_task([{"completed_by": 1, "result": result}], [], SCHEMA, data).problems


def test_every_convertible_type():
    text = DATA["text"]
    start16 = len(text[: text.index("Acme")].encode("utf-16-le")) // 2
    answer = convert(
        [
            region("better", "pairwise", {"selected": "right"}),
            region("order", "ranker", {"ranker": {"order": ["right", "left"]}}),
            region("topic", "taxonomy", {"taxonomy": [["Sport", "Tennis"]]}),
            region("tags", "choices", {"choices": ["a", "c"]}),
            region("speaker", "labels", {"start": 0.5, "end": 2.25, "channel": 0, "labels": ["alice"]}),
            region(
                "scene", "timelinelabels", {"ranges": [{"start": 1, "end": 50}], "timelinelabels": ["intro"]}
            ),
            region("kind", "choices", {"choices": ["dog"]}),
            region("heard", "textarea", {"text": ["hello", "world"]}),
            region("ner", "labels", {"start": 0, "end": 3, "text": "Ada", "labels": ["PER"]}, id="p"),
            region(
                "ner",
                "labels",
                {"start": start16, "end": start16 + 4, "text": "Acme", "labels": ["ORG"]},
                id="o",
            ),
            {"from_id": "o", "to_id": "p", "type": "relation", "direction": "left", "labels": ["works_for"]},
        ]
    )
    assert answer == {
        "better": {"choice": "B"},
        "order": ["right", "left"],
        "topic": ["Sport", "Tennis"],
        "tags": ["a", "c"],
        "speaker": [{"start": 0.5, "end": 2.25, "label": "alice"}],
        "scene": [{"start": 0, "end": 2, "label": "intro"}],  # frames 1..50 at 25 fps
        "kind": "dog",
        "heard": "hello\nworld",
        "ner": [
            {"id": "p", "start": 0, "end": 3, "label": "PER", "text": "Ada"},
            {
                "id": "o",
                "start": text.index("Acme"),
                "end": text.index("Acme") + 4,
                "label": "ORG",
                "text": "Acme",
            },
        ],
        "rel": [{"from": "p", "to": "o", "label": "works_for"}],  # direction "left" swaps the ends
    }


@pytest.mark.parametrize(
    ("result", "where", "reason"),
    [
        ([region("nope", "choices", {"choices": ["a"]})], ".from_name", "no control named 'nope'"),
        (
            [region("kind", "brushlabels", {"rle": [1, 2]})],
            ".type",
            "'brushlabels' has no Tessera equivalent",
        ),
        ([region("kind", "rating", {"rating": 3})], ".type", "cannot answer 'kind', a image_class control"),
        (
            [region("ner", "hypertextlabels", {"start": "/p[1]", "end": "/p[1]", "labels": ["PER"]})],
            ".type",
            "'hypertextlabels' has no Tessera equivalent",
        ),
        (
            [region("order", "ranker", {"ranker": {"good": ["left"], "bad": ["right"]}})],
            ".value.ranker",
            "buckets have no Tessera equivalent",
        ),
        ([region("better", "pairwise", {"selected": "both"})], ".value.selected", "'left' or 'right'"),
    ],
)
def test_what_does_not_convert_says_why(result, where, reason):
    found = problems(result)
    assert len(found) == 1
    path, message = found[0]
    assert path.startswith("annotations[0].result[0]") and path.endswith(where) and reason in message


def test_image_geometry_is_checked_and_converted():
    schema = {
        "version": 1,
        "fields": [{"name": "image", "type": "image"}],
        "controls": [{"name": "box", "type": "bbox", "field": "image", "labels": _labels("cat")}],
    }
    base = {"from_name": "box", "type": "rectanglelabels", "original_width": 1000, "original_height": 500}

    def run(value, **extra):
        region = {**base, "id": "b", **extra, "value": {"rectanglelabels": ["cat"], **value}}
        return convert_task([{"completed_by": "u@x.org", "result": [region]}], [], schema, {"image": "x.png"})

    ok = run({"x": 10, "y": 20, "width": 50, "height": 50})
    assert ok.annotations[0].annotator.startswith("sha256-")  # an email is never kept
    assert ok.annotations[0].result == {
        "box": [{"x": 100, "y": 100, "width": 500, "height": 250, "label": "cat"}]
    }
    assert ok.image_size == (1000, 500)
    assert "outside the image" in run({"x": -5, "y": 0, "width": 10, "height": 10}).problems[0][1]
    assert "over 100 percent" in run({"x": 60, "y": 0, "width": 50, "height": 10}).problems[0][1]
    assert "rotated" in run({"x": 1, "y": 1, "width": 5, "height": 5, "rotation": 30}).problems[0][1]
    assert (
        "original_width" in run({"x": 1, "y": 1, "width": 5, "height": 5}, original_width=None).problems[0][1]
    )


def test_annotators_predictions_and_times_are_checked():
    task = convert_task(
        [
            {"completed_by": {"id": 7, "email": "ann@example.org"}, "result": [], "lead_time": 3.25},
            {"completed_by": 7, "result": []},
            {"result": []},
            {"completed_by": 8, "was_cancelled": True, "result": [], "created_at": "yesterday"},
        ],
        [
            {"model_version": "m1", "score": 1.5, "result": []},
            {"result": []},
            {"model_version": "", "result": []},
        ],
        SCHEMA,
        DATA,
    )
    assert [(a.annotator, a.lead_ms) for a in task.annotations] == [("7", 3250)]
    assert [p.model_version for p in task.predictions] == ["unversioned"]
    assert [path for path, _ in task.problems] == [
        "annotations[1].completed_by",
        "annotations[2].completed_by",
        "annotations[3].created_at",
        "predictions[0].score",
        "predictions[2].model_version",
    ]
    assert (task.rejected_annotations, task.rejected_predictions) == (3, 2)
