"""Media over the REST API: uploads, and GET /api/projects/<id>/items/<item_id>/media/."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import ImportJob, Item

from .media_samples import (
    HTML,
    SVG_WITH_SCRIPT,
    files_under,
    jsonl,
    local_storage_fixture,  # noqa: F401 - the local_storage fixture
    png_bytes,
    wav_bytes,
    zip_bytes,
)

pytestmark = pytest.mark.django_db(transaction=True)  # the import runs after a real commit

PROTECTION = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _upload(client, project, content: bytes, name: str, **fields):
    return client.post(
        f"/api/projects/{project.id}/imports/",
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


def _media_url(item) -> str:
    return f"/api/projects/{item.project_id}/items/{item.id}/media/"


def _headers(response, *names: str) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in names}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _stored_item(project, name: str, content: bytes, media_type: str, **fields) -> Item:
    """An item whose file is in default storage (as an import or a bucket sync would leave it)."""
    stored = default_storage.save(f"media/test/{name}", ContentFile(content))
    return Item.objects.create(
        project=project,
        data={"file": name, "media_type": media_type},
        content_hash=f"{stored:x<64}"[:64],
        checksum="0" * 64,
        media=stored,
        media_type=media_type,
        media_bytes=len(content),
        **fields,
    )


@pytest.fixture
def media_server():
    """An HTTP server on 127.0.0.1 answering `routes[path] = (status, headers, body)`.

    Yields (base URL, routes)."""
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body = routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", routes
    server.shutdown()
    server.server_close()


# --- Uploads ---------------------------------------------------------------------------------------


def test_manager_uploads_an_image_and_a_zip_over_the_api(people, client_for, local_storage):
    client = client_for(people.manager)

    image = _upload(client, people.project, png_bytes(1), "cat.png", licence="CC0-1.0")
    archive = _upload(
        client, people.project, zip_bytes({"a.png": png_bytes(2), "b.wav": wav_bytes()}), "set.zip"
    )

    assert image.status_code == archive.status_code == 202
    assert {k: image.json()[k] for k in ("status", "format", "received", "created")} == {
        "status": "succeeded",
        "format": "media",
        "received": 1,
        "created": 1,
    }
    assert {k: archive.json()[k] for k in ("status", "format", "received", "created")} == {
        "status": "succeeded",
        "format": "zip",
        "received": 2,
        "created": 2,
    }
    listed = client.get(f"/api/projects/{people.project.id}/items/").json()["results"]
    cat = listed[0]
    assert {k: cat[k] for k in ("data", "licence", "media_type", "media_bytes", "media_src")} == {
        "data": {"file": "cat.png", "media_type": "image", "width": 32, "height": 24},
        "licence": "CC0-1.0",
        "media_type": "image",
        "media_bytes": len(png_bytes(1)),
        "media_src": f"/api/projects/{people.project.id}/items/{cat['id']}/media/",
    }


def test_disguised_upload_is_a_clear_400_and_stores_nothing(people, client_for, local_storage, tmp_path):
    response = _upload(client_for(people.manager), people.project, HTML, "photo.png")

    assert response.status_code == 400
    assert response.json() == {
        "code": "media_type_mismatch",
        "detail": '"photo.png" is not a PNG image: its bytes are markup (HTML, XML or SVG).',
    }
    assert ImportJob.objects.count() == 0
    assert files_under(tmp_path) == set()


def test_a_reference_to_the_metadata_service_is_refused_at_import(people, client_for, local_storage):
    content = jsonl({"image": "http://169.254.169.254/latest/meta-data/iam/", "caption": "x"})

    body = _upload(client_for(people.manager), people.project, content, "refs.jsonl").json()

    assert (body["status"], body["created"]) == ("failed", 0)
    assert body["error_sample"] == [
        {
            "line": 1,
            "field": "data.image",
            "reason": "169.254.169.254 resolves to a cloud metadata address (169.254.169.254).",
        }
    ]
    assert Item.objects.count() == 0


# --- The media endpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("org_admin", 200),
        ("manager", 200),
        ("reviewer", 200),
        ("annotator", 404),  # blind labeling: only items assigned to them (next test)
        ("org_member", 404),
        ("outsider", 404),
    ],
)
def test_every_project_role_may_fetch_media_and_nobody_else(
    people, client_for, local_storage, role, expected
):
    item = _stored_item(people.project, "cat.png", png_bytes(3), "image")

    response = client_for(people.by_role(role)).get(_media_url(item))

    assert response.status_code == expected
    if expected == 200:
        assert _body(response) == png_bytes(3)
    else:
        assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_an_annotator_fetches_the_media_of_items_assigned_to_them(people, client_for, local_storage):
    from django.utils import timezone

    from annotation.models import Assignment

    item = _stored_item(people.project, "cat.png", png_bytes(3), "image")
    other = _stored_item(people.project, "dog.png", png_bytes(5), "image")
    now = timezone.now()
    Assignment.objects.create(
        project=people.project, item=item, annotator=people.annotator, leased_at=now, lease_expires_at=now
    )
    client = client_for(people.annotator)

    assert _body(client.get(_media_url(item))) == png_bytes(3)
    assert client.get(_media_url(other)).status_code == 404


def test_anonymous_requests_and_items_of_other_projects_get_nothing(
    people, client_for, api_client, local_storage
):
    item = _stored_item(people.other_project, "secret.png", png_bytes(4), "image")
    without_media = Item.objects.create(
        project=people.project, data={"text": "plain"}, content_hash="a" * 64, checksum="a" * 64
    )
    client = client_for(people.manager)

    anonymous = api_client.get(_media_url(item))
    wrong_project = client.get(f"/api/projects/{people.project.id}/items/{item.id}/media/")
    no_media = client.get(_media_url(without_media))

    assert anonymous.status_code in (401, 403)
    assert (wrong_project.status_code, no_media.status_code) == (404, 404)
    assert no_media.json() == {"code": "not_found", "detail": "This item has no media."}


def test_a_stored_image_is_streamed_inline_with_exact_headers(people, client_for, local_storage):
    item = _stored_item(people.project, "cat.png", png_bytes(5), "image")

    response = client_for(people.reviewer).get(_media_url(item), HTTP_ACCEPT="image/avif,image/webp,image/*")

    assert response.status_code == 200
    assert response.streaming  # never read whole into memory
    assert _body(response) == png_bytes(5)
    assert _headers(
        response, "Content-Type", "Content-Disposition", "Content-Length", "Cache-Control", *PROTECTION
    ) == {
        "Content-Type": "image/png",
        "Content-Disposition": 'inline; filename="cat.png"',
        "Content-Length": str(len(png_bytes(5))),
        "Cache-Control": "private, max-age=300",
        **PROTECTION,
    }


@pytest.mark.parametrize(
    ("name", "content", "media_type", "content_type", "disposition"),
    [
        ("bark.wav", wav_bytes(), "audio", "audio/wav", 'attachment; filename="bark.wav"'),
        ("notes.txt", b"hello", "text", "text/plain; charset=utf-8", 'attachment; filename="notes.txt"'),
        ("logo.svg", SVG_WITH_SCRIPT, "image", "application/octet-stream", 'attachment; filename="logo.svg"'),
        ("page.html", HTML, "text", "application/octet-stream", 'attachment; filename="page.html"'),
        ("fake.png", HTML, "audio", "application/octet-stream", 'attachment; filename="fake.png"'),
    ],
)
def test_everything_but_raster_images_is_an_attachment_and_svg_html_never_inline(
    people, client_for, local_storage, name, content, media_type, content_type, disposition
):
    item = _stored_item(people.project, name, content, media_type)

    response = client_for(people.manager).get(_media_url(item))

    assert response.status_code == 200
    assert _headers(response, "Content-Type", "Content-Disposition", *PROTECTION) == {
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        **PROTECTION,
    }
    assert _body(response) == content


def test_on_s3_the_endpoint_redirects_to_a_short_lived_signed_url(people, client_for, s3_storage):
    image = _stored_item(people.project, "cat.png", png_bytes(6), "image")
    sound = _stored_item(people.project, "bark.wav", wav_bytes(), "audio")
    client = client_for(people.reviewer)

    image_response = client.get(_media_url(image))
    sound_response = client.get(_media_url(sound))

    assert image_response.status_code == sound_response.status_code == 302
    assert _headers(image_response, "Cache-Control", *PROTECTION) == {
        "Cache-Control": "no-store",
        **PROTECTION,
    }
    image_url, sound_url = urlsplit(image_response["Location"]), urlsplit(sound_response["Location"])
    assert f"{image_url.scheme}://{image_url.netloc}" == s3_storage.endpoint_url
    assert image_url.path == f"/tessera-test/{image.media.name}"
    image_query, sound_query = parse_qs(image_url.query), parse_qs(sound_url.query)
    assert image_query["X-Amz-Expires"] == ["300"]
    assert image_query["response-content-type"] == ["image/png"]
    assert "response-content-disposition" not in image_query
    assert sound_query["response-content-type"] == ["audio/wav"]
    assert sound_query["response-content-disposition"] == ['attachment; filename="bark.wav"']
    import urllib.request

    with urllib.request.urlopen(image_response["Location"]) as fetched:  # noqa: S310 - moto on loopback
        assert (fetched.read(), fetched.headers["Content-Type"]) == (png_bytes(6), "image/png")


def test_a_bucket_reference_redirects_to_its_sources_signed_url(people, client_for, monkeypatch):
    from annotation.sources import s3

    item = Item.objects.create(
        project=people.project,
        data={"file": "cats/1.png", "media_type": "image"},
        content_hash="b" * 64,
        checksum="b" * 64,
        media_url="s3://photos/cats/1.png",
        media_type="image",
    )
    monkeypatch.setattr(
        s3,
        "bucket_object_signed_url",
        lambda *, item: f"https://signed.example/{item.media_url[5:]}?sig=1",
    )

    response = client_for(people.reviewer).get(_media_url(item))

    assert (response.status_code, response["Location"]) == (
        302,
        "https://signed.example/photos/cats/1.png?sig=1",
    )
    assert _headers(response, *PROTECTION) == PROTECTION


def test_a_media_url_is_imported_then_streamed_through_the_egress_guard(
    people, client_for, settings, media_server
):
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    base, routes = media_server
    routes["/cats/1.png"] = (200, {"Content-Type": "image/png"}, png_bytes(7))
    routes["/page"] = (200, {"Content-Type": "text/html"}, HTML)
    routes["/logo"] = (200, {"Content-Type": "image/svg+xml"}, SVG_WITH_SCRIPT)
    client = client_for(people.manager)
    job = _upload(
        client,
        people.project,
        jsonl({"image": f"{base}/cats/1.png"}, {"image": f"{base}/page"}, {"image": f"{base}/logo"}),
        "refs.jsonl",
    ).json()
    cat, page, logo = Item.objects.filter(project=people.project).order_by("id")

    image = client_for(people.reviewer).get(_media_url(cat))
    html = client.get(_media_url(page))
    svg = client.get(_media_url(logo))

    assert (job["status"], job["created"]) == ("succeeded", 3)
    assert (cat.media_url, cat.media_type, cat.media.name) == (f"{base}/cats/1.png", "image", "")
    assert image.status_code == 200
    assert _body(image) == png_bytes(7)
    assert _headers(image, "Content-Type", "Content-Disposition", "Content-Length", *PROTECTION) == {
        "Content-Type": "image/png",
        "Content-Disposition": 'inline; filename="1.png"',
        "Content-Length": str(len(png_bytes(7))),
        **PROTECTION,
    }
    for response, filename in ((html, "page"), (svg, "logo")):
        assert _headers(response, "Content-Type", "Content-Disposition", *PROTECTION) == {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{filename}"',
            **PROTECTION,
        }


def test_a_media_url_the_guard_refuses_or_that_fails_is_a_502(people, client_for, settings, media_server):
    base, routes = media_server
    gone = Item.objects.create(
        project=people.project, data={"image": f"{base}/gone"}, content_hash="c" * 64, checksum="c" * 64,
        media_url=f"{base}/gone", media_type="image",
    )  # fmt: skip
    client = client_for(people.manager)

    blocked = client.get(_media_url(gone))  # 127.0.0.1 is not allowed by default
    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    missing = client.get(_media_url(gone))
    settings.ANNOTATION_MEDIA_PROXY_MAX_BYTES = 10
    routes["/gone"] = (200, {"Content-Type": "image/png"}, png_bytes(8))
    too_large = client.get(_media_url(gone))

    assert (blocked.status_code, blocked.json()["code"]) == (502, "egress_blocked_address")
    assert blocked.json()["detail"] == "127.0.0.1 resolves to a loopback address (127.0.0.1)."
    assert (missing.status_code, missing.json()["code"]) == (502, "egress_http_error")
    assert (too_large.status_code, too_large.json()["code"]) == (502, "egress_too_large")


def test_under_asgi_media_is_an_async_stream_never_read_whole(people, local_storage, settings, media_server):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from accounts.services import api_token_create

    settings.CORE_EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    base, routes = media_server
    routes["/clip.wav"] = (200, {"Content-Type": "audio/wav"}, wav_bytes())
    stored = _stored_item(people.project, "cat.png", png_bytes(9), "image")
    referenced = Item.objects.create(
        project=people.project, data={"audio": f"{base}/clip.wav"}, content_hash="d" * 64, checksum="d" * 64,
        media_url=f"{base}/clip.wav", media_type="audio",
    )  # fmt: skip
    _, key = api_token_create(user=people.reviewer, name="asgi")
    client = AsyncClient()

    async def fetch(item):
        response = await client.get(_media_url(item), headers={"Authorization": f"Bearer {key}"})
        return response, b"".join([part async for part in response.streaming_content])

    (image, image_body), (sound, sound_body) = async_to_sync(fetch)(stored), async_to_sync(fetch)(referenced)

    assert (image.status_code, image.is_async, image_body) == (200, True, png_bytes(9))
    assert (sound.status_code, sound.is_async, sound_body) == (200, True, wav_bytes())
    assert _headers(sound, "Content-Type", "Content-Disposition", *PROTECTION) == {
        "Content-Type": "audio/wav",
        "Content-Disposition": 'attachment; filename="clip.wav"',
        **PROTECTION,
    }
