"""{% vite_entry "src/entries/x.ts" %}: the Vite dev server while developing, the built manifest otherwise."""

import json
from functools import lru_cache
from pathlib import Path

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@lru_cache(maxsize=4)
def _manifest(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text())


def _load_manifest() -> dict:
    path = Path(settings.FRONTEND_MANIFEST)
    if not path.exists():
        raise template.TemplateSyntaxError(f"{path} is missing: build the frontend first (`make frontend`).")
    return _manifest(str(path), path.stat().st_mtime)


def _css_files(manifest: dict, key: str, seen: set[str]) -> list[str]:
    if key in seen:
        return []
    seen.add(key)
    chunk = manifest[key]
    files = list(chunk.get("css", []))
    for imported in chunk.get("imports", []):
        files += _css_files(manifest, imported, seen)
    return files


@register.simple_tag
def vite_entry(entry: str) -> str:
    if settings.DEBUG and settings.VITE_DEV_SERVER_URL:
        base = settings.VITE_DEV_SERVER_URL.rstrip("/")
        return format_html(
            '<script type="module" src="{}/static/@vite/client"></script>'
            '<script type="module" src="{}/static/{}"></script>',
            base,
            base,
            entry,
        )
    manifest = _load_manifest()
    if entry not in manifest:
        raise template.TemplateSyntaxError(f"{entry} is not an entry of the frontend build.")
    css = format_html_join(
        "", '<link rel="stylesheet" href="{}">', ((static(f),) for f in _css_files(manifest, entry, set()))
    )
    script = format_html('<script type="module" src="{}"></script>', static(manifest[entry]["file"]))
    return mark_safe(css + script)  # noqa: S308 - both parts were built with format_html
