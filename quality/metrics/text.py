"""Edit distances for transcriptions and free text. Pure numpy: no Django, no I/O.

`levenshtein` is the unit-cost edit distance over any two sequences (characters of a string, or
tokens). The dynamic programme runs one numpy pass per element of the first sequence: within a row
the insertion chain cur[j] = min(t[j], cur[j-1] + 1) is a running minimum,
cur = cummin(t - j) + j, so no Python loop over the second sequence.

- `normalized_edit_distance` = distance / max(len(a), len(b)), in [0, 1]; 0 for two empty texts.
- `wer` (word error rate) = word-level distance / number of reference words; `cer` the same over
  characters. They can exceed 1 (many insertions) and are NaN for an empty reference with a
  non-empty hypothesis (0 when both are empty).
"""

import numpy as np


def _codes(a, b) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(a, str) and isinstance(b, str):
        return np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32), np.frombuffer(
            b.encode("utf-32-le"), dtype=np.uint32
        )
    vocabulary: dict = {}
    ca = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in a], dtype=np.int64)
    cb = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in b], dtype=np.int64)
    return ca, cb


def levenshtein(a, b) -> int:
    """Unit-cost insert/delete/substitute distance between two strings or token sequences."""
    ca, cb = _codes(a, b)
    if len(ca) < len(cb):  # loop over the shorter sequence
        ca, cb = cb, ca
    m = len(cb)
    if m == 0:
        return len(ca)
    j = np.arange(m + 1)
    row = j.copy()
    for i, symbol in enumerate(ca, start=1):
        t = np.empty(m + 1, dtype=np.int64)
        t[0] = i
        t[1:] = np.minimum(row[1:] + 1, row[:-1] + (cb != symbol))
        row = np.minimum.accumulate(t - j) + j
    return int(row[-1])


def normalized_edit_distance(a, b) -> float:
    longest = max(len(a), len(b))
    return levenshtein(a, b) / longest if longest else 0.0


def _error_rate(reference, hypothesis) -> float:
    if len(reference) == 0:
        return 0.0 if len(hypothesis) == 0 else float("nan")
    return levenshtein(reference, hypothesis) / len(reference)


def wer(reference: str, hypothesis: str, *, lowercase: bool = False) -> float:
    """Word error rate; words are whitespace-separated."""
    if lowercase:
        reference, hypothesis = reference.lower(), hypothesis.lower()
    return _error_rate(reference.split(), hypothesis.split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate."""
    return _error_rate(reference, hypothesis)


def pairwise_text_similarity(texts: list[str], *, unit: str = "char") -> np.ndarray:
    """n x n matrix of 1 - normalised edit distance between annotators' texts for one item (NaN diagonal)."""
    seqs = [t.split() for t in texts] if unit == "word" else list(texts)
    n = len(seqs)
    out = np.full((n, n), np.nan)
    for a, b in zip(*np.triu_indices(n, 1), strict=True):
        out[a, b] = out[b, a] = 1.0 - normalized_edit_distance(seqs[a], seqs[b])
    return out
