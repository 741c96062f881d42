"""Reads of retention runs."""

from governance.models import RetentionRun


def retention_run_list(*, project):
    return RetentionRun.objects.filter(project=project).select_related("actor").order_by("-id")
