"""The labeling page in Chromium: submit-to-next-item-ready-for-input, and the page's JS weight.

Bundle: the gzipped size (level 9) of the labeling page's entry (`src/entries/label.ts` in
frontend/dist/.vite/manifest.json) plus every chunk it imports statically, i.e. what the browser
downloads before the page works (the media helper's Konva/wavesurfer included once they are there).
Needs `npm run build` first.

Latency: a fresh SQLite database with one annotator, a single-choice schema (hotkey 1) and ITEMS
items, served by uvicorn; Chromium (Playwright, /usr/bin/chromium) signs in, opens
/projects/<id>/label/, and for each item presses 1 and Ctrl+Enter. The time is measured inside
the page from just before the Ctrl+Enter key to the `tessera:item-ready` event the app fires when
the next item is rendered and takes input (the submit, the next-item request and the render).
Skipped (with a note) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import gzip
import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from bench.support import AsgiServer, manage

if TYPE_CHECKING:
    from bench.run import Context

NAME = "ui_labeling"
DESCRIPTION = "Labeling page: submit to next item ready (Chromium), and gzipped JS of the page."

ENTRY = "src/entries/label.ts"
BUNDLE_TARGET = "< 250"  # kB gzipped (1000 bytes)
LATENCY_TARGET = "< 300"  # ms
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "bench-password-1"

SEED = """
from projects import services
from tests.factories import (OrganisationFactory, OrganisationMembershipFactory, ProjectFactory,
    ProjectMembershipFactory, UserFactory, label_schema, make_items)
org = OrganisationFactory(name="Bench", slug="bench")
project = ProjectFactory(organisation=org, name="Bench labeling")
manager = UserFactory(username="bench_manager")
annotator = UserFactory(username="bench_annotator")
for user, role in ((manager, "manager"), (annotator, "annotator")):
    OrganisationMembershipFactory(organisation=org, user=user)
    ProjectMembershipFactory(project=project, user=user, role=role)
annotator.set_password("{password}"); annotator.save()
schema = label_schema("positive", "negative", "neutral")
schema["controls"][0]["labels"][0]["hotkey"] = "1"
services.schema_version_create(project=project, actor=manager, definition=schema)
make_items(project, *[f"Bench item {{n}}: the battery lasts two days." for n in range({items})])
print("PROJECT", project.id)
"""


def bundle_size(dist: Path, entry: str = ENTRY) -> tuple[int, list[str]]:
    """Gzipped bytes of `entry` and its static imports, and the files counted."""
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())
    seen: list[str] = []
    stack = [entry]
    while stack:
        key = stack.pop()
        chunk = manifest.get(key)
        if chunk is None or chunk["file"] in seen:
            continue
        seen.append(chunk["file"])
        stack.extend(chunk.get("imports", []))
    total = sum(len(gzip.compress((dist / file).read_bytes(), compresslevel=9)) for file in seen)
    return total, seen


def run(ctx: Context) -> list[dict]:
    measurements: list[dict] = []
    dist = ctx.repo_root / "frontend" / "dist"
    if (dist / ".vite" / "manifest.json").exists():
        size, files = bundle_size(dist)
        measurements.append(
            {
                "name": "labeling page JS, gzipped",
                "value": round(size / 1000, 1),
                "unit": "kB",
                "target": BUNDLE_TARGET,
                "notes": f"{ENTRY} + {len(files) - 1} imported chunks (static imports)",
            }
        )
    else:
        ctx.log("frontend/dist has no manifest: run `cd frontend && npm run build` for the bundle size")

    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        ctx.log("Playwright is not installed: skipping the Chromium latency")
        return measurements
    if not CHROMIUM.exists():
        ctx.log(f"{CHROMIUM} is missing: skipping the Chromium latency")
        return measurements
    measurements += _latency(ctx)
    return measurements


def _latency(ctx: Context) -> list[dict]:
    from playwright.sync_api import sync_playwright

    items = 12 if ctx.quick else 40
    var_dir = ctx.tmp_dir / "ui-labeling-var"
    (var_dir / "media").mkdir(parents=True)
    # The settings the browser tests use: built assets from the manifest, Celery eager, no Redis.
    env = ctx.subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        VITE_DEV_SERVER_URL=None,
        TESSERA_VAR_DIR=str(var_dir),
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_TASK_ALWAYS_EAGER="1",
        QUALITY_ENQUEUE="0",  # the quality recompute runs in a worker in production, not in the submit
    )
    manage("migrate", "--noinput", "-v", "0", python=ctx.env.python, repo_root=ctx.repo_root, env=env)
    out = manage(
        "shell",
        "-c",
        SEED.format(password=PASSWORD, items=items),
        python=ctx.env.python,
        repo_root=ctx.repo_root,
        env=env,
    )
    project_id = int(out.split("PROJECT", 1)[1].split()[0])
    timings: list[float] = []
    with AsgiServer(
        python=ctx.env.python, repo_root=ctx.repo_root, env=env, log_path=ctx.tmp_dir / "ui.log"
    ) as server:
        server.wait_until_ok("/healthz")
        base = f"http://127.0.0.1:{server.port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15_000)
            page.goto(f"{base}/login/")
            page.get_by_label("Username").fill("bench_annotator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/projects/")
            page.goto(f"{base}/projects/{project_id}/label/")
            try:
                page.wait_for_selector(".lb-app[data-phase='working']")
            except Exception as error:
                text = page.inner_text("main")[:400]
                raise RuntimeError(f"the labeling page did not show an item: {text!r}") from error
            for n in range(items - 1):
                page.keyboard.press("1")
                # (no wait_for_function: the page's CSP forbids the eval it needs)
                page.evaluate(
                    "window.__ready = new Promise((resolve) => window.addEventListener("
                    "'tessera:item-ready', () => resolve(performance.now()), {once: true}));"
                    "window.__t0 = performance.now()"
                )
                page.keyboard.press("Control+Enter")
                elapsed = page.evaluate("window.__ready.then((t) => t - window.__t0)")
                if n > 0:  # the first submit warms the server's caches
                    timings.append(elapsed)
            browser.close()
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return [
        {
            "name": "submit to next item ready, median",
            "value": round(statistics.median(timings), 1),
            "unit": "ms",
            "target": LATENCY_TARGET,
            "notes": f"{len(timings)} items in Chromium on localhost (SQLite, uvicorn, test settings)",
        },
        {
            "name": "submit to next item ready, p95",
            "value": round(p95, 1),
            "unit": "ms",
            "target": LATENCY_TARGET,
        },
    ]
