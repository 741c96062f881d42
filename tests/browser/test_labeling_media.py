"""The image, audio and video labeling tools in a real browser (Chromium), on the real labeling page:
media imported through the Data page, each of the 8 media controls labelled with the mouse and keys,
submitted, and the stored answer checked in the database (pixels of the original image, seconds,
0-based frames). An SVG is refused at import and never shown."""

import base64
import math
import re
import shutil
import struct
import wave

import pytest

from annotation.models import Annotation, Item
from projects import services

from .conftest import REPO_ROOT, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_SHOTS = REPO_ROOT / "docs" / "screenshots" / "controls"
IMAGE_W, IMAGE_H = 640, 400


# --- media made here ----------------------------------------------------------------------------------


def _png(path):
    """A small street scene: sky, road, two cars and a person, so boxes have something to frame."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (IMAGE_W, IMAGE_H), "#9cc7ee")
    draw = ImageDraw.Draw(image)
    for y in range(0, 220):
        draw.line([(0, y), (IMAGE_W, y)], fill=(150 + y // 4, 195 + y // 10, 235))
    draw.rectangle([0, 220, IMAGE_W, IMAGE_H], fill="#5b5f66")
    draw.rectangle([0, 300, IMAGE_W, 306], fill="#f2f2f2")
    for x in range(20, IMAGE_W, 90):
        draw.rectangle([x, 160, x + 60, 220], fill="#c9b79c", outline="#8a7a62")
    draw.rounded_rectangle([80, 250, 250, 330], radius=18, fill="#c62828")
    draw.ellipse([100, 315, 140, 355], fill="#222")
    draw.ellipse([190, 315, 230, 355], fill="#222")
    draw.rounded_rectangle([380, 240, 520, 310], radius=14, fill="#1565c0")
    draw.ellipse([395, 295, 430, 330], fill="#222")
    draw.ellipse([470, 295, 505, 330], fill="#222")
    draw.ellipse([565, 200, 595, 230], fill="#f1c27d")
    draw.rectangle([568, 230, 592, 300], fill="#2e7d32")
    image.save(path, format="PNG")
    return path


def _wav(path, seconds=4.0, rate=16000):
    """Speech-like bursts (a tone with a syllable envelope) and pauses."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        burst = max(0.0, math.sin(math.pi * (t % 1.0) / 0.7)) if (t % 1.0) < 0.7 else 0.0
        sample = burst * (0.6 * math.sin(2 * math.pi * 220 * t) + 0.3 * math.sin(2 * math.pi * 445 * t))
        frames += struct.pack("<h", int(sample * 20000))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


RECORD_WEBM = """async () => {
  // No ffmpeg here: Chromium records a canvas animation (a square crossing the picture) to WebM.
  const canvas = document.createElement('canvas');
  canvas.width = 320; canvas.height = 180;
  const g = canvas.getContext('2d');
  const stream = canvas.captureStream(25);
  const recorder = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8' });
  const chunks = [];
  recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
  const done = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start();
  const start = performance.now();
  await new Promise((resolve) => {
    const draw = () => {
      const t = (performance.now() - start) / 1000;
      g.fillStyle = '#1e293b'; g.fillRect(0, 0, 320, 180);
      g.fillStyle = '#475569'; g.fillRect(0, 120, 320, 60);
      g.fillStyle = '#f59e0b'; g.fillRect(20 + t * 80, 70, 60, 40);
      g.fillStyle = '#fff'; g.font = '14px sans-serif'; g.fillText('t=' + t.toFixed(2), 8, 18);
      if (t < 2.2) requestAnimationFrame(draw); else resolve();
    };
    draw();
  });
  recorder.stop();
  await done;
  const buffer = await new Blob(chunks, { type: 'video/webm' }).arrayBuffer();
  let binary = '';
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}"""


def _webm(page, path):
    path.write_bytes(base64.b64decode(page.evaluate(RECORD_WEBM)))
    return path


# --- page helpers -------------------------------------------------------------------------------------


def import_media(page_for, people, path):
    """The manager imports one media file through the Data page; returns the new item."""
    project = people.project
    page = page_for(people.manager)
    page.goto(f"/projects/{project.id}/data/")
    page.locator("#import-file").set_input_files(str(path))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported 1 item")
    page.context.close()
    return Item.objects.get(project=project, media_type__in=["image", "audio", "video"], data__file=path.name)


