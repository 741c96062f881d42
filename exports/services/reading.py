"""The records of a release: items streamed in id order with their consensus (or gold reference) and
annotations, read ahead by a thread on an imported snapshot, pseudonymous annotator ids."""

from __future__ import annotations

import hashlib
import hmac
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from math import isfinite
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from annotation.items.selectors import exports as item_selectors
from annotation.provenance import selectors as provenance_selectors
from exports.models import Release
from exports.records import (
    ExportContext,
    ExportRecord,
    RawAnnotation,
    lineage_dict,
    new_record,
)
from quality import selectors_export as consensus_selectors

from .personal_data import PersonalDataPolicy
from .release_policy import ReleaseGate

_REVIEW = {"accepted": "accepted", "fixed": "corrected", "rejected": "rejected"}


@dataclass
class Stats:
    """What only the database knows, gathered on the first pass: consensus methods and sources."""

    methods: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # (source, licence, consent, synthetic, provenance source id) -> items
    sources: Counter = field(default_factory=Counter)
    provenance: dict = field(default_factory=dict)  # provenance source id -> {kind, name, terms}
    personal_data: Any = None  # the first pass's PersonalDataPolicy (exports/services/personal_data.py)
    item_ids: array = field(default_factory=lambda: array("q"))  # of the records written (erasure)


def item_filters(release: Release) -> dict[str, Any]:
    raw = release.filter or {}
    out: dict[str, Any] = {}
    if raw.get("split") is not None:
        out["split"] = raw["split"]
    if raw.get("gold"):
        out["gold"] = True
    if raw.get("reviewed"):
        out["reviewed"] = True
    for key in ("created_from", "created_until"):
        if raw.get(key):
            out[key] = date.fromisoformat(raw[key])
    return out


def _finite(value: float | None) -> float | None:
    return value if value is not None and isfinite(value) else None


class _Pseudonyms:
    """Stable pseudonymous annotator ids: HMAC of the project and user id under the server's secret."""

    def __init__(self, project_id: int):
        from annotation.models import ImportedAnnotator

        self._key = hashlib.sha256(f"tessera-release-pseudonym:{settings.SECRET_KEY}".encode()).digest()
        self._project = project_id
        self.known: dict[int, str] = {}  # user id -> pseudonym (read directly on the hot path)
        # Annotators imported with their work (Label Studio) say so: ann-imported-<hash>.
        self._imported = set(
            ImportedAnnotator.objects.filter(project_id=project_id).values_list("user_id", flat=True)
        )

    def __call__(self, user_id: int) -> str:
        found = self.known.get(user_id)
        if found is None:
            digest = hmac.new(self._key, f"{self._project}:{user_id}".encode(), hashlib.sha256).hexdigest()
            kind = "ann-imported-" if user_id in self._imported else "ann-"
            found = self.known[user_id] = f"{kind}{digest[:8]}"
        return found


def release_records(
    release: Release,
    ctx: ExportContext,
    schema_version: int,
    stats: Stats | None,
    on_chunk,
    snapshot_id: str | None = None,
    media=None,
    gate=None,
) -> Iterator[ExportRecord]:
    """The release's records in item-id order: items (server-side cursor) merged with the consensus
    and annotations of each chunk (id-range queries). Items without a consensus answer, or below the
    filter's min_agreement on any control (or with agreement undefined), are left out, and so are
    those the release policy excludes (`gate`, which records why on the pass that has `stats`).

    With `snapshot_id` (an exported PostgreSQL snapshot of the build's transaction) the chunks are
    read ahead by a thread on its own connection importing that snapshot, so the database works on
    the next chunk while this one is written: the same rows, in the same order."""
    project = release.project
    min_agreement = (release.filter or {}).get("min_agreement")
    chunk_size = settings.EXPORTS_BUILD_CHUNK
    filters = item_filters(release)
    include_raw = ctx.include_raw
    # A generator's body runs where it is first advanced: with read-ahead, in the reading thread.
    batches = item_selectors.export_item_batches(project=project, chunk_size=chunk_size, **filters)
    if snapshot_id is None:
        chunks = _with_rows(project, batches, include_raw)
    else:
        chunks = _in_thread(lambda: _with_rows(project, batches, include_raw), snapshot_id)
    # The release policy (consent, licences: exports/services/release_policy.py) leaves items out.
    gate = gate or ReleaseGate(release)
    try:
        kept = gate.filter_chunks(chunks, record=stats is not None)
        yield from _merged(project, kept, ctx, schema_version, stats, min_agreement, on_chunk, media)
    finally:
        chunks.close()


