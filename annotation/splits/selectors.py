"""Reads on splits: the recorded operations and the current split of a project's items."""

from django.db.models import Count, QuerySet

from projects.models import Project

from ..models import Item, SplitOperation


def split_operation_list(*, project: Project) -> QuerySet[SplitOperation]:
    """The project's split operations, newest first, with their author."""
    return SplitOperation.objects.filter(project=project).select_related("created_by").order_by("-id")


def split_counts(*, project: Project) -> dict[str, int]:
    """Items per split as they are now, "" meaning no split; "" first (always present), then by name.

    One GROUP BY over the project's items: it reflects later changes (imports, edits), unlike the
    counts recorded on an operation.
    """
    rows = Item.objects.filter(project=project).order_by().values_list("split").annotate(n=Count("id"))
    counts = dict(rows)
    return {"": counts.pop("", 0), **dict(sorted(counts.items()))}
