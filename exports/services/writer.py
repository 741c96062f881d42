"""Writing every file of a release (each format, croissant.json, DATASHEET.md, the signed manifest):
a pure function of the database snapshot and the release row."""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.text import slugify

from annotation.items.selectors import exports as item_selectors
from exports.ai_rmf import AI_RMF_NAME, build_ai_rmf
from exports.canonical import canonical_bytes
from exports.croissant import build_croissant
from exports.datasheet import build_datasheet
from exports.facts import ReleaseFacts, ReleaseTally, Source
from exports.formats import FORMATS
from exports.manifest import (
    MANIFEST_NAME,
    DirectoryOutput,
    FileEntry,
    build_manifest,
    manifest_bytes,
    sign_manifest,
)
from exports.models import ErasureGeneration, Release
from exports.records import (
    ExportContext,
)
from projects import selectors as project_selectors

from .common import schema_of
from .media import ReleaseMedia
from .personal_data import personal_data_sidecar
from .reading import Stats, item_filters, release_records
from .release_policy import ReleaseGate
from .signing import signing_key
from .storage import Target

_CONSENT = {"granted": "obtained", "not_required": "not_required", "withdrawn": "not_obtained"}


@dataclass
class WrittenRelease:
    entries: list[FileEntry]  # every file but manifest.json
    manifest: dict[str, Any]
    manifest_entry: FileEntry
    records: int
    item_ids: list[int]  # of the records written, for erasure (Release.item_ids)
    erasure_generation: int  # the project's ErasureGeneration as the build's snapshot read it


