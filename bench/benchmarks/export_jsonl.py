"""Release writer throughput: N synthetic records (1,000,000; 100,000 with --quick) streamed through the
pure JSONL writer (exports.formats.jsonl) into a DirectoryOutput (hashing while writing), in a
child process of its own. The records are built lazily by a generator (text of about 200 characters,
two spans, a choice, confidence, agreement, lineage; two raw annotations in the include_raw run), so
the measurement includes building each ExportRecord, as the release build does; nothing is held in
memory.

Memory: the child's peak resident-set growth (ru_maxrss after the run minus before it) must stay flat
(independent of N). Targets from issue #7: >= 50,000 records/s, growth < 150 MB. A second, smaller
run writes Parquet (row groups of 10,000) for comparison.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.support import run_workload

if TYPE_CHECKING:
    from bench.run import Context

NAME = "export_jsonl"
DESCRIPTION = (
    "Release writers: 1,000,000 records to JSONL (records/s, peak RSS growth), Parquet for comparison."
)

WORDS = ["battery", "screen", "delivery", "price", "quality", "support", "refund", "fast", "slow", "broken"]
SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text", "source": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "labels": [{"value": "pos"}, {"value": "neg"}],
        },
        {
            "name": "entities",
            "type": "spans",
            "field": "text",
            "labels": [{"value": "PER"}, {"value": "ORG"}],
        },
    ],
}


def _records(count: int, seed: int):
    import random

    from exports.records import ExportRecord, RawAnnotation

    rng = random.Random(seed)
    texts = [f"Review {i}: " + " ".join(rng.choice(WORDS) for _ in range(30)) for i in range(1000)]
    splits = ["train"] * 8 + ["validation", "test"]
    for i in range(count):
        text = texts[i % 1000][:200]
        labels = {
            "sentiment": "pos" if i % 3 else "neg",
            "entities": [
                {"id": "s1", "start": 0, "end": 6, "label": "ORG"},
                {"id": "s2", "start": 10, "end": 17, "label": "PER"},
            ],
        }
        raw = (
            RawAnnotation(2 * i + 1, f"ann-{i % 50:04x}", labels, 1, "accepted"),
            RawAnnotation(2 * i + 2, f"ann-{(i + 7) % 50:04x}", labels, 1, None),
        )
        yield ExportRecord(
            item_id=i + 1,
            external_id=f"r-{i}",
            split=splits[i % 10],
            data={"text": text, "meta": {"stars": i % 5 + 1, "lang": "en"}},
            schema_version=2,
            labels=labels,
            confidence={"sentiment": 0.93, "entities": 0.8},
            agreement={"sentiment": 1.0, "entities": 0.75},
            annotations=raw,
            lineage={
                "source": "reviews.jsonl",
                "checksum": f"{i:064x}",
                "annotation_ids": [2 * i + 1, 2 * i + 2],
                "annotators": [raw[0].annotator, raw[1].annotator],
                "guideline_version": 3,
                "schema_version": 2,
                "review": "accepted",
                "aggregation": {"entities": "span_consensus", "sentiment": "dawid_skene"},
                "synthetic": False,
            },
        )


def _child(fmt: str, count: int, out_dir: str, seed: int, include_raw: bool = False) -> dict:
    """Runs in its own process: write `count` records with format `fmt`, report time and memory."""
    from exports.formats import FORMATS
    from exports.manifest import DirectoryOutput
    from exports.records import ExportContext

    ctx = ExportContext("Bench", "bench", SCHEMA, "v1", 1, include_raw=include_raw)
    output = DirectoryOutput(Path(out_dir))
    for record in _records(10, seed):  # warm the imports and code paths before the baseline
        _ = record
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    FORMATS[fmt].write(_records(count, seed), ctx, output)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "records": count,
        "bytes": sum(entry.bytes for entry in output.entries()),
        "files": len(output.entries()),
        "rss_baseline_mb": baseline_kb / 1024,
        "rss_peak_mb": peak_kb / 1024,
    }


def run(ctx: Context) -> list[dict]:
    count = 100_000 if ctx.quick else 1_000_000
    results = {}
    runs = (
        ("jsonl", "jsonl", count, "0"),
        ("jsonl_raw", "jsonl", count // 4, "1"),
        ("parquet", "parquet", count // 4, "0"),
    )
    for key, fmt, n, raw in runs:
        out_dir = ctx.tmp_dir / key
        out_dir.mkdir()
        ctx.log(f"writing {n:,} records as {key}")
        results[key] = run_workload(
            "bench.benchmarks.export_jsonl",
            fmt,
            str(n),
            str(out_dir),
            str(ctx.seed),
            raw,
            repo_root=ctx.repo_root,
            env=ctx.subprocess_env(),
        )
    jsonl, raw_run, parquet = results["jsonl"], results["jsonl_raw"], results["parquet"]
    growth = jsonl["rss_peak_mb"] - jsonl["rss_baseline_mb"]
    return [
        {
            "name": f"{count:,} records to JSONL",
            "value": round(jsonl["records"] / jsonl["seconds"]),
            "unit": "records/s",
            "target": ">= 50000",
            "notes": f"{jsonl['seconds']:.1f} s, {jsonl['bytes'] / 1e6:.0f} MB in {jsonl['files']} files "
            "(about 900 B a line), SHA-256 while writing; default options (no raw annotations)",
        },
        {
            "name": "peak memory growth while writing JSONL",
            "value": round(growth, 1),
            "unit": "MB",
            "target": "< 150",
            "notes": f"baseline {jsonl['rss_baseline_mb']:.0f} MB, peak {jsonl['rss_peak_mb']:.0f} MB",
        },
        {
            "name": f"{raw_run['records']:,} records to JSONL with raw annotations",
            "value": round(raw_run["records"] / raw_run["seconds"]),
            "unit": "records/s",
            "notes": f"include_raw: two annotations per line (about 1.3 kB), {raw_run['bytes'] / 1e6:.0f} MB",
        },
        {
            "name": f"{parquet['records']:,} records to Parquet",
            "value": round(parquet["records"] / parquet["seconds"]),
            "unit": "records/s",
            "notes": f"peak RSS growth {parquet['rss_peak_mb'] - parquet['rss_baseline_mb']:.0f} MB, "
            f"{parquet['bytes'] / 1e6:.0f} MB",
        },
    ]


if __name__ == "__main__":
    fmt_arg, count_arg, dir_arg, seed_arg, raw_arg = sys.argv[1:6]
    print(json.dumps(_child(fmt_arg, int(count_arg), dir_arg, int(seed_arg), raw_arg == "1")))
