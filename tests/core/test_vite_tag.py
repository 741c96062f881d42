import json

import pytest
from django.template import Context, Template, TemplateSyntaxError


def _render(entry: str) -> str:
    return Template('{% load vite %}{% vite_entry "' + entry + '" %}').render(Context())


def test_emits_built_script_and_css_from_manifest(tmp_path, settings):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "src/entries/a.ts": {
                    "file": "assets/a-1.js",
                    "isEntry": True,
                    "css": ["assets/a-1.css"],
                    "imports": ["_shared"],
                },
                "_shared": {"file": "assets/shared-2.js", "css": ["assets/shared-2.css"]},
            }
        )
    )
    settings.FRONTEND_MANIFEST = manifest
    settings.DEBUG = False

    html = _render("src/entries/a.ts")

    assert html == (
        '<link rel="stylesheet" href="/static/assets/a-1.css">'
        '<link rel="stylesheet" href="/static/assets/shared-2.css">'
        '<script type="module" src="/static/assets/a-1.js"></script>'
    )


def test_unknown_entry_is_a_clear_error(tmp_path, settings):
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    settings.FRONTEND_MANIFEST = manifest

    with pytest.raises(
        TemplateSyntaxError, match=r"src/entries/missing\.ts is not an entry of the frontend build"
    ):
        _render("src/entries/missing.ts")


def test_dev_server_in_debug(settings):
    settings.DEBUG = True
    settings.VITE_DEV_SERVER_URL = "http://127.0.0.1:5173/"

    html = _render("src/entries/a.ts")

    assert html == (
        '<script type="module" src="http://127.0.0.1:5173/static/@vite/client"></script>'
        '<script type="module" src="http://127.0.0.1:5173/static/src/entries/a.ts"></script>'
    )