def write_release(
    release: Release, output: DirectoryOutput, *, on_progress=None, target: Target | None = None
) -> WrittenRelease:
    """Write every file of `release` into `output` (and manifest.json into its root): a pure function
    of the database snapshot and the release row, so writing twice gives identical bytes.

    All passes (one per format) read inside one transaction, REPEATABLE READ on PostgreSQL, so every
    format sees the same items and consensus even while annotators keep working.
    """
    project = release.project
    schema = schema_of(project)
    guideline = project_selectors.guideline_latest(project=project)
    ctx = ExportContext(
        project_name=project.name,
        project_slug=slugify(project.name) or f"project-{project.id}",
        schema=schema.definition,
        release_name=release.name,
        release_number=release.number,
        include_raw=release.include_raw,
    )
    tally = ReleaseTally(schema.definition)
    stats = Stats()
    gate = ReleaseGate(release)
    media = ReleaseMedia(release, output, target)
    place_media = media.place if media.include else None
    report = on_progress or (lambda done, total, force=False: None)
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    snapshot_id = None
    with _fewer_gc_pauses(), transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if getattr(settings, "EXPORTS_BUILD_READ_AHEAD", True):
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot_id = cursor.fetchone()[0]
        erasure_generation = erasure_generation_of(project.id)  # in the snapshot, with the items
        total = item_selectors.export_item_count(project=project, **item_filters(release))
        transformations = item_selectors.export_transformations(project=project, until=release.created_at)
        passes = len(release.formats)
        for index, name in enumerate(release.formats):

            def on_chunk(seen: int, index: int = index) -> None:
                report(index * total + seen, passes * total)

            first = index == 0
            media.copying = first  # the first pass copies each file once; later ones link to it
            records = release_records(
                release, ctx, schema.version, stats if first else None, on_chunk, snapshot_id, media, gate
            )
            try:
                FORMATS[name].write(tally.wrap(records) if first else records, ctx, output, place_media)
            finally:
                # Close the server-side cursor now, while its transaction is alive (also on errors).
                records.close()
    report(passes * total, passes * total, force=True)
    personal_data_sidecar(output, stats.personal_data)  # flag policy: where the personal data is
    summary = tally.summary()
    facts = ReleaseFacts(
        project_name=project.name,
        project_slug=ctx.project_slug,
        release_name=release.name,
        release_number=release.number,
        schema=schema.definition,
        schema_version=schema.version,
        guideline_version=guideline.version if guideline else None,
        licence=release.licence or None,
        consensus={
            control: {"method": method, "version": version}
            for control, counter in sorted(stats.methods.items())
            for (method, version), _ in [min(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
        },
        filter=release.filter or {},
        counts=summary["counts"],
        agreement={
            control: {"metric": "mean_item_agreement", "value": value}
            for control, value in summary["mean_item_agreement"].items()
        },
        annotators=summary["annotators"],
        sources=tuple(_sources(stats.sources, stats.provenance)),
        synthetic_share=summary["synthetic_share"],
        formats=tuple(release.formats),
        organisation=project.organisation.name,
        description=project.description,
        published=release.created_at.date().isoformat(),  # stored with the release, not the build clock
        languages=tuple(release.languages or ()),
        intended_uses=release.intended_uses,
        limitations=release.limitations,
        media=media.summary(),
        transformations=tuple(transformations),
        personal_data=stats.personal_data.facts() if stats.personal_data is not None else {},
        exclusions=dict(sorted(gate.counts.items())),
        release_policy=gate.facts(),
        supersedes=tuple(release.supersedes or ()),
    )
    gate.write_excluded(output)
    data_files = output.entries()
    with output("croissant.json") as handle:
        handle.write(canonical_bytes(build_croissant(facts, data_files)) + b"\n")
    with output("DATASHEET.md") as handle:
        handle.write(build_datasheet(facts, data_files).encode("utf-8"))
    with output(AI_RMF_NAME) as handle:
        handle.write(canonical_bytes(build_ai_rmf(facts, gold_items=tally.gold)) + b"\n")
    entries = output.entries()
    manifest = sign_manifest(build_manifest(facts, entries), signing_key())
    body = manifest_bytes(manifest)
    (output.root / MANIFEST_NAME).write_bytes(body)
    manifest_entry = FileEntry(MANIFEST_NAME, hashlib.sha256(body).hexdigest(), len(body))
    return WrittenRelease(
        entries,
        manifest,
        manifest_entry,
        summary["counts"]["records"],
        list(stats.item_ids),
        erasure_generation,
    )


def erasure_generation_of(project_id: int) -> int:
    found = ErasureGeneration.objects.filter(project_id=project_id).values_list("generation", flat=True)
    return found.first() or 0


@contextmanager
def _fewer_gc_pauses() -> Iterator[None]:
    """Records are acyclic and freed by reference counting; the cyclic collector, which a million
    records trigger thousands of times over every object the process holds, costs a third of the
    build. Freeze what exists and collect the young generation less often while the build runs."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _sources(counts: Counter, provenance: dict) -> list[Source]:
    """One Source per provenance source (#18: its kind, terms and URL) and, for items without one, per
    (way in, licence, synthetic) as before."""
    merged: dict[str, list] = {}
    for (source, licence, consent, synthetic, provenance_id), items in sorted(
        counts.items(), key=lambda kv: tuple("" if v is None else str(v) for v in kv[0])
    ):
        known = provenance.get(provenance_id) if provenance_id else None
        if known is not None:
            terms = known["terms"]
            name = known["name"]
            kind = known["kind"]
            licence = terms.get("licence") or licence
            url = terms.get("url")
        else:
            name = f"{source} ({licence})" if licence else source
            if synthetic:
                name += ", synthetic"
            kind, terms, url = ("synthetic" if synthetic else "other"), {}, None
        found = merged.setdefault(name, [0, licence or None, set(), kind, url, terms])
        found[0] += items
        found[2].add(_CONSENT.get(consent, "unknown"))
    return [
        Source(
            name=name,
            items=items,
            licence=licence,
            consent=next(iter(c)) if len(c) == 1 else "unknown",
            kind=kind,
            url=url,
            terms=terms,
        )
        for name, (items, licence, c, kind, url, terms) in sorted(merged.items())
    ]
