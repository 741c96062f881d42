"""Consent and licence of items: the one way to change them, per item, for a chunk of a bulk action
(annotation.items.manager_services, actions "consent" and "licence") and from a CSV of ids.

Every change writes one audit row per changed item (`item.consent_changed` / `item.licence_changed`,
changes {"consent": [old, new]}), bulk-inserted per chunk: at 100k items that is 20 INSERTs of 5,000
rows, and "who changed this item's consent when" is the item's audit history (an index scan on
target_type, target_id). Setting the value an item already has changes nothing and writes nothing.
Managers and organisation admins only (ProjectAction.MANAGE_CONSENT). docs/GOVERNANCE.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from core.exceptions import DomainError, Forbidden, NotFound
from core.licences import normalise_licence
from core.models import AuditEvent
from projects.access import ProjectAction, can_do_in_project
from projects.models import Project
from projects.services import project_ensure_active

from ..models import Item

FIELDS = ("consent", "licence")
LICENCE_MAX = 100  # Item.licence's column
CSV_MAX_ROWS = 100_000
CSV_MAX_BYTES = 20 * 1024 * 1024
CHUNK = 5000


def consent_value(raw: Any) -> str:
    if raw not in Item.Consent.values:
        raise DomainError(
            "invalid_consent",
            f"consent is one of {', '.join(Item.Consent.values)} (got {str(raw)[:50]!r}).",
        )
    return str(raw)


def licence_value(raw: Any) -> str:
    """An SPDX expression in canonical case, or "" (unknown); 400 invalid_licence naming the problem."""
    value = normalise_licence(raw)
    if len(value) > LICENCE_MAX:
        raise DomainError("invalid_licence", f"An item licence is at most {LICENCE_MAX} characters.")
    return value


def governance_value(field_name: str, raw: Any) -> str:
    if field_name == "consent":
        return consent_value(raw)
    if field_name == "licence":
        return licence_value(raw)
    raise DomainError("invalid_field", "field is consent or licence.")


def _require(project: Project, actor) -> None:
    if not can_do_in_project(user=actor, project=project, action=ProjectAction.MANAGE_CONSENT):
        raise Forbidden()
    project_ensure_active(project)


def items_governance_apply(
    *, project: Project, actor, item_ids: list[int], field_name: str, value: str
) -> int:
    """Set `field_name` to an already checked `value` on these items of the project; the number changed.
    Runs in the caller's transaction (a bulk action's chunk). No permission check: callers check."""
    changed = 0
    for start in range(0, len(item_ids), CHUNK):
        chunk = item_ids[start : start + CHUNK]
        rows = Item.objects.filter(project=project, pk__in=chunk).exclude(**{field_name: value})
        old = list(rows.select_for_update().values_list("id", field_name))
        if not old:
            continue
        Item.objects.filter(pk__in=[pk for pk, _ in old]).update(**{field_name: value})
        is_user = actor is not None and getattr(actor, "is_authenticated", False)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=actor if is_user else None,
                    actor_label=actor.get_username() if is_user else "system",
                    organisation_id=project.organisation_id,
                    project_id=project.id,
                    action=f"item.{field_name}_changed",
                    target_type=Item._meta.label_lower,
                    target_id=str(pk),
                    changes={field_name: [before, value]},
                )
                for pk, before in old
            ],
            batch_size=CHUNK,
        )
        changed += len(old)
    return changed


@transaction.atomic
def item_governance_set(
    *, project: Project, actor, item_id: int, consent: Any = None, licence: Any = None
) -> Item:
    """Change one item's consent and/or licence (None = leave as is). Idempotent; 404 outside the project."""
    _require(project, actor)
    values = {}
    if consent is not None:
        values["consent"] = consent_value(consent)
    if licence is not None:
        values["licence"] = licence_value(licence)
    if not values:
        raise DomainError("nothing_to_change", "Give consent, licence or both.")
    if not Item.objects.filter(project=project, pk=item_id).exists():
        raise NotFound()
    for name, value in values.items():
        items_governance_apply(project=project, actor=actor, item_ids=[item_id], field_name=name, value=value)
    return Item.objects.get(pk=item_id)


@dataclass
class CsvReport:
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"row", "id", "code", "detail"}

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "errors": self.rejected,
        }