def setup(people, field_type, controls):
    definition = {
        "version": 1,
        "fields": [
            {"name": field_type, "type": field_type, "source": "file", "title": field_type.capitalize()}
        ],
        "controls": controls,
    }
    services.schema_version_create(project=people.project, actor=people.manager, definition=definition)
    people.project.refresh_from_db()


def open_label(page_for, people, ready_selector):
    page = page_for(people.annotator)
    page.set_viewport_size({"width": 1360, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/projects/{people.project.id}/label/")
    expect(page.locator(".lb-app[data-phase='working']")).to_be_visible()
    expect(page.locator(ready_selector)).to_be_visible()
    page.errors = errors
    return page


def submit_and_get(page, item) -> dict:
    page.keyboard.press("Control+Enter")
    expect(page.locator(".lb-app[data-phase='empty']")).to_be_visible()
    assert page.errors == []
    return Annotation.objects.get(item=item).result


def control_shot(page, control_type: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    path = shot(page, f"label-{control_type}", full_page=False)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SHOTS / f"{control_type}.png")


class ImageStage:
    """Screen <-> image pixels on the image canvas (its data-viewport: scale, x, y)."""

    def __init__(self, page):
        self.page = page
        self.stage = page.locator(".md-stage[data-status='ready']")
        expect(self.stage).to_have_attribute("data-viewport", re.compile(r"\d"))

    def to_screen(self, x, y):
        scale, ox, oy = (float(v) for v in self.stage.get_attribute("data-viewport").split())
        box = self.stage.bounding_box()
        return box["x"] + ox + x * scale, box["y"] + oy + y * scale

    def scale(self):
        return float(self.stage.get_attribute("data-viewport").split()[0])

    def drag(self, a, b, steps=8):
        mouse = self.page.mouse
        mouse.move(*self.to_screen(*a))
        mouse.down()
        mouse.move(*self.to_screen(*b), steps=steps)
        mouse.up()

    def click(self, x, y):
        self.page.mouse.click(*self.to_screen(x, y))


def approx(value, expected, tolerance):
    return abs(value - expected) <= tolerance


# --- image -------------------------------------------------------------------------------------------


@pytest.fixture
def street(tmp_path):
    return _png(tmp_path / "street.png")


def test_bbox_draw_move_resize_relabel_delete(page_for, people, street):
    setup(
        people,
        "image",
        [
            {
                "name": "objects",
                "type": "bbox",
                "field": "image",
                "title": "Objects",
                "required": True,
                "labels": [
                    {"value": "car", "hotkey": "c", "color": "#e53935"},
                    {"value": "person", "hotkey": "p", "color": "#43a047"},
                ],
            }
        ],
    )
    item = import_media(page_for, people, street)
    page = open_label(page_for, people, ".md-stage[data-status='ready']")
    stage = ImageStage(page)
    tol = 2 / stage.scale() + 0.5

    stage.drag((80, 250), (250, 330))  # the red car
    stage.drag((380, 240), (520, 310))  # the blue car
    stage.drag((300, 100), (330, 130))  # a box to delete
    page.keyboard.press("Delete")
    stage.drag((565, 200), (595, 300))  # the person, labelled as car first...
    page.keyboard.press("p")  # ...then relabelled with the hotkey
    stage.drag((450, 275), (455, 285))  # move the blue car by (5, 10) image pixels
    page.locator(".md-stage").focus()
    page.keyboard.press("Shift+ArrowRight")  # nudge it 10 px right
    expect(page.get_by_role("list", name="Regions of Objects").get_by_role("listitem")).to_have_count(3)
    control_shot(page, "bbox")

    result = submit_and_get(page, item)["objects"]

    assert [b["label"] for b in result] == ["car", "car", "person"]
    red, blue, person = result
    for box, expected in (
        (red, (80, 250, 170, 80)),
        (blue, (395, 250, 140, 70)),
        (person, (565, 200, 30, 100)),
    ):
        got = (box["x"], box["y"], box["width"], box["height"])
        assert all(approx(g, e, tol) for g, e in zip(got, expected, strict=True)), (got, expected)


def test_bbox_wheel_zoom_and_keyboard_pan_keep_image_coordinates(page_for, people, street):
    setup(
        people, "image", [{"name": "objects", "type": "bbox", "field": "image", "labels": [{"value": "car"}]}]
    )
    item = import_media(page_for, people, street)
    page = open_label(page_for, people, ".md-stage[data-status='ready']")
    stage = ImageStage(page)
    before = stage.scale()

    page.mouse.move(*stage.to_screen(160, 290))
    page.mouse.wheel(0, -400)
    expect(page.locator(".md-zoom")).not_to_have_text(f"{round(before * 100)}%")
    assert stage.scale() > before * 1.5
    page.locator(".md-stage").focus()
    page.keyboard.press("ArrowLeft")  # nothing selected: pans
    stage.drag((100, 260), (200, 320))
    page.keyboard.press("0")  # fit again
    expect(page.locator(".md-zoom")).to_have_text(f"{round(before * 100)}%")

    box = submit_and_get(page, item)["objects"][0]

    tol = 2 / before
    assert approx(box["x"], 100, tol) and approx(box["y"], 260, tol)
    assert approx(box["width"], 100, tol) and approx(box["height"], 60, tol)


def test_polygon_by_clicks_and_enter(page_for, people, street):
    setup(
        people,
        "image",
        [
            {
                "name": "regions",
                "type": "polygon",
                "field": "image",
                "title": "Regions",
                "labels": [{"value": "road"}, {"value": "sidewalk"}],
            }
        ],
    )
    item = import_media(page_for, people, street)
    page = open_label(page_for, people, ".md-stage[data-status='ready']")
    stage = ImageStage(page)
    page.get_by_role("button", name="road").click()
    points = [(0, 230), (640, 230), (640, 400), (0, 400)]
    for x, y in points:
        stage.click(x, y)
    page.keyboard.press("Enter")
    expect(page.get_by_role("list", name="Regions of Regions")).to_contain_text("4 points")
    stage.click(200, 240)  # select it: vertices and edge middles shown
    stage.drag((320, 230), (320, 200))  # pull a new vertex out of the top edge
    expect(page.get_by_role("list", name="Regions of Regions")).to_contain_text("5 points")
    points.insert(1, (320, 200))
    control_shot(page, "polygon")
    tol = 2 / stage.scale() + 0.5

    result = submit_and_get(page, item)["regions"]

    assert len(result) == 1 and result[0]["label"] == "road"
    for (gx, gy), (ex, ey) in zip(result[0]["points"], points, strict=True):
        assert approx(gx, ex, tol) and approx(gy, ey, tol)


def test_keypoints_with_skeleton_and_occlusion(page_for, people, street):
    setup(
        people,
        "image",
        [
            {
                "name": "pose",
                "type": "keypoints",
                "field": "image",
                "title": "Pose",
                "keypoints": [{"value": "head", "hotkey": "h"}, {"value": "hip"}, {"value": "foot"}],
                "skeleton": [["head", "hip"], ["hip", "foot"]],
            }
        ],
    )
    item = import_media(page_for, people, street)
    page = open_label(page_for, people, ".md-stage[data-status='ready']")
    stage = ImageStage(page)
    stage.click(580, 215)
    stage.click(580, 265)
    stage.click(580, 300)
    page.get_by_role("checkbox", name="occluded").nth(2).check()
    control_shot(page, "keypoints")
    tol = 2 / stage.scale() + 0.5

    (instance,) = submit_and_get(page, item)["pose"]

    assert [(p["name"], p["visibility"]) for p in instance["points"]] == [
        ("head", 2),
        ("hip", 2),
        ("foot", 1),
    ]
    assert approx(instance["points"][1]["x"], 580, tol) and approx(instance["points"][1]["y"], 265, tol)


def test_image_class_with_a_hotkey(page_for, people, street):
    setup(
        people,
        "image",
        [
            {
                "name": "scene",
                "type": "image_class",
                "field": "image",
                "title": "Scene",
                "required": True,
                "labels": [{"value": "urban", "hotkey": "u"}, {"value": "rural", "hotkey": "r"}],
            }
        ],
    )
    item = import_media(page_for, people, street)
    page = open_label(page_for, people, ".md-stage[data-status='ready']")
    page.keyboard.press("r")
    page.keyboard.press("u")
    expect(page.get_by_role("radio", name="urban")).to_have_attribute("aria-checked", "true")
    control_shot(page, "image_class")

    assert submit_and_get(page, item) == {"scene": "urban"}


def test_svg_is_refused_at_import_and_never_shown(page_for, people, tmp_path):
    svg = tmp_path / "logo.svg"
    script = "<script>window.__pwned=1</script>"
    svg.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1">{script}</svg>')
    disguised = tmp_path / "photo.png"
    disguised.write_bytes(svg.read_bytes())
    page = page_for(people.manager)
    page.goto(f"/projects/{people.project.id}/data/")

    for path in (svg, disguised):
        page.locator("#import-file").set_input_files(str(path))
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator(".import-panel, #import-status, [role='alert']").first).to_contain_text("not")

    assert not Item.objects.filter(project=people.project).exists()
    assert page.evaluate("window.__pwned") is None


# --- audio -------------------------------------------------------------------------------------------


def test_audio_segments_by_drag_and_keys(page_for, people, tmp_path):
    setup(
        people,
        "audio",
        [
            {
                "name": "speakers",
                "type": "audio_segments",
                "field": "audio",
                "title": "Speakers",
                "labels": [{"value": "agent", "hotkey": "a"}, {"value": "customer", "hotkey": "k"}],
            }
        ],
    )
    item = import_media(page_for, people, _wav(tmp_path / "call.wav"))
    page = open_label(page_for, people, ".md-wave[data-status='ready']")
    wave_box = page.locator(".md-wave__canvas").bounding_box()
    x_of = lambda seconds: wave_box["x"] + wave_box["width"] * seconds / 4.0  # noqa: E731
    y = wave_box["y"] + wave_box["height"] / 2

    page.mouse.move(x_of(0.2), y)
    page.mouse.down()
    page.mouse.move(x_of(1.4), y, steps=10)
    page.mouse.up()
    expect(page.get_by_role("list", name="Segments of Speakers").get_by_role("listitem")).to_have_count(1)
    page.keyboard.press("k")  # the new segment is selected: relabel it
    page.locator(".md-wave").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator(".md-clock")).to_contain_text("0:02.000 /")
    page.keyboard.press("[")
    page.keyboard.press("ArrowRight")
    expect(page.locator(".md-clock")).to_contain_text("0:03.000 /")
    expect(page.get_by_text("start marked at 0:02.000")).to_be_visible()
    page.keyboard.press("]")
    expect(page.get_by_role("list", name="Segments of Speakers").get_by_role("listitem")).to_have_count(2)
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press("Space")
    control_shot(page, "audio_segments")

    first, second = submit_and_get(page, item)["speakers"]

    assert (
        first["label"] == "customer" and approx(first["start"], 0.2, 0.08) and approx(first["end"], 1.4, 0.08)
    )
    assert second == {"start": 2.0, "end": 3.0, "label": "agent"}