def _with_rows(project, batches: Iterator[list], include_raw: bool) -> Iterator[tuple]:
    """(items, consensus by item id, annotations by item id, gold answers by item id) per batch of
    items, in id order."""
    try:
        for chunk in batches:
            first, last = chunk[0].id, chunk[-1].id
            consensus = defaultdict(list)
            for row in consensus_selectors.export_consensus(
                project=project, first_item_id=first, last_item_id=last
            ):
                consensus[row.item_id].append(row)
            annotations = defaultdict(list)
            for row in item_selectors.export_annotations(
                project=project, first_item_id=first, last_item_id=last, with_results=include_raw
            ):
                annotations[row.item_id].append(row)
            gold = (
                {
                    row.item_id: row
                    for row in consensus_selectors.export_gold(
                        project=project, first_item_id=first, last_item_id=last
                    )
                }
                if any(item.is_gold for item in chunk)
                else {}
            )
            yield chunk, consensus, annotations, gold
    finally:
        batches.close()  # the server-side cursor, while its transaction is alive


_DONE = object()


def _in_thread(produce, snapshot_id: str) -> Iterator:
    """The values of the generator `produce()` makes, produced by a thread on its own connection in a
    read-only REPEATABLE READ transaction that imports the build transaction's snapshot (so it sees
    exactly what the build sees), at most two values ahead (memory stays bounded). An error in the
    thread is raised here; closing this generator stops the thread and closes its generator."""
    import queue
    import threading

    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def hand_over(value) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])
                values = produce()
                try:
                    for value in values:
                        if not hand_over(value):
                            return
                finally:
                    values.close()
            hand_over(_DONE)
        except BaseException as error:  # handed to the build, which raises it
            hand_over(error)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, name="release-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _merged(project, chunks, ctx, schema_version, stats, min_agreement, on_chunk, media):
    delay = settings.EXPORTS_BUILD_CHUNK_DELAY
    pseudonym = _Pseudonyms(project.id)
    provenance = provenance_selectors.provenance_by_id(project_id=project.id)  # one query per pass
    if stats is not None:
        stats.provenance = provenance
    seen = 0
    no_annotations: list = []
    personal_data = PersonalDataPolicy(project, ctx)  # privacy.release_policy: drop, mask or flag
    if stats is not None:
        stats.personal_data = personal_data
    for chunk, consensus, by_item, gold in chunks:
        get_annotations = by_item.get
        personal_data.load(chunk)
        for item in chunk:
            rows = consensus.get(item.id)
            reference = gold.get(item.id) if item.is_gold else None
            if reference is not None:
                rows = _gold_rows(item.id, reference, ctx)  # the reference answer is the label
                if rows:
                    rows.append(reference)
            if not rows:
                continue
            if (
                reference is None
                and min_agreement is not None
                and any(_finite(r.agreement) is None or r.agreement < min_agreement for r in rows)
            ):
                continue
            kept = personal_data.apply(item, rows, get_annotations(item.id, no_annotations))
            if kept is None:
                continue
            item, rows, annotations = kept
            yield _record(
                item,
                rows,
                annotations,
                ctx,
                schema_version,
                pseudonym,
                stats,
                media,
                provenance,
            )
        seen += len(chunk)
        on_chunk(seen)
        if delay:
            time.sleep(delay)  # tests only: makes a build slow enough to be killed midway