def items_governance_csv(
    *, project: Project, actor, content: bytes | str, dry_run: bool = False
) -> CsvReport:
    """Apply a CSV of `id` (the item's number), `external_id` or `key` (what the pages show), with a
    `consent` and/or `licence` column. Every row is applied or reported with a reason (unknown item,
    bad value, duplicate row, empty row); good rows are applied even when others are refused. An empty
    cell leaves that field as is (clear a licence through the API: licence "")."""
    _require(project, actor)
    if isinstance(content, bytes):
        if len(content) > CSV_MAX_BYTES:
            raise DomainError(
                "csv_too_large", f"A CSV of ids is at most {CSV_MAX_BYTES // (1024 * 1024)} MB."
            )
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError("csv_not_utf8", "The CSV must be UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    keys = [k for k in ("id", "external_id", "key") if k in header]
    values = [f for f in FIELDS if f in header]
    if len(keys) != 1 or not values:
        raise DomainError(
            "invalid_csv_header",
            "The CSV needs one id column (id, external_id or key) and a consent and/or licence column; "
            f"found: {', '.join(header) or 'no header'}.",
        )
    key = keys[0]
    report = CsvReport()
    wanted: list[tuple[int, str, dict[str, str]]] = []  # (row number, id text, values)
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        report.rows += 1
        if report.rows > CSV_MAX_ROWS:
            raise DomainError("csv_too_many_rows", f"A CSV of ids has at most {CSV_MAX_ROWS:,} rows.")
        ident = (row.get(key) or "").strip()

        def reject(code: str, detail: str, ident: str = ident, number: int = number) -> None:
            report.rejected.append({"row": number, "id": ident, "code": code, "detail": detail})

        if None in row:
            reject("extra_cells", "The row has more cells than the header.")
            continue
        if not ident:
            reject("missing_id", f"The row has no {key}.")
            continue
        if ident in seen:
            reject("duplicate_row", f"{key} {ident} appears earlier in the file; only the first row counts.")
            continue
        seen.add(ident)
        parsed: dict[str, str] = {}
        try:
            for name in values:
                cell = (row.get(name) or "").strip()
                if cell:
                    parsed[name] = governance_value(name, cell)
        except DomainError as error:
            reject(error.code, error.message)
            continue
        if not parsed:
            reject("no_value", "The row sets neither consent nor licence.")
            continue
        wanted.append((number, ident, parsed))
    found = _resolve(project, key, [ident for _, ident, _ in wanted])
    groups: dict[tuple[str, str], list[int]] = {}
    for number, ident, parsed in wanted:
        pk = found.get(ident)
        if pk is None:
            report.rejected.append(
                {"row": number, "id": ident, "code": "unknown_item", "detail": f"No item with {key} {ident}."}
            )
            continue
        for name, value in parsed.items():
            groups.setdefault((name, value), []).append(pk)
    if dry_run:
        return report
    touched: set[int] = set()
    with transaction.atomic():
        for (name, value), ids in groups.items():
            before = Item.objects.filter(pk__in=ids).exclude(**{name: value}).values_list("id", flat=True)
            touched.update(before)
            items_governance_apply(project=project, actor=actor, item_ids=ids, field_name=name, value=value)
    matched = {pk for ids in groups.values() for pk in ids}
    report.changed = len(touched)
    report.unchanged = len(matched - touched)
    return report


def _resolve(project: Project, key: str, idents: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    if key == "id":
        numbers = {ident: int(ident) for ident in idents if ident.isdigit() and len(ident) < 19}
        for start in range(0, len(idents), CHUNK):
            part = [numbers[i] for i in idents[start : start + CHUNK] if i in numbers]
            for pk in Item.objects.filter(project=project, pk__in=part).values_list("id", flat=True):
                out[str(pk)] = pk
        return out
    for start in range(0, len(idents), CHUNK):
        part = idents[start : start + CHUNK]
        for pk, ext in Item.objects.filter(project=project, external_id__in=part).values_list(
            "id", "external_id"
        ):
            out[ext] = pk
    if key == "key":  # the item key the pages show: the external id, else "sha256:<10 hex>" of the checksum
        for ident in idents:
            digest = ident.removeprefix("sha256:")
            if ident in out or not ident.startswith("sha256:") or len(digest) < 10:
                continue
            pks = list(
                Item.objects.filter(project=project, checksum__startswith=digest).values_list(
                    "id", flat=True
                )[:2]
            )
            if len(pks) == 1:
                out[ident] = pks[0]
    return out


def item_governance_history(*, project: Project, item_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The item's consent and licence changes, newest first: who, when, old -> new."""
    rows = AuditEvent.objects.filter(
        target_type=Item._meta.label_lower,
        target_id=str(item_id),
        project_id=project.id,
        action__in=["item.consent_changed", "item.licence_changed"],
    ).order_by("-id")[:limit]
    return [
        {"at": row.created_at, "by": row.actor_label, "action": row.action, "changes": row.changes}
        for row in rows
    ]
