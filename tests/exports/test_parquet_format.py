import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from exports.formats import parquet as parquet_module

from .conftest import assert_byte_identical, make_records


def test_pyarrow_reads_typed_columns(write_format, records, ctx):
    root, names, _ = write_format("parquet", records, ctx)

    assert names == ["parquet/test.parquet", "parquet/train.parquet", "parquet/validation.parquet"]
    table = pq.read_table(root / "parquet/train.parquet")
    assert table.column("item_id").to_pylist() == [1000, 1001, 1004, 1005]
    assert table.schema.field("label.topics").type == pa.list_(pa.string())
    assert table.schema.field("label.quality").type == pa.float64()
    row = table.slice(1, 1).to_pylist()[0]
    assert row["label.sentiment"] == "neutral"
    assert row["label.topics"] == []
    assert row["label.quality"] == 2.0
    assert json.loads(row["label.objects"]) == records[1].labels["objects"]
    assert row["agreement.quality"] is None
    assert row["media_width"] == 640
    assert json.loads(row["data"])["text"] == records[1].data["text"]


def test_hugging_face_datasets_loads_the_splits_offline(write_format, records, ctx):
    import datasets

    assert os.environ["HF_DATASETS_OFFLINE"] == "1"
    root, _, _ = write_format("parquet", records, ctx)

    loaded = datasets.load_dataset(
        "parquet",
        data_files={
            split: str(root / f"parquet/{split}.parquet") for split in ("train", "validation", "test")
        },
        cache_dir=str(root / ".hf-cache"),
    )

    assert {name: len(split) for name, split in loaded.items()} == {"train": 4, "validation": 2, "test": 2}
    assert loaded["train"][0]["label.sentiment"] == "positive"
    assert loaded["train"][0]["label.topics"] == ["battery"]
    assert loaded["test"]["item_id"] == [1003, 1007]


def test_row_groups_bound_memory(write_format, ctx, monkeypatch):
    monkeypatch.setattr(parquet_module, "ROW_GROUP_SIZE", 3)
    records = [r for r in make_records(40) if r.split == "train"]

    root, _, _ = write_format("parquet", records, ctx)

    meta = pq.ParquetFile(root / "parquet/train.parquet").metadata
    assert meta.num_rows == 20
    assert meta.num_row_groups == 7
    assert meta.row_group(0).num_rows == 3


def test_rebuild_is_byte_identical(write_format, records, ctx):
    assert_byte_identical(write_format, "parquet", records, ctx)