def test_transcription_typed_while_the_audio_plays(page_for, people, tmp_path):
    setup(
        people,
        "audio",
        [
            {
                "name": "transcript",
                "type": "transcription",
                "field": "audio",
                "title": "Transcript",
                "required": True,
                "max_length": 500,
            }
        ],
    )
    item = import_media(page_for, people, _wav(tmp_path / "note.wav"))
    page = open_label(page_for, people, ".md-wave[data-status='ready']")
    box = page.get_by_role("textbox", name="Transcript")
    box.click()
    page.keyboard.press("Control+Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.type("Hello, how can I help you?")
    page.keyboard.press("Control+Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    control_shot(page, "transcription")

    assert submit_and_get(page, item) == {"transcript": "Hello, how can I help you?"}


# --- video -------------------------------------------------------------------------------------------


@pytest.fixture
def clip(page_for, people, tmp_path):
    page = page_for(people.manager)
    path = _webm(page, tmp_path / "clip.webm")
    page.context.close()
    return path


def test_video_segments_on_the_timeline(page_for, people, clip):
    setup(
        people,
        "video",
        [
            {
                "name": "actions",
                "type": "video_segments",
                "field": "video",
                "title": "Actions",
                "labels": [{"value": "moving"}, {"value": "still"}],
            }
        ],
    )
    item = import_media(page_for, people, clip)
    page = open_label(page_for, people, ".md-video[data-status='ready']")
    lane = page.locator(".md-lane__track[data-lane='actions']")
    box = lane.bounding_box()
    duration = page.evaluate("document.querySelector('.md-video__media').duration")
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    expect(page.get_by_role("list", name="Segments of Actions").get_by_role("listitem")).to_have_count(1)
    page.locator(".md-video__screen").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".md-video")).to_have_attribute("data-frame", "1")
    control_shot(page, "video_segments")

    (segment,) = submit_and_get(page, item)["actions"]

    assert segment["label"] == "moving"
    assert approx(segment["start"], 0.1 * duration, 0.05 * duration) and approx(
        segment["end"], 0.6 * duration, 0.05 * duration
    )