_METHOD_NAMES: dict[tuple[str, str], str] = {}  # (method, version) -> "method@version", a handful


GOLD_METHOD = "gold"


def _gold_rows(item_id: int, reference, ctx: ExportContext) -> list:
    """A gold item's reference answers as consensus-shaped rows (method "gold", confidence and
    agreement undefined), for the controls of the release's schema that the reference answers."""
    result = reference.result if isinstance(reference.result, dict) else {}
    return [
        consensus_selectors.ExportConsensusRow(item_id, name, result[name], None, None, GOLD_METHOD, "1")
        for name in sorted(c.get("name") for c in ctx.controls())
        if result.get(name) is not None
    ]


def _record(
    item, rows, annotations, ctx, schema_version, pseudonym, stats, media_of, provenance
) -> ExportRecord:
    # Hot path (once per record): plain loops, no helper calls per value.
    labels, confidence, agreement, aggregation = {}, {}, {}, {}
    methods = stats.methods if stats is not None else None
    gold = None
    if type(rows[-1]) is not consensus_selectors.ExportConsensusRow:  # a gold item: see _merged
        reference = rows[-1]
        rows = rows[:-1]
        gold = {"source": reference.source, "schema_version": reference.schema_version}
    for r in rows:
        control = r.control
        labels[control] = r.answer
        value = r.confidence
        confidence[control] = value if value is None or isfinite(value) else None
        value = r.agreement
        agreement[control] = value if value is None or isfinite(value) else None
        method = (r.method, r.method_version)
        name = _METHOD_NAMES.get(method)
        if name is None:
            name = _METHOD_NAMES[method] = f"{r.method}@{r.method_version}"
        aggregation[control] = name
        if methods is not None:
            methods[control][method] += 1
    review = None
    guideline_version = None
    annotators = []
    versions_of = [
        {"annotation_id": a.id, "guideline_version": a.guideline_version, "schema_version": a.schema_version}
        for a in annotations
    ]
    if len(annotations) == 1:  # the usual case, without the sets and generators below
        a = annotations[0]
        review = _REVIEW.get(a.review)
        guideline_version = a.guideline_version
        annotators = [pseudonym.known.get(a.annotator_id) or pseudonym(a.annotator_id)]
    elif annotations:
        reviews = {a.review for a in annotations}
        review = next((_REVIEW[r] for r in ("fixed", "accepted", "rejected") if r in reviews), None)
        versions = [a.guideline_version for a in annotations if a.guideline_version is not None]
        guideline_version = max(versions) if versions else None
        annotators = [pseudonym(a.annotator_id) for a in annotations]
    if stats is not None:
        stats.sources[
            (item.source, item.licence, item.consent, item.synthetic, item.provenance_source_id)
        ] += 1
        stats.item_ids.append(item.id)
    media = media_of(item) if item.media or item.media_url else None
    raw = ()
    if ctx.include_raw:
        raw = tuple(
            RawAnnotation(
                annotation_id=a.id,
                annotator=name,
                result=a.result if isinstance(a.result, dict) else {},
                revision=a.revision,
                review=_REVIEW.get(a.review),
            )
            for a, name in zip(annotations, annotators, strict=True)
        )
    return new_record(
        item.id,
        item.external_id,
        item.split or None,
        item.data,
        media,
        schema_version,
        labels,
        confidence,
        agreement,
        raw,
        lineage_dict(
            source=item.source,
            checksum=item.checksum or None,
            annotation_ids=[a.id for a in annotations],
            annotators=annotators,
            guideline_version=guideline_version,
            schema_version=schema_version,
            review=review,
            aggregation=aggregation,
            synthetic=bool(item.synthetic),
            annotation_versions=versions_of,
            label_source="consensus" if gold is None else "gold",
            gold=gold,
            provenance=provenance.get(item.provenance_source_id) if item.provenance_source_id else None,
        ),
    )
