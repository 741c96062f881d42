"""Reads over personal-data findings: counts per type, an item's findings."""

from django.db.models import Count, Q

from projects.models import Project

from ..models import Item, PiiFinding


def pii_counts(*, project: Project) -> dict:
    """{"types": [{type, open, confirmed, dismissed, items}], "items_with_personal_data": n} for the
    Data tab and GET .../pii/. `items` counts items with an open or confirmed finding of that type."""
    rows = (
        PiiFinding.objects.filter(project_id=project.id)
        .values("type")
        .annotate(
            open=Count("id", filter=Q(status="open")),
            confirmed=Count("id", filter=Q(status="confirmed")),
            dismissed=Count("id", filter=Q(status="dismissed")),
            items=Count("item_id", filter=~Q(status="dismissed"), distinct=True),
        )
        .order_by("type")
    )
    with_pii = (
        PiiFinding.objects.filter(project_id=project.id)
        .exclude(status="dismissed")
        .values("item_id")
        .distinct()
        .count()
    )
    return {"types": list(rows), "items_with_personal_data": with_pii}


def pii_findings_for_item(*, item: Item):
    return PiiFinding.objects.filter(item_id=item.id).select_related("reviewed_by").order_by("field", "start")


def items_with_personal_data_q(flag: bool) -> Q:
    """A Q over Item: items that have (True) or have not (False) an open or confirmed finding."""
    q = Q(pk__in=PiiFinding.objects.exclude(status="dismissed").values("item_id"))
    return q if flag else ~q


def pii_finding_list(*, project: Project, item=None, type_=None, status=None):
    """The project's findings, by item and position; filters are ignored when not given. A
    malformed `item` is a 400."""
    from core.exceptions import DomainError

    findings = PiiFinding.objects.filter(project_id=project.id).select_related("reviewed_by", "item")
    if item not in (None, ""):
        try:
            findings = findings.filter(item_id=int(item))
        except (TypeError, ValueError):
            raise DomainError("invalid_item", "item is an item id (an integer).") from None
    if type_:
        findings = findings.filter(type=type_)
    if status:
        if status not in PiiFinding.Status.values:
            raise DomainError("invalid_status", f"status is one of {', '.join(PiiFinding.Status.values)}.")
        findings = findings.filter(status=status)
    return findings.order_by("item_id", "field", "start")


def pii_item_view(*, item: Item) -> dict:
    """For the item page (managers): {"fields": {key: [(piece, finding or None)]}, "findings": [...]}
    where the pieces of each top-level text field alternate plain text and findings (all statuses:
    dismissed ones are shown struck through), so the template highlights spans with their type."""
    findings = list(pii_findings_for_item(item=item))
    by_field: dict[str, list[PiiFinding]] = {}
    for finding in findings:
        by_field.setdefault(finding.field, []).append(finding)
    fields = {}
    data = item.data if isinstance(item.data, dict) else {}
    for key, spans in by_field.items():
        text = data.get(key)
        if not isinstance(text, str):
            continue
        pieces: list[tuple[str, PiiFinding | None]] = []
        cursor = 0
        for finding in sorted(spans, key=lambda f: f.start):
            if finding.start < cursor:
                continue
            pieces.append((text[cursor : finding.start], None))
            pieces.append((text[finding.start : finding.end], finding))
            cursor = finding.end
        pieces.append((text[cursor:], None))
        fields[key] = [piece for piece in pieces if piece[0]]
    for finding in findings:
        node = data.get(finding.field) if "." not in finding.field else None
        finding.value = node[finding.start : finding.end] if isinstance(node, str) else ""
    return {"fields": fields, "findings": findings}


def pii_types_by_item(*, item_ids: list[int]) -> dict[int, list[str]]:
    """{item id: sorted types of its open or confirmed findings} for one page of the data manager."""
    out: dict[int, set[str]] = {}
    for item_id, kind in (
        PiiFinding.objects.filter(item_id__in=item_ids)
        .exclude(status="dismissed")
        .values_list("item_id", "type")
    ):
        out.setdefault(item_id, set()).add(kind)
    return {item_id: sorted(kinds) for item_id, kinds in out.items()}
