"""Reads on near-duplicate groups: the review queue (open or resolved) with each group's members."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import Resolver404, resolve

from core.exceptions import DomainError
from projects.models import Project

from ..items import display
from ..models import Item, NearDuplicateGroup

STATUSES = ("open", "resolved")
PREVIEW_CHARS = 200
MEMBERS_SHOWN = 50  # members loaded per group; a templated dataset can make groups of thousands
_MEMBER_FIELDS = (
    "id",
    "project_id",
    "near_duplicate_group_id",
    "external_id",
    "data",
    "media",
    "media_url",
    "media_type",
    "excluded",
)


def near_duplicate_group_list(*, project: Project, status: str | None = None) -> QuerySet[NearDuplicateGroup]:
    """Groups of `project`, newest first, each with `members` (its first MEMBERS_SHOWN items by id,
    only the columns a review needs), `member_count` and `resolved_by`. `status`: "open", "resolved"
    or None (all); anything else is a 400 invalid_filter."""
    groups = NearDuplicateGroup.objects.filter(project=project)
    if status == "open":
        groups = groups.filter(resolution=NearDuplicateGroup.Resolution.OPEN)
    elif status == "resolved":
        groups = groups.exclude(resolution=NearDuplicateGroup.Resolution.OPEN)
    elif status not in (None, ""):
        raise DomainError("invalid_filter", "status must be open or resolved.")
    members = Item.objects.only(*_MEMBER_FIELDS).order_by("id")[:MEMBERS_SHOWN]
    return (
        groups.select_related("resolved_by")
        .annotate(member_count=Count("items"))
        .prefetch_related(Prefetch("items", queryset=members, to_attr="members"))
        .order_by("-id")
    )


def near_duplicate_group_counts(*, project: Project) -> dict[str, int]:
    """{"open": n, "resolved": m}: one aggregate over the project's groups (index on project, resolution)."""
    counts = NearDuplicateGroup.objects.filter(project=project).aggregate(
        open=Count("id", filter=Q(resolution=NearDuplicateGroup.Resolution.OPEN)),
        resolved=Count("id", filter=~Q(resolution=NearDuplicateGroup.Resolution.OPEN)),
    )
    return {name: counts[name] or 0 for name in STATUSES}


def item_preview(data, limit: int = PREVIEW_CHARS) -> str:
    """data["text"], else the first string in the data, whitespace collapsed, cut to `limit`."""
    return display.item_preview(data, limit=limit)  # the Data page's rule, one definition


def item_media_link(item: Item) -> str | None:
    """The URL that serves the item's media through the API, when that endpoint exists
    (/api/projects/<id>/items/<item_id>/media/), for items that have media; else None."""
    if not (item.media or item.media_url):
        return None
    path = f"/api/projects/{item.project_id}/items/{item.id}/media/"
    try:
        resolve(path)
    except Resolver404:
        return None
    return path
