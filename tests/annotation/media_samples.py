"""Media files made in the tests (Pillow, wave, bytes), ZIP builders and a storage under tmp_path."""

import io
import json
import struct
import wave
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image


def png_bytes(seed: int = 0, size: tuple[int, int] = (32, 24)) -> bytes:
    """A small RGB PNG whose pixels (and so dHash) depend on `seed`."""
    image = Image.new("RGB", size)
    width, height = size
    image.putdata(
        [((x * 7 + seed * 31) % 256, (y * 11 + seed * 17) % 256, (x * y + seed) % 256)
         for y in range(height) for x in range(width)]
    )  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(png_bytes(seed))).save(out, "JPEG", quality=90)
    return out.getvalue()


def wav_bytes(frames: int = 800) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"".join(struct.pack("<h", (i * 300) % 30000) for i in range(frames)))
    return out.getvalue()


def mp4_bytes() -> bytes:
    """An ISO base media file's first box (ftyp) and an empty mdat: enough for the magic-byte check."""
    ftyp = struct.pack(">I4s4sI8s", 24, b"ftyp", b"isom", 512, b"isomiso2")
    return ftyp + struct.pack(">I4s", 8, b"mdat")


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
    b'<image href="http://169.254.169.254/latest/meta-data/"/></svg>'
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid-looking PNG header declaring width x height 8-bit grayscale pixels, with almost no data:
    a few hundred bytes that would need 2.5 GB to decode."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _chunk(b"IEND", b"")
    )


def zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP with `members` in order; names are written as given (also "../x" or "/x")."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content, compression)
    return out.getvalue()


def jsonl(*rows) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def files_under(root: Path) -> set[str]:
    """Every file below `root`, as paths relative to it."""
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


@pytest.fixture(name="local_storage")
def local_storage_fixture(tmp_path, settings):
    """Default storage on local disk at tmp_path/"storage"; tmp_path holds nothing else to start with."""
    from django.core.files.storage import default_storage, storages
    from django.utils.functional import empty

    root = tmp_path / "storage"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    storages._storages.pop("default", None)
    default_storage._wrapped = empty
    yield root
    storages._storages.pop("default", None)
    default_storage._wrapped = empty
