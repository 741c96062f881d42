"""`{% retention_preview project %}`: what the next retention run would delete, on the project's
Settings page (Retention section). The page belongs to projects, below governance in the layers; the
template asks governance through this tag instead of projects importing it."""

from django import template

from governance.retention.services import retention_preview as _preview

register = template.Library()

LABELS = {
    "raw_media": "media files",
    "unreleased_items": "items never released (erased with their labels)",
    "drafts": "unsubmitted drafts",
}


@register.inclusion_tag("governance/_retention_preview.html")
def retention_preview(project) -> dict:
    preview = _preview(project=project)
    rows = [(LABELS[rule], count) for rule, count in preview["counts"].items()]
    return {"project": project, "rows": rows, "errors": preview["errors"], "rules": preview["rules"]}
