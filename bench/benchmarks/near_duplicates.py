"""Near-duplicate detection (annotation.neardup.algorithm): N generated review-like texts (15-60 words from a
30,000-word Zipf vocabulary) of which ~2 % are edited copies (1-3 words replaced, deleted or
inserted, or case and punctuation changed) of an earlier text.

Measured, in this process, on the pure algorithm as the service runs it (two passes: MinHash band
keys for every text in batches of 20,000, then signatures again for the candidates only, verified
at Jaccard 0.8, grouped): seconds, recall of the planted pairs whose true shingle Jaccard is >= 0.8
(and >= 0.9), and precision (found pairs that are planted copies). Then MinHash throughput against
datasketch on 20,000 texts (the reason the runtime does not use it), the dHash Hamming search over
1,000,000 hashes, and, with PostgreSQL, near_duplicates_detect end to end over the same 1,000,000
texts as items (loaded with COPY first, not timed), and again with nothing new. --quick: 100,000
texts and hashes, 20,000 items.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

import numpy as np

from annotation.neardup import algorithm, images
from bench.support import is_postgres_url, manage, run_workload, throwaway_postgres_database

if TYPE_CHECKING:
    from bench.run import Context

NAME = "near_duplicates"
DESCRIPTION = (
    "Near-duplicate texts (MinHash/LSH) and images (dHash): speed, recall, precision; vs datasketch."
)
VOCABULARY = 30_000
PLANTED = 0.02
BATCH = 20_000  # texts per MinHash batch, as annotation.neardup.services reads them


def _vocabulary(rng: np.random.Generator) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 11, VOCABULARY)
    words = {"".join(rng.choice(letters, size=length)) for length in lengths}
    return np.array(sorted(words), dtype=object)


def generate(seed: int, count: int) -> tuple[list[str], list[tuple[int, int]], np.ndarray]:
    """(texts, planted (source, copy) pairs, family of each text: the first text it was copied from)."""
    rng = np.random.default_rng(seed)
    vocabulary = _vocabulary(rng)
    weights = 1.0 / np.arange(1, len(vocabulary) + 1) ** 1.07
    cumulative = np.cumsum(weights / weights.sum())
    lengths = rng.integers(15, 61, count)
    indices = np.searchsorted(cumulative, rng.random(int(lengths.sum())))
    words = vocabulary[np.minimum(indices, len(vocabulary) - 1)]
    ends = np.cumsum(lengths)
    texts = [
        " ".join(words[end - length : end]).capitalize() + "."
        for end, length in zip(ends, lengths, strict=True)
    ]
    family = np.arange(count)
    pairs = []
    copies = np.flatnonzero(rng.random(count) < PLANTED)
    for target in copies[copies > 0]:
        source = int(rng.integers(0, target))
        texts[target] = _edit(rng, texts[source], vocabulary)
        family[target] = family[source]
        pairs.append((source, int(target)))
    return texts, pairs, family


def _edit(rng: np.random.Generator, text: str, vocabulary: np.ndarray) -> str:
    words = text.split()
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.integers(0, 4)
        position = int(rng.integers(0, len(words)))
        if kind == 0:
            words[position] = str(rng.choice(vocabulary))
        elif kind == 1 and len(words) > 5:
            del words[position]
        elif kind == 2:
            words.insert(position, str(rng.choice(vocabulary)))
        else:
            words[position] = words[position].upper() + "!"
    return " ".join(words)


def detect(texts: list[str], threshold: float = algorithm.TEXT_THRESHOLD):
    """What annotation.neardup.services does, without the database: (verified low, high, labels)."""
    bands, rows = algorithm.lsh_params(threshold)
    keys = []
    for start in range(0, len(texts), BATCH):
        signatures = algorithm.minhash_signatures(texts[start : start + BATCH])
        keys.append(algorithm.lsh_band_keys(signatures, bands=bands, rows=rows))
    low, high = algorithm.lsh_candidate_pairs(np.concatenate(keys))
    candidates = np.union1d(low, high)
    signatures = algorithm.minhash_signatures([texts[i] for i in candidates])
    local_low, local_high = np.searchsorted(candidates, low), np.searchsorted(candidates, high)
    similarity = algorithm.jaccard_estimates(signatures[local_low], signatures[local_high])
    keep = similarity >= threshold - 1e-9
    labels = algorithm.connected_components(len(texts), low[keep], high[keep])
    return low[keep], high[keep], labels, len(low)


def _true_jaccard(first: str, second: str) -> float:
    a, b = algorithm.shingles(first), algorithm.shingles(second)
    return len(a & b) / len(a | b) if a | b else 1.0


def _text_quality(ctx: Context, count: int) -> tuple[list[dict], list[str], int]:
    ctx.log(f"generating {count:,} texts")
    texts, pairs, family = generate(ctx.seed, count)
    ctx.log("detecting")
    started = time.perf_counter()
    low, high, labels, candidates = detect(texts)
    seconds = time.perf_counter() - started
    truth = np.array([_true_jaccard(texts[a], texts[b]) for a, b in pairs])
    grouped = np.array([labels[a] == labels[b] for a, b in pairs])
    above, high_similarity = truth >= 0.8, truth >= 0.9
    precision = float(np.mean(family[low] == family[high])) if len(low) else 1.0
    groups = len(algorithm.groups_from_labels(labels))
    method = "MinHash 128 perm. of 5-grams, 16 bands x 8 rows, Jaccard >= 0.8, two passes as in the service"
    results = [
        {
            "name": f"{count:,} texts: detect near duplicates",
            "value": round(seconds, 2),
            "unit": "s",
            "target": "< 60" if count >= 1_000_000 else "< 10",
            "notes": f"{candidates:,} LSH candidates, {len(low):,} verified, {groups:,} groups; {method}",
        },
        {
            "name": "recall, planted pairs with true Jaccard >= 0.8",
            "value": round(float(grouped[above].mean()), 4),
            "unit": "",
            "target": ">= 0.9",
            "notes": f"{int(above.sum()):,} of {len(pairs):,} planted pairs; a pair at exactly 0.8 "
            "has its MinHash estimate above 0.8 half the time",
        },
        {
            "name": "recall, planted pairs with true Jaccard >= 0.9",
            "value": round(float(grouped[high_similarity].mean()), 4),
            "unit": "",
            "target": ">= 0.99",
            "notes": f"{int(high_similarity.sum()):,} pairs",
        },
        {
            "name": "precision, found pairs that are planted copies",
            "value": round(precision, 4),
            "unit": "",
            "target": ">= 0.99",
            "notes": f"{len(low):,} verified pairs",
        },
    ]
    return results, texts, groups


def _throughput(ctx: Context, texts: list[str]) -> list[dict]:
    """MinHash signatures and LSH candidates, ours against datasketch (if installed) on the same texts."""
    sample = texts[:20_000]
    started = time.perf_counter()
    signatures = algorithm.minhash_signatures(sample)
    ours = time.perf_counter() - started
    bands, rows = algorithm.lsh_params()
    started = time.perf_counter()
    algorithm.lsh_candidate_pairs(algorithm.lsh_band_keys(signatures, bands=bands, rows=rows))
    ours_lsh = time.perf_counter() - started
    results = [
        {
            "name": "MinHash signatures, 20,000 texts (numpy)",
            "value": round(len(sample) / ours),
            "unit": "texts/s",
            "notes": f"{ours:.2f} s including shingling; candidates from 16 bands: {ours_lsh:.2f} s",
        }
    ]
    try:
        import datasketch
    except ImportError:
        ctx.log("datasketch is not installed (pip install datasketch): skipping the comparison")
        return results
    ctx.log("datasketch on 20,000 texts")
    started = time.perf_counter()
    minhashes = []
    for text in sample:
        minhash = datasketch.MinHash(num_perm=128)
        minhash.update_batch([shingle.encode() for shingle in algorithm.shingles(text)])
        minhashes.append(minhash)
    theirs = time.perf_counter() - started
    started = time.perf_counter()
    index = datasketch.MinHashLSH(num_perm=128, params=(bands, rows))
    with index.insertion_session() as session:
        for number, minhash in enumerate(minhashes):
            session.insert(number, minhash, check_duplication=False)
    for minhash in minhashes:
        index.query(minhash)
    theirs_lsh = time.perf_counter() - started
    results += [
        {
            "name": "MinHash signatures, 20,000 texts (datasketch 2.0)",
            "value": round(len(sample) / theirs),
            "unit": "texts/s",
            "notes": f"{theirs:.2f} s: MinHash.update_batch over the same shingles (SHA-1 per shingle); "
            f"MinHashLSH insert + query all: {theirs_lsh:.2f} s",
        },
        {
            "name": "speed-up over datasketch, signatures",
            "value": round(theirs / ours, 1),
            "unit": "x",
            "target": "> 5",
            "notes": f"LSH candidates: {theirs_lsh / ours_lsh:.1f}x; a million texts: "
            f"~{1e6 / len(sample) * ours:.0f} s against ~{1e6 / len(sample) * (theirs + theirs_lsh):.0f} s",
        },
    ]
    return results


def _images(ctx: Context, count: int) -> list[dict]:
    rng = np.random.default_rng(ctx.seed)
    values = rng.integers(0, 2**64, size=count, dtype=np.uint64)
    planted = count // 100
    chosen = rng.choice(count, size=2 * planted, replace=False)
    targets, sources = chosen[:planted], chosen[planted:]  # no text is both a copy and an original
    flips = np.zeros(planted, dtype=np.uint64)
    for _ in range(6):  # up to 6 bits, sometimes the same one twice
        flips ^= np.uint64(1) << rng.integers(0, 64, planted).astype(np.uint64)
    values[targets] = values[sources] ^ flips
    started = time.perf_counter()
    low, high, _ = images.hamming_pairs(values, max_distance=6)
    seconds = time.perf_counter() - started
    found = set(zip(np.minimum(low, high).tolist(), np.maximum(low, high).tolist(), strict=True))
    expected = {(min(a, b), max(a, b)) for a, b in zip(sources.tolist(), targets.tolist(), strict=True)}
    return [
        {
            "name": f"{count:,} image hashes: pairs within 6 bits",
            "value": round(seconds, 2),
            "unit": "s",
            "target": "< 20" if count >= 1_000_000 else "< 3",
            "notes": f"{images.hamming_blocks(count, 6)} blocks, pigeonhole tables; {len(found):,} pairs; "
            f"recall of {len(expected):,} planted: {len(found & expected) / len(expected):.4f} (exact)",
        }
    ]


def _service(ctx: Context, texts: list[str], count: int, groups: int) -> list[dict]:
    if not is_postgres_url(ctx.env.database_url):
        ctx.log("DATABASE_URL is not PostgreSQL: skipping near_duplicates_detect end to end")
        return []
    path = ctx.tmp_dir / "texts.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for text in texts[:count]:
            out.write(json.dumps({"text": text}) + "\n")
    expected_groups = (
        groups if count == len(texts) else len(algorithm.groups_from_labels(detect(texts[:count])[2]))
    )
    with throwaway_postgres_database(ctx.env.database_url, "tessera_bench_neardup") as database_url:
        env = ctx.subprocess_env(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL=database_url,
            REDIS_URL=None,
            TESSERA_VAR_DIR=str(ctx.tmp_dir / "var"),
        )
        manage("migrate", "--noinput", "-v", "0", python=sys.executable, repo_root=ctx.repo_root, env=env)
        ctx.log(f"near_duplicates_detect over {count:,} items")
        data = run_workload("bench.workloads.neardup_detect", str(path), repo_root=ctx.repo_root, env=env)
    growth = data["rss_peak_mb"] - data["rss_baseline_mb"]
    return [
        {
            "name": f"near_duplicates_detect, {count:,} items (PostgreSQL)",
            "value": round(data["seconds"], 2),
            "unit": "s",
            "target": "< 60" if count >= 1_000_000 else "< 15",
            "notes": f"{data['groups']:,} groups (pure run: {expected_groups:,}), "
            f"{data['items']:,} items flagged; peak memory growth {growth:.0f} MB",
        },
        {
            "name": "rerun with nothing new",
            "value": round(data["rerun_seconds"], 2),
            "unit": "s",
            "notes": f"{data['rerun_groups']} new groups (idempotent)",
        },
    ]


def run(ctx: Context) -> list[dict]:
    count = 100_000 if ctx.quick else 1_000_000
    results, texts, groups = _text_quality(ctx, count)
    results += _throughput(ctx, texts)
    results += _images(ctx, count)
    results += _service(ctx, texts, 20_000 if ctx.quick else count, groups)
    return results
