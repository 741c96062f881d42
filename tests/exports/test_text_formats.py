"""Preference pairs, ranking lists, the ASR manifest and Label Studio JSON: read back with the
stdlib and checked against the shapes their consumers document (TRL DPO, NeMo manifests, Label
Studio's task import format)."""

import json

import pytest

from .conftest import assert_byte_identical


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_preference_pairs_follow_the_consensus_choice_and_skip_ties(write_format, records, ctx):
    root, names, _ = write_format("preference", records, ctx)

    assert names == ["preference/preference/test.jsonl", "preference/preference/train.jsonl"]
    rows = read_jsonl(root / "preference/preference/train.jsonl")
    assert [r["item_id"] for r in rows] == [1000, 1001, 1004, 1005]
    first, second = rows[0], rows[1]
    assert first["prompt"] == "Summarise: Zoë Adams joined Acme in May."
    assert (first["chosen"], first["rejected"]) == ('A longer, "careful" summary.', "A short summary.")
    assert (first["chosen_id"], first["rejected_id"]) == ("long", "0")
    assert (first["strength"], first["agreement"], first["confidence"]) == (2, 0.9, 0.5)
    assert (second["chosen"], second["strength"]) == ("A short summary.", 1)
    assert not (root / "preference/preference/validation.jsonl").exists()  # the ties


def test_preference_rows_load_in_hugging_face_datasets(write_format, records, ctx, tmp_path):
    import datasets

    root, _, _ = write_format("preference", records, ctx)

    loaded = datasets.load_dataset(
        "json", data_files=str(root / "preference/preference/train.jsonl"), cache_dir=str(tmp_path / "hf")
    )["train"]

    assert {"prompt", "chosen", "rejected"} <= set(loaded.column_names)
    assert loaded.num_rows == 4


def test_ranking_lists_keep_order_and_candidates(write_format, records, ctx):
    root, _, _ = write_format("ranking", records, ctx)

    row = read_jsonl(root / "ranking/order/validation.jsonl")[0]
    assert row["ranking"] == ["r2", "r1", "r3"]
    assert row["candidates"] == [
        {"id": "r1", "text": "Good."},
        {"id": "r2", "text": "Very good."},
        {"id": "r3", "text": "Bad."},
    ]
    assert row["prompt"].startswith("Summarise: =HYPERLINK")


def test_asr_manifest_has_path_duration_text_and_skips_unanswered(write_format, records, ctx):
    root, names, _ = write_format("asr", records, ctx)

    assert names == ["asr/transcript/test.jsonl", "asr/transcript/train.jsonl"]
    rows = read_jsonl(root / "asr/transcript/train.jsonl")
    assert rows[1] == {
        "audio_filepath": "media/1001.jpg",
        "duration": 12.5,
        "text": "Ça va, merci\nau revoir",
        "item_id": 1001,
        "confidence": 0.6,
        "agreement": 0.8,
    }


def test_label_studio_tasks_have_the_documented_shape(write_format, records, ctx):
    root, names, _ = write_format("labelstudio", records, ctx)

    assert names == ["labelstudio/tasks.json"]
    tasks = json.loads((root / "labelstudio/tasks.json").read_bytes())
    assert [t["id"] for t in tasks] == [r.item_id for r in records]
    task = tasks[0]
    assert task["data"]["text"] == records[0].data["text"]
    assert task["data"]["tessera_media"] == "media/1000.jpg"
    assert len(task["annotations"]) == 3  # consensus + 2 raw
    assert [a["source"] for a in task["meta"]["annotations"]] == ["consensus", "annotator", "annotator"]
    result = {(r["from_name"], r["type"]): r for r in task["annotations"][0]["result"] if "from_name" in r}
    for region in task["annotations"][0]["result"]:
        assert set(region) >= {"type"}
        if region["type"] != "relation":
            assert {"id", "from_name", "to_name", "value"} <= set(region)
    assert result[("sentiment", "choices")]["value"] == {"choices": ["positive"]}
    box = next(r for r in task["annotations"][0]["result"] if r["type"] == "rectanglelabels")
    assert box["to_name"] == "image"
    assert box["value"]["x"] == pytest.approx(10 / 640 * 100)
    assert box["value"]["height"] == pytest.approx(120 / 480 * 100)
    assert (box["original_width"], box["original_height"]) == (640, 480)
    span = next(
        r for r in task["annotations"][0]["result"] if r["type"] == "labels" and r["from_name"] == "entities"
    )
    assert span["value"] == {"start": 0, "end": 9, "labels": ["PER"], "text": "Zoë Adams"}
    assert result[("preference", "pairwise")]["value"] == {"selected": "right"}
    assert result[("order", "ranker")]["value"] == {"ranker": {"ranked": ["r2", "r1", "r3"]}}
    assert result[("transcript", "textarea")]["value"] == {"text": ["Hello, how can I help?"]}
    keypoints = [r for r in task["annotations"][0]["result"] if r["type"] == "keypointlabels"]
    assert [k["value"]["keypointlabels"] for k in keypoints] == [["nose"], ["left_eye"]]


def test_label_studio_file_is_a_streamed_json_array_even_when_empty(write_format, ctx):
    root, _, _ = write_format("labelstudio", [], ctx)

    assert json.loads((root / "labelstudio/tasks.json").read_bytes()) == []


@pytest.mark.parametrize("name", ["preference", "ranking", "asr", "labelstudio"])
def test_rebuild_is_byte_identical(write_format, records, ctx, name):
    assert_byte_identical(write_format, name, records, ctx)
