"""The image tools in Chromium on the real labeling page: an image item pre-annotated with 1,000 boxes.

Setup: a fresh SQLite database, a bbox schema, one 1600x1000 PNG item whose model prediction holds
1,000 boxes (the page starts from it, so all 1,000 are drawn and editable), served by uvicorn.

- first render: from the start of navigation to /projects/<id>/label/ to the first frame after the
  canvas reports ready with the boxes drawn (page load, next-item API call, the on-demand Konva
  chunk, the image decode and the first draw of 1,000 boxes);
- pan/zoom frame: a scripted sequence of 60 wheel zooms around the pointer and 60 pointer-drag pan
  steps dispatched on the canvas; for each step, the time to handle the event and redraw both layers
  (the event's work plus a synchronous `stage.draw()`, which is what the next animation frame does);
  p50 and p95;
- JS of the page, gzipped (level 9): the entry and its static imports (before the page works), and
  with the on-demand chunks of the media tools (Konva, wavesurfer.js) that a media project loads.

Skipped (with a note) when Chromium or Playwright is missing or frontend/dist is not built.
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

NAME = "ui_media"
DESCRIPTION = "Image tools: 1,000 boxes first render and pan/zoom frame times (Chromium); media JS weight."

ENTRY = "src/entries/label.ts"
BUNDLE_TARGET = "< 250"  # kB gzipped (1000 bytes)
RENDER_TARGET = "< 3000"  # ms, navigation start to 1,000 boxes on screen
FRAME_TARGET = "< 16.7"  # ms, one 60 Hz frame
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "bench-password-1"
BOXES = 1000
IMAGE_W, IMAGE_H = 1600, 1000

SEED = """
import io, random
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw
from annotation.models import Item, Prediction
from projects import services
from tests.factories import (OrganisationFactory, OrganisationMembershipFactory, ProjectFactory,
    ProjectMembershipFactory, UserFactory)
org = OrganisationFactory(name="Bench", slug="bench")
project = ProjectFactory(organisation=org, name="Bench media")
manager = UserFactory(username="bench_manager")
annotator = UserFactory(username="bench_annotator")
for user, role in ((manager, "manager"), (annotator, "annotator")):
    OrganisationMembershipFactory(organisation=org, user=user)
    ProjectMembershipFactory(project=project, user=user, role=role)
annotator.set_password("{password}"); annotator.save()
schema = services.schema_version_create(project=project, actor=manager, definition={{
    "version": 1, "fields": [{{"name": "image", "type": "image", "source": "file"}}],
    "controls": [{{"name": "objects", "type": "bbox", "field": "image",
                   "labels": [{{"value": "car"}}, {{"value": "person"}}, {{"value": "sign"}}]}}]}})
image = Image.new("RGB", ({w}, {h}), "#5b6b7a")
draw = ImageDraw.Draw(image)
rng = random.Random(7)
for _ in range(400):
    x, y = rng.randrange({w}), rng.randrange({h})
    colour = tuple(rng.randrange(256) for _ in range(3))
    draw.rectangle([x, y, x + rng.randrange(10, 80), y + rng.randrange(10, 80)], fill=colour)
buffer = io.BytesIO(); image.save(buffer, format="PNG")
stored = default_storage.save("media/bench/street.png", ContentFile(buffer.getvalue()))
data = {{"file": "street.png", "media_type": "image", "width": {w}, "height": {h}}}
item = Item.objects.create(project=project, data=data, content_hash="bench-media", checksum="0" * 64,
    media=stored, media_type="image", media_bytes=len(buffer.getvalue()), target=1)
