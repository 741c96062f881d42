"""Personal data in items: detection (in the background, after imports and on request), review
(confirm or dismiss a finding), and the masking decision for whoever is about to see an item.

The detectors are annotation/pii/detectors.py (pure); placeholders and offsets annotation/pii/masking.py
(pure); the knobs `settings["privacy"]` (projects/privacy_settings.py). docs/GOVERNANCE.md#personal-data.
"""

from collections import defaultdict
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core import task_names
from core.audit import audit_record
from core.exceptions import DomainError, NotFound
from core.services import outbox_enqueue
from projects.access import ANNOTATOR, PROJECT_PERMISSIONS, REVIEWER, ProjectAction, project_role_of
from projects.models import Project
from projects.privacy_settings import PiiConfigError, compile_custom, privacy_settings_from
from projects.selectors import schema_latest
from projects.services import project_ensure_active

from ..models import Item, PiiFinding
from . import detectors, masking

DETECT_TASK = task_names.PII_DETECT
CHUNK = 2_000  # items per read / diff / write round
_LOCK_NAMESPACE = 0x5049  # pg_advisory_xact_lock(namespace, project id): one detection per project
Status = PiiFinding.Status
MASKED_STATUSES = (Status.OPEN, Status.CONFIRMED)  # dismissed findings are not personal data


def detector_config(project: Project) -> detectors.Config:
    """The detectors' configuration for `project` (its region and compiled patterns)."""
    knobs = privacy_settings_from(project.settings)
    try:
        custom = compile_custom(knobs.patterns, knobs.word_lists)
    except PiiConfigError as error:  # validated on save: only a stored value from before a rule change
        raise DomainError(error.code, error.detail) from None
    return detectors.Config(default_region=knobs.default_region, custom=custom if custom.patterns else None)


# --- Scheduling ---------------------------------------------------------------------------------------


def pii_detect_schedule(*, project_id: int) -> None:
    """Queue detection for `project_id` through the outbox (sent after the caller commits). Imports
    call this when they created items: detection never slows an import's critical path."""
    outbox_enqueue(task_name=DETECT_TASK, kwargs={"project_id": project_id})


@transaction.atomic
def pii_detect_request(*, project: Project, actor) -> None:
    """A manager asks for detection now (Data tab "Scan for personal data", POST .../pii/detect/).
    Refused on an archived project (409). Audited; the work runs in the background."""
    project_ensure_active(project)
    detector_config(project)  # a broken stored configuration is a 400 now, not a failed job later
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="pii.detect_requested",
        target=project,
    )
    pii_detect_schedule(project_id=project.id)


# --- Detection ----------------------------------------------------------------------------------------


