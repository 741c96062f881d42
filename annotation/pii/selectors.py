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