boxes = []
for n in range({boxes}):
    x, y = (n % 40) * 40 + rng.random() * 4, (n // 40) * 40 + rng.random() * 4
    label = ("car", "person", "sign")[n % 3]
    boxes.append({{"x": round(x, 2), "y": round(y, 2), "width": 30, "height": 30, "label": label}})
Prediction.objects.create(project=project, item=item, model_name="bench", model_version="1", score=0.9,
    result={{"objects": boxes}}, schema_version=schema)
print("PROJECT", project.id)
"""

# Runs in the page once the canvas is ready: the scripted pan/zoom sequence, timed step by step.
SEQUENCE = """async () => {
  const el = document.querySelector('.md-stage');
  const stage = window.Konva.stages[window.Konva.stages.length - 1];
  const r = el.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const times = [];
  const step = (fire) => {
    const t0 = performance.now();
    fire();
    stage.draw();
    times.push(performance.now() - t0);
  };
  for (let i = 0; i < 60; i += 1) {
    const dy = i < 30 ? -60 : 60;
    const wheel = { deltaY: dy, clientX: cx + (i % 7) * 10, clientY: cy, bubbles: true, cancelable: true };
    step(() => el.dispatchEvent(new WheelEvent('wheel', wheel)));
    await frame();
  }
  const opts = (x, y) => ({ clientX: x, clientY: y, bubbles: true, button: 2, buttons: 2, pointerId: 7 });
  el.dispatchEvent(new PointerEvent('pointerdown', opts(cx, cy)));
  for (let i = 0; i < 60; i += 1) {
    const x = cx + Math.sin(i / 6) * 200, y = cy + Math.cos(i / 6) * 120;
    step(() => el.dispatchEvent(new PointerEvent('pointermove', opts(x, y))));
    await frame();
  }
  el.dispatchEvent(new PointerEvent('pointerup', opts(cx, cy)));
  return times;
}"""


def bundle_sizes(dist: Path, entry: str = ENTRY) -> tuple[int, int, list[str]]:
    """Gzipped bytes of `entry` with its static imports, then also with every dynamic import."""
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())

    def walk(follow_dynamic: bool) -> list[str]:
        seen: list[str] = []
        keys: set[str] = set()
        stack = [entry]
        while stack:
            key = stack.pop()
            chunk = manifest.get(key)
            if chunk is None or key in keys:
                continue
            keys.add(key)
            seen.append(chunk["file"])
            stack.extend(chunk.get("imports", []))
            if follow_dynamic:
                stack.extend(chunk.get("dynamicImports", []))
        return seen

    def size(files: list[str]) -> int:
        return sum(
            len(gzip.compress((dist / f).read_bytes(), compresslevel=9)) for f in files if f.endswith(".js")
        )

    static, everything = walk(False), walk(True)
    return size(static), size(everything), sorted(set(everything) - set(static))


def run(ctx: Context) -> list[dict]:
    measurements: list[dict] = []
    dist = ctx.repo_root / "frontend" / "dist"
    if (dist / ".vite" / "manifest.json").exists():
        static, everything, lazy = bundle_sizes(dist)
        measurements += [
            {
                "name": "labeling page JS, gzipped, before the page works",
                "value": round(static / 1000, 1),
                "unit": "kB",
                "target": BUNDLE_TARGET,
                "notes": f"{ENTRY} + static imports",
            },
            {
                "name": "labeling page JS, gzipped, with the media chunks",
                "value": round(everything / 1000, 1),
                "unit": "kB",
                "target": BUNDLE_TARGET,
                "notes": "adds the on-demand chunks: " + ", ".join(Path(f).name.split("-")[0] for f in lazy),
            },
        ]
    else:
        ctx.log("frontend/dist has no manifest: run `cd frontend && npm run build` for the bundle size")
        return measurements
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        ctx.log("Playwright is not installed: skipping the Chromium timings")
        return measurements
    if not CHROMIUM.exists():
        ctx.log(f"{CHROMIUM} is missing: skipping the Chromium timings")
        return measurements
    return measurements + _timings(ctx)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timings(ctx: Context) -> list[dict]:
    from playwright.sync_api import sync_playwright

    var_dir = ctx.tmp_dir / "ui-media-var"
    (var_dir / "media").mkdir(parents=True)
    env = ctx.subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        TESSERA_VAR_DIR=str(var_dir),
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    manage("migrate", "--noinput", "-v", "0", python=ctx.env.python, repo_root=ctx.repo_root, env=env)
    seed = SEED.format(password=PASSWORD, w=IMAGE_W, h=IMAGE_H, boxes=BOXES)
    out = manage("shell", "-c", seed, python=ctx.env.python, repo_root=ctx.repo_root, env=env)
    project_id = int(out.split("PROJECT", 1)[1].split()[0])
    runs = 2 if ctx.quick else 4
    renders: list[float] = []
    frames: list[float] = []
    with AsgiServer(
        python=ctx.env.python, repo_root=ctx.repo_root, env=env, log_path=ctx.tmp_dir / "ui-media.log"
    ) as server:
        server.wait_until_ok("/healthz")
        base = f"http://127.0.0.1:{server.port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            page.goto(f"{base}/login/")
            page.get_by_label("Username").fill("bench_annotator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/projects/")
            for n in range(runs + 1):
                page.goto(f"{base}/projects/{project_id}/label/")
                page.wait_for_selector(".md-stage[data-status='ready']")
                elapsed = page.evaluate(
                    "() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame("
                    "() => resolve(performance.now()))))"
                )
                boxes = page.locator("[aria-label='Regions of objects']").count()
                assert boxes == 1, "the bbox panel did not list the predicted boxes"
                if n > 0:  # the first visit warms the server and the HTTP cache
                    renders.append(elapsed)
                    frames += page.evaluate(SEQUENCE)
            browser.close()
    return [
        {
            "name": f"image with {BOXES} boxes: navigation to first render, median",
            "value": round(statistics.median(renders), 1),
            "unit": "ms",
            "target": RENDER_TARGET,
            "notes": f"{len(renders)} page loads, {IMAGE_W}x{IMAGE_H} PNG, Chromium on localhost (SQLite)",
        },
        {
            "name": f"image with {BOXES} boxes: pan/zoom frame, p50",
            "value": round(_percentile(frames, 0.5), 2),
            "unit": "ms",
            "target": FRAME_TARGET,
            "notes": f"{len(frames)} steps (wheel zooms and drag pans): event + redraw of both layers",
        },
        {
            "name": f"image with {BOXES} boxes: pan/zoom frame, p95",
            "value": round(_percentile(frames, 0.95), 2),
            "unit": "ms",
            "target": FRAME_TARGET,
        },
    ]