def pii_detect(*, project_id: int) -> dict:
    """Scan every item of the project and store what the detectors find; returns counts.

    Idempotent: a span already stored (open, confirmed or dismissed) is never written twice and
    reviewed findings are never changed; open findings the detectors no longer report (a project
    pattern was removed) are deleted. Running it again without changes writes no finding.
    Audits "pii.detected" with the counts (every scan: the release datasheet cites it). An
    archived or deleted project is skipped; one detection per project at a time (an advisory lock
    on PostgreSQL, one transaction for the scan). On SQLite (the embedded default) each chunk's diff
    and write is its own short transaction and the detectors run outside any: a write transaction
    holds the whole database's write lock, and a 100,000-item scan in one made every other user's
    write wait ~5 s (`database is locked` past the busy timeout on a larger project); embedded mode
    runs one scan at a time anyway (one background thread per kind of job).
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            return _detect(project_id)
    return _detect(project_id)


def _detect(project_id: int) -> dict:
    project = Project.objects.filter(pk=project_id).first()
    if project is None or project.archived_at is not None:
        return {"items": 0, "created": 0, "removed": 0}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project_id])
    config = detector_config(project)
    scanned = created = removed = 0
    rows = Item.objects.filter(project_id=project_id).order_by("id").values_list("id", "data")
    last_id = 0
    while chunk := list(rows.filter(id__gt=last_id)[:CHUNK]):  # keyset pages: no cursor across commits
        last_id = chunk[-1][0]
        scanned += len(chunk)
        found = {
            (item_id, f.field, f.start, f.end): f
            for item_id, data in chunk
            for f in detectors.detect_item(data, config)
        }
        with transaction.atomic(savepoint=False):  # SQLite: the write lock for one chunk only
            chunk_ids = [item_id for item_id, _ in chunk]
            stored = {
                (row[0], row[1], row[2], row[3]): (row[4], row[5])
                for row in PiiFinding.objects.filter(item_id__in=chunk_ids).values_list(
                    "item_id", "field", "start", "end", "status", "id"
                )
            }
            stale = [pk for key, (status, pk) in stored.items() if status == Status.OPEN and key not in found]
            if stale:
                removed += PiiFinding.objects.filter(pk__in=stale).delete()[0]
            new = [
                PiiFinding(
                    project_id=project_id,
                    item_id=key[0],
                    field=key[1],
                    start=key[2],
                    end=key[3],
                    type=f.type,
                    confidence=f.confidence,
                )
                for key, f in found.items()
                if key not in stored
            ]
            if new:
                PiiFinding.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
                created += len(new)
    counts = {"items": scanned, "created": created, "removed": removed}
    if config.custom is not None and config.custom.timeouts:
        counts["pattern_timeouts"] = config.custom.timeouts
    # Every completed scan is audited: the release datasheet says whether the data was scanned.
    audit_record(
        actor=None,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="pii.detected",
        target=project,
        changes=counts,
    )
    return counts


# --- Review -------------------------------------------------------------------------------------------


@transaction.atomic
def pii_finding_review(*, project: Project, actor, finding_id: int, status: str) -> PiiFinding:
    """Confirm (it is personal data) or dismiss (it is not) a finding, or reopen it. Audited;
    setting the status it already has changes nothing. 404 for a finding of another project."""
    if status not in Status.values:
        raise DomainError("invalid_status", f"status is one of {', '.join(Status.values)}.")
    project_ensure_active(project)
    finding = PiiFinding.objects.select_for_update().filter(pk=finding_id, project_id=project.id).first()
    if finding is None:
        raise NotFound()
    if finding.status == status:
        return finding
    before = finding.status
    finding.status = status
    finding.reviewed_by = actor if status != Status.OPEN else None
    finding.reviewed_at = timezone.now() if status != Status.OPEN else None
    finding.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=actor,
        organisation_id=project.organisation_id,
        project_id=project.id,
        action="pii.finding_reviewed",
        target=finding,
        changes={"status": [before, status], "type": finding.type, "item": finding.item_id},
    )
    return finding


# --- Masking ------------------------------------------------------------------------------------------


def pii_masking_applies(*, project: Project, user) -> bool:
    """Whether `user` sees placeholders instead of personal data in `project`: annotators when
    `privacy.mask_for_annotators`, reviewers when `privacy.mask_for_reviewers`; managers never."""
    knobs = privacy_settings_from(project.settings)
    if not (knobs.mask_for_annotators or knobs.mask_for_reviewers):
        return False
    role = project_role_of(user=user, project=project) if user is not None else None
    if role in PROJECT_PERMISSIONS[ProjectAction.MANAGE_PERSONAL_DATA]:
        return False
    if role == REVIEWER:
        return knobs.mask_for_reviewers
    return knobs.mask_for_annotators if role in (ANNOTATOR, None) else True


def pii_search_ensure_allowed(*, project: Project, viewer, query: str) -> None:
    """A free-text search by someone who sees placeholders would let them confirm a hidden value
    (search for an email address, see which item matches), so it is refused for them:
    DomainError `search_masked` (400), nothing is searched. Exact filters (external id, metadata,
    state, split, ...) stay; managers and organisation admins search as before. One rule for the
    Data tab and the items API (docs/GOVERNANCE.md, Masking outside the labeling page)."""
    if query.strip() and pii_masking_applies(project=project, user=viewer):
        raise DomainError(
            "search_masked",
            "Text search is off for you in this project: you see placeholders for personal data, and a "
            "search on the original text would reveal it. Filter by external id, metadata or state, or "
            "ask a manager.",
        )


def pii_texts_for_viewer(*, items, viewer, project: Project, preview) -> dict[int, str]:
    """{item id: preview(data as `viewer` may see it)} for lists that show a line of each item's text
    (near-duplicate groups): one findings query for the lot when the masking applies."""
    shown = pii_masked_data_many(items=items, viewer=viewer, project=project)
    return {item_id: preview(data) for item_id, data in shown.items()}


def _findings_by_field(item_ids) -> dict[int, dict[str, list[tuple[int, int, str]]]]:
    out: dict[int, dict[str, list[tuple[int, int, str]]]] = defaultdict(lambda: defaultdict(list))
    for item_id, field, start, end, kind in PiiFinding.objects.filter(
        item_id__in=item_ids, status__in=MASKED_STATUSES
    ).values_list("item_id", "field", "start", "end", "type"):
        out[item_id][field].append((start, end, kind))
    return out


def pii_masked_data(*, item: Item, viewer, project: Project | None = None) -> Any:
    """The item's data as `viewer` may see it: with `[TYPE]` placeholders where the masking applies
    (pii_masking_applies; no viewer counts as an annotator), else unchanged. The one call every
    payload that carries item content to annotators or reviewers makes."""
    project = project if project is not None else item.project
    if not pii_masking_applies(project=project, user=viewer):
        return item.data
    return masking.mask_data(item.data, _findings_by_field([item.id]).get(item.id) or {})


def pii_masked_data_many(*, items, viewer, project: Project) -> dict[int, Any]:
    """{item id: data as `viewer` may see it} for a page of items (one query when masking applies)."""
    if not pii_masking_applies(project=project, user=viewer):
        return {item.id: item.data for item in items}
    found = _findings_by_field([item.id for item in items])
    return {item.id: masking.mask_data(item.data, found.get(item.id) or {}) for item in items}


def pii_result_to_original(*, project: Project, user, item: Item, definition: Any, result: Any) -> Any:
    """An annotation made on masked text, with span offsets mapped back to the original text
    (masking.unmask_result); unchanged when `user` saw the raw text."""
    if not pii_masking_applies(project=project, user=user):
        return result
    by_field = _findings_by_field([item.id]).get(item.id) or {}
    data = item.data if isinstance(item.data, dict) else {}
    spans = {
        field: masking.mask_text(text, findings)[1]
        for field, findings in by_field.items()
        if isinstance(text := data.get(field), str)
    }
    return masking.unmask_result(result, item.data, spans, masking.span_control_fields(definition))


def pii_result_for_viewer(*, item: Item, viewer, result: Any, project: Project | None = None) -> Any:
    """A stored answer (original offsets) as `viewer` may see it: where the masking applies, span
    answers move to the masked text's offsets and their `text` shows the placeholder
    (masking.remask_result), so the answer lines up with the masked data the viewer got and carries
    no raw value. Unchanged otherwise (and for items without findings)."""
    project = project if project is not None else item.project
    if not isinstance(result, dict) or not pii_masking_applies(project=project, user=viewer):
        return result
    findings = _findings_by_field([item.id]).get(item.id)
    if not findings:
        return result
    schema = schema_latest(project=item.project_id)
    masked = masking.mask_data(item.data, findings)
    data = item.data if isinstance(item.data, dict) else {}
    spans = {
        field: masking.mask_text(text, found)[1]
        for field, found in findings.items()
        if isinstance(text := data.get(field), str)
    }
    fields = masking.span_control_fields(schema.definition if schema else {})
    return masking.remask_result(result, masked, spans, fields)


# --- Releases -----------------------------------------------------------------------------------------


def pii_findings_for_items(item_ids) -> dict[int, dict[str, list[tuple[int, int, str]]]]:
    """{item id: {field: [(start, end, type)]}} of the open and confirmed findings of these items."""
    out: dict[int, dict[str, list[tuple[int, int, str]]]] = {}
    ids = list(item_ids)
    for chunk_start in range(0, len(ids), 10_000):
        out.update(_findings_by_field(ids[chunk_start : chunk_start + 10_000]))
    return out
