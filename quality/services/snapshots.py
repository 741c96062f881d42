"""The snapshot an incremental recompute starts from: a base (every coded row, activity, consensus
and warm-start posteriors) and a delta over it, stored in `QualityState` through the pure codec
(quality.snapshot_codec). The decoded base is kept in the worker process while it is current."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from quality import engine
from quality.models import QualityState
from quality.snapshot_codec import (
    SNAPSHOT_FORMAT,
    Materialised,
    Plain,
    cons_arrays,
    cons_of,
    decode,
    encode,
    overlay,
    pair_key,
    table_arrays,
)

if TYPE_CHECKING:
    from .job import Job

REBASE_FRACTION = 0.2  # an incremental run writes a new base once this share of rows changed since

_BASE_CACHE: dict[int, tuple[int, dict]] = {}  # project id -> (base number, decoded base)
_BASE_CACHE_SIZE = 4


def save_snapshot(job: Job, state: QualityState, seen_at, schema_version: int) -> None:
    """Full runs (and incremental runs whose changes since the base grew past REBASE_FRACTION)
    write a new base; other incremental runs write only the delta: the current rows of every
    (item, annotator) changed since the base, and the consensus rows written since."""
    rows = sum(len(c.table) for c in job.controls.values() if c.table is not None)
    changed = sum(
        int(np.isin(pair_key(c.table.item, c.table.annotator), job.delta_keys).sum())
        for c in job.controls.values()
        if c.table is not None and len(job.delta_keys)
    )
    fields = ["snapshot_delta", "snapshot_at", "snapshot_schema_version", "updated_at"]
    if not job.incremental or state.snapshot is None or changed > REBASE_FRACTION * max(rows, 1):
        fields += ["snapshot", "snapshot_base"]  # the base (megabytes) is written only when it changes
        state.snapshot, arrays, meta = dump_base(
            job,
        )
        state.snapshot_delta = None
        # The writing run's id names the base: unique even if this transaction rolls back, so
        # the in-memory copy below can never stand for another base.
        state.snapshot_base = job.run.id
        cache_base(job.project.id, job.run.id, {"data": Plain(arrays), "meta": meta})
    else:
        state.snapshot_delta = dump_delta(
            job,
        )
    state.snapshot_at = seen_at
    state.snapshot_schema_version = schema_version
    # Only these fields: `pending` and `full_requested` belong to the scheduler and may have
    # changed since this run started.
    state.save(update_fields=fields)


def dump_base(job: Job) -> tuple[bytes, dict, dict]:
    arrays: dict[str, np.ndarray] = {f"act_{k}": v for k, v in job.activity.items()}
    meta: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "controls": {}}
    for name, control in job.controls.items():
        if control.table is None:
            continue
        t = control.table
        arrays.update(table_arrays(name, t))
        meta["controls"][name] = {
            "labels": t.labels,
            "units": t.units,
            "method": control.method,
            "cold_answers": job.cold.get(name, 0),
        }
        warm = job.new_warm.get(name) or job.warm.get(name)
        if warm is not None:
            arrays[f"{name}__warm_keys"], arrays[f"{name}__warm_post"] = warm
        if name in job.new_cons:
            arrays.update(cons_arrays(name, job.new_cons[name]))
    return encode(arrays, meta), arrays, meta


def dump_delta(job: Job) -> bytes:
    keys = job.delta_keys
    act = job.activity
    in_delta = np.isin(pair_key(act["item"], act["annotator"]), keys)
    arrays: dict[str, np.ndarray] = {"keys": keys, **{f"act_{k}": v[in_delta] for k, v in act.items()}}
    meta: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "controls": {}}
    for name, control in job.controls.items():
        if control.table is None:
            continue
        t = control.table
        arrays.update(table_arrays(name, t.mask(np.isin(pair_key(t.item, t.annotator), keys))))
        meta["controls"][name] = {"labels": t.labels, "units": t.units, "method": control.method}
        if name in job.new_cons:
            items, labels, conf = job.new_cons[name]
            written = np.union1d(job.cons_written.get(name, np.zeros(0, np.int64)), job.written.get(name, []))
            pick = np.isin(items, written)
            arrays.update(cons_arrays(name, (items[pick], labels[pick], conf[pick])))
    return encode(arrays, meta)


def use_snapshot(job: Job, base: dict, delta: dict | None, *, consensus_only: bool) -> None:
    """Start from the stored base, with the delta's rows laid over it."""
    data, meta = base["data"], base["meta"]
    delta_data = delta["data"] if delta else None
    delta_meta = delta["meta"] if delta else {"controls": {}}
    if delta_data is not None:
        job.delta_keys = delta_data["keys"]
    if not consensus_only:
        act = {k: data[f"act_{k}"] for k in ("item", "annotator", "ms")}
        if delta_data is not None:
            keep = ~np.isin(pair_key(act["item"], act["annotator"]), job.delta_keys)
            act = {k: np.concatenate((v[keep], delta_data[f"act_{k}"])) for k, v in act.items()}
        job.activity = act
    for name, control in job.controls.items():
        stored = meta["controls"].get(name)
        if control.table is None or stored is None or stored.get("method") != control.method:
            continue
        cons = cons_of(data, name)
        if cons is not None and delta_data is not None and f"{name}__cons_item" in delta_data:
            cons = overlay(cons, cons_of(delta_data, name))
            job.cons_written[name] = delta_data[f"{name}__cons_item"]
        if cons is not None:
            job.prev_cons[name] = cons
        if consensus_only:
            continue
        vocab = delta_meta["controls"].get(name) or stored
        table = engine.Table(
            data[f"{name}__item"],
            data[f"{name}__unit"],
            data[f"{name}__annotator"],
            data[f"{name}__label"],
            list(vocab["labels"]),
            list(vocab["units"]),
        )
        if delta_data is not None and f"{name}__item" in delta_data:
            table = table.mask(~np.isin(pair_key(table.item, table.annotator), job.delta_keys))
            table = engine.Table(
                np.concatenate((table.item, delta_data[f"{name}__item"])),
                np.concatenate((table.unit, delta_data[f"{name}__unit"])),
                np.concatenate((table.annotator, delta_data[f"{name}__annotator"])),
                np.concatenate((table.label, delta_data[f"{name}__label"])),
                table.labels,
                table.units,
            )
        control.table = table
        if f"{name}__warm_keys" in data:
            job.warm[name] = (data[f"{name}__warm_keys"], data[f"{name}__warm_post"])
            job.cold[name] = int(stored.get("cold_answers", 0))


def base_snapshot(project_id: int, state: QualityState) -> dict:
    """The decoded base snapshot, kept in this process while it is current: a worker that runs a
    project's consecutive incremental recomputes decodes it once per base."""
    cached = _BASE_CACHE.get(project_id)
    if cached is not None and cached[0] == state.snapshot_base:
        return cached[1]
    base = decode(bytes(state.snapshot))
    base["data"] = Materialised(base["data"])
    cache_base(project_id, state.snapshot_base, base)
    return base


def cache_base(project_id: int, number: int, base: dict) -> None:
    _BASE_CACHE.pop(project_id, None)
    if len(_BASE_CACHE) >= _BASE_CACHE_SIZE:
        _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
    _BASE_CACHE[project_id] = (number, base)