def test_video_bbox_track_with_keyframes(page_for, people, clip):
    setup(
        people,
        "video",
        [
            {
                "name": "tracks",
                "type": "video_bbox",
                "field": "video",
                "title": "Tracks",
                "labels": [{"value": "box", "color": "#f59e0b"}],
            }
        ],
    )
    item = import_media(page_for, people, clip)
    page = open_label(page_for, people, ".md-video[data-status='ready']")
    overlay = page.locator(".md-video__overlay")
    rect = overlay.bounding_box()
    scale = rect["width"] / 320
    at = lambda x, y: (rect["x"] + x * scale, rect["y"] + y * scale)  # noqa: E731

    page.mouse.move(*at(20, 70))
    page.mouse.down()
    page.mouse.move(*at(80, 110), steps=6)
    page.mouse.up()
    page.locator(".md-video__screen").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".md-video")).to_have_attribute("data-frame", "4")
    page.mouse.move(*at(50, 90))
    page.mouse.down()
    page.mouse.move(*at(63, 90), steps=5)
    page.mouse.up()
    expect(page.get_by_role("list", name="Tracks of Tracks")).to_contain_text("2 keyframes")
    control_shot(page, "video_bbox")

    (track,) = submit_and_get(page, item)["tracks"]

    assert track["label"] == "box" and track["id"] == "t1"
    assert [f["frame"] for f in track["frames"]] == [0, 1, 2, 3, 4]
    tol = 2 / scale + 0.5
    assert approx(track["frames"][0]["x"], 20, tol) and approx(track["frames"][4]["x"], 33, tol)
    assert approx(track["frames"][2]["x"], 26.5, tol)  # interpolated


# --- review --------------------------------------------------------------------------------------------


def test_review_draws_the_other_annotators_boxes_read_only(page_for, people, street):
    from annotation.workflow.services.claim import next_item_for_annotator
    from annotation.workflow.services.submit import annotation_submit
    from projects.models import Project, ProjectMembership
    from tests.factories import ProjectMembershipFactory, UserFactory

    project = people.project
    setup(
        people, "image", [{"name": "objects", "type": "bbox", "field": "image", "labels": [{"value": "car"}]}]
    )
    services.project_update(
        project=project,
        actor=people.manager,
        settings={"labeling": {"review_fraction": 1.0, "max_escalation": 0}},
    )
    item = import_media(page_for, people, street)
    Project.objects.filter(pk=project.pk).update(overlap=2)
    Item.objects.filter(pk=item.pk).update(target=2)
    project.refresh_from_db()
    second = ProjectMembershipFactory(
        project=project, user=UserFactory(username="bob"), role=ProjectMembership.Role.ANNOTATOR
    ).user
    for who, box in ((people.annotator, [80, 250, 170, 80]), (second, [90, 245, 150, 90])):
        assignment = next_item_for_annotator(project=project, annotator=who).assignment
        result = {"objects": [dict(zip(("x", "y", "width", "height"), box, strict=True), label="car")]}
        annotation_submit(project=project, annotator=who, assignment_id=assignment.pk, result=result)

    reviewer = page_for(people.reviewer)
    reviewer.set_viewport_size({"width": 1360, "height": 900})
    reviewer.goto(f"/projects/{project.id}/review/")
    stage = reviewer.locator(".md-stage[data-status='ready']")
    expect(stage).to_be_visible()
    expect(stage).to_have_attribute("aria-label", re.compile("Read only"))
    reviewer.evaluate("document.querySelector('.md-image').scrollIntoView({block: 'center'})")
    ImageStage(reviewer).drag((300, 150), (280, 120))  # read-only: pans, draws nothing
    shot(reviewer, "review-bbox", full_page=False)
    reviewer.keyboard.press("a")
    expect(reviewer.get_by_text("annotator's annotation accepted")).to_be_visible()

    stored = Annotation.objects.get(item=item, annotator=people.annotator)
    assert stored.result == {"objects": [{"x": 80, "y": 250, "width": 170, "height": 80, "label": "car"}]}
    assert stored.review == "accepted"
