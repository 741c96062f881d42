"""Media files: what they are, whether they are safe to keep, their hashes and how to serve them.

No Django imports (Pillow and the standard library); the limits come in as arguments.

Decisions, in one place:

- **Type = extension + magic bytes.** The client's Content-Type is never read. The extension says
  what the file claims to be (`EXTENSIONS`); the first bytes must be a container of that kind
  (`sniff`). A ".png" holding HTML, or a ".mp3" holding a PNG, is refused ("media_type_mismatch").
  Among images the bytes win: a ".jpg" that is a PNG is kept (and served) as a PNG.
- **SVG and HTML are refused**, whatever their content ("media_refused"): an SVG can carry scripts,
  event handlers and external references, and sanitising XML is a losing game. Convert to PNG.
- **Images** are opened with Pillow restricted to PNG, JPEG, GIF and WebP, with
  `Image.MAX_IMAGE_PIXELS` set from the caller's limit; width x height above the limit is refused
  from the header alone, before any pixel is decoded (a 50,000 x 50,000 PNG costs a few bytes to
  declare). Then `verify()` and a full decode for the dHash catch truncated or corrupt files.
- **Text files** (".txt") must be UTF-8 and at most the record limit; their content becomes the
  item's "text" (searchable and labelable like any text item), and the file is kept as media too.
  A text file whose content is HTML is still text: it is served as text/plain, never as HTML.
- **Audio and video** are checked by magic bytes (WAV, MP3, Ogg, FLAC, MP4/MOV, WebM); their
  duration (and an MP4/MOV video's frame count) is read from the headers, never decoded (`timing`).
- **Hashes.** `sha256` of the bytes is the item's checksum and content hash, so the same file
  imported twice is an exact duplicate. `dhash` is the 64-bit difference hash of images, computed
  exactly like imagehash.dhash (grayscale, 9x8 Lanczos, right pixel brighter than left = 1, first
  bit most significant) and stored as a signed 64-bit integer (Item.image_hash).
- **Media URLs in records.** A top-level string under "image", "audio" or "video" that starts with
  a scheme ("https://...") is a reference to media, kept as a URL (`media_references`); the
  importer checks it with core.egress. "url" is deliberately not such a key: text datasets use it
  for the page a text came from, and every one of them would be fetched-checked for nothing.
"""

import hashlib
import io
import re
import warnings
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError

from .normalise import check_text
from .records import MediaFile, Record
from .timing import media_timing

MEDIA_FORMATS = ("media", "zip")  # import formats besides formats.FORMATS
MEDIA_TYPES = ("image", "audio", "video", "text")
REFERENCE_KEYS = ("image", "audio", "video")  # data keys whose URL values are media references
READ_CHUNK = 1024 * 1024  # bytes read at a time while hashing

_IMAGE_CONTAINERS = frozenset({"png", "jpeg", "gif", "webp"})
_IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
_IMAGE_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp"}
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
RASTER_TYPES = frozenset(_IMAGE_TYPES.values())  # the only types served inline
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Kind:
    """What a file extension claims: its media type, content type and the containers it may hold."""

    media_type: str
    content_type: str
    containers: frozenset[str]
    label: str  # for messages: "a PNG image"


def _kind(media_type: str, content_type: str, containers: set[str] | frozenset[str], label: str) -> Kind:
    return Kind(media_type, content_type, frozenset(containers), label)


EXTENSIONS: dict[str, Kind] = {
    ".png": _kind("image", "image/png", _IMAGE_CONTAINERS, "a PNG image"),
    ".jpg": _kind("image", "image/jpeg", _IMAGE_CONTAINERS, "a JPEG image"),
    ".jpeg": _kind("image", "image/jpeg", _IMAGE_CONTAINERS, "a JPEG image"),
    ".gif": _kind("image", "image/gif", _IMAGE_CONTAINERS, "a GIF image"),
    ".webp": _kind("image", "image/webp", _IMAGE_CONTAINERS, "a WebP image"),
    ".wav": _kind("audio", "audio/wav", {"wav"}, "a WAV file"),
    ".mp3": _kind("audio", "audio/mpeg", {"mp3"}, "an MP3 file"),
    ".ogg": _kind("audio", "audio/ogg", {"ogg"}, "an Ogg file"),
    ".oga": _kind("audio", "audio/ogg", {"ogg"}, "an Ogg file"),
    ".flac": _kind("audio", "audio/flac", {"flac"}, "a FLAC file"),
    ".m4a": _kind("audio", "audio/mp4", {"isobmff"}, "an M4A file"),
    ".mp4": _kind("video", "video/mp4", {"isobmff"}, "an MP4 file"),
    ".m4v": _kind("video", "video/mp4", {"isobmff"}, "an MP4 file"),
    ".mov": _kind("video", "video/quicktime", {"isobmff"}, "a QuickTime file"),
    ".webm": _kind("video", "video/webm", {"ebml"}, "a WebM file"),
    ".ogv": _kind("video", "video/ogg", {"ogg"}, "an Ogg video"),
    ".txt": _kind("text", TEXT_TYPE, {"text"}, "a UTF-8 text file"),
}
ALLOWED_CONTENT_TYPES = frozenset(kind.content_type.split(";")[0] for kind in EXTENSIONS.values())
_REFUSED = {
    ".svg": "SVG images are not accepted: an SVG can carry scripts. Convert it to PNG.",
    ".svgz": "SVG images are not accepted: an SVG can carry scripts. Convert it to PNG.",
    ".html": "HTML files are not accepted as media.",
    ".htm": "HTML files are not accepted as media.",
    ".xhtml": "HTML files are not accepted as media.",
}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_MARKUP = re.compile(rb"^\s*<", re.ASCII)


class MediaError(Exception):
    """A media file that cannot be imported; `code` is machine-readable, `message` names the file."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int  # per file
    max_image_pixels: int  # width x height
    max_text_bytes: int  # a text file becomes the item's text: the record limit


@dataclass(frozen=True)
class Inspected:
    """A checked file: everything the item records about it, plus the text of a text file."""

    media_type: str
    extension: str  # the extension the bytes deserve (".png" for a PNG named .jpg)
    size: int
    sha256: str
    image_hash: int | None
    text: str | None
    width: int | None = None  # images: pixels, so the labeling workflow can check boxes against them
    height: int | None = None
    duration: float | None = None  # audio, video: seconds, so segments can be checked against it
    frame_count: int | None = None  # MP4/MOV video: frames, so the labeling page knows the frame rate


def extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def kind_of(name: str) -> Kind:
    """The Kind a file name claims, or MediaError("media_refused" / "media_type_unknown")."""
    ext = extension(name)
    if ext in _REFUSED:
        raise MediaError("media_refused", f'"{_shown(name)}": {_REFUSED[ext]}')
    kind = EXTENSIONS.get(ext)
    if kind is None:
        shown = ext or "no extension"
        raise MediaError(
            "media_type_unknown",
            f'"{_shown(name)}" is not a supported media file ({shown}); use {supported_extensions()}.',
        )
    return kind


def supported_extensions() -> str:
    return ", ".join(EXTENSIONS)


def is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))  # a local file header, or an empty archive


def detect_format(filename: str, head: bytes) -> str | None:
    """ "zip", "media", or None when the name is not a media or archive name (formats.detect_format
    decides then). A ".txt" is None: a text upload stays one item per line unless format=media."""
    ext = extension(filename)
    if ext == ".zip":
        if not is_zip(head):
            raise MediaError("media_type_mismatch", f'"{_shown(filename)}" is not a ZIP archive.')
        return "zip"
    if ext in _REFUSED:
        kind_of(filename)  # raises with the reason
    if ext in EXTENSIONS and ext != ".txt":
        return "media"
    return None


def unknown_format_message(filename: str) -> str:
    return (
        f'Cannot tell the format of "{_shown(filename)}". Name the file .jsonl, .ndjson, .json, .csv, '
        f".tsv or .txt, a media file ({supported_extensions()}) or a .zip of media files."
    )


def sniff(head: bytes) -> str | None:
    """The container the first bytes announce (png, jpeg, gif, webp, wav, mp3, ogg, flac, isobmff,
    ebml), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "isobmff"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "ebml"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 > 0xE0):
        return "mp3"  # an ID3 tag, or an MPEG audio frame header (11 sync bits and a layer)
    return None


def check_head(filename: str, head: bytes) -> tuple[Kind, str]:
    """The Kind of `filename` and the container its first bytes (pass at least 64 bytes) are in.

    Raises MediaError when the extension is unknown or refused, or the bytes are not what the
    extension says (a ".png" that is HTML).
    """
    kind = kind_of(filename)
    container = sniff(head)
    if container is None and kind.media_type == "text" and b"\x00" not in head:
        container = "text"
    if container not in kind.containers:
        found = "markup (HTML, XML or SVG)" if _MARKUP.match(head) else "something else"
        if container is not None:
            found = f"{_IMAGE_TYPES.get(container) or container} data"
        raise MediaError(
            "media_type_mismatch", f'"{_shown(filename)}" is not {kind.label}: its bytes are {found}.'
        )
    return kind, container


def check_upload(file: BinaryIO, filename: str, limits: MediaLimits) -> str:
    """The cheap checks before an upload is stored: size, type by magic bytes and, for an image, its
    pixel count from the header. Returns the media type; raises MediaError. Leaves `file` at 0."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    _check_size(filename, size, limits)
    kind, container = check_head(filename, file.read(64))
    file.seek(0)
    if kind.media_type == "image":
        try:
            with _open_image(file, container, limits, filename):
                pass
        finally:
            file.seek(0)
    return kind.media_type


def inspect(file: BinaryIO, filename: str, limits: MediaLimits) -> Inspected:
    """Check a whole file and compute what its item records. `file` must be seekable.

    Reads the file in chunks (never whole, except a text file, which becomes the item's text and is
    bounded by the record limit). Raises MediaError with a reason that names the file.
    """
    file.seek(0)
    kind, container = check_head(filename, file.read(64))
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(READ_CHUNK):
        size += len(chunk)
        _check_size(filename, size, limits)
        digest.update(chunk)
    file.seek(0)
    image_hash = text = width = height = None
    ext = extension(filename)
    if kind.media_type == "image":
        image_hash, width, height = _inspect_image(file, container, limits, filename)
        ext = _IMAGE_EXTENSIONS[container]
    elif kind.media_type == "text":
        text = _read_text(file, size, limits, filename)
    duration = frame_count = None
    if container == "wav":
        duration = _wav_duration(file)
    if duration is None and kind.media_type in ("audio", "video"):
        duration, frame_count = media_timing(file, kind.media_type, container)
    file.seek(0)
    return Inspected(
        kind.media_type, ext, size, digest.hexdigest(), image_hash, text, width, height, duration, frame_count
    )


def _wav_duration(file: BinaryIO) -> float | None:
    """Seconds of a WAV file from its header (stdlib `wave`); None when the header is unusual
    (compressed WAV, broken header): the duration is then simply not known."""
    file.seek(0)
    try:
        with wave.open(file, "rb") as audio:
            rate = audio.getframerate()
            return round(audio.getnframes() / rate, 3) if rate > 0 else None
    except (wave.Error, EOFError, ValueError):
        return None


def media_data(path: str, inspected: Inspected, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An item's data for a media file: {"file", "media_type"}, an image's "width" and "height" (pixels),
    a text file's "text", then `extra` (fields from a manifest, which win over the text)."""
    data: dict[str, Any] = {"file": path, "media_type": inspected.media_type}
    if inspected.width and inspected.height:
        data["width"], data["height"] = inspected.width, inspected.height
    if inspected.duration:
        data["duration"] = inspected.duration
    if inspected.frame_count:
        data["frame_count"] = inspected.frame_count
    if inspected.text is not None and not (extra and "text" in extra):
        data["text"] = inspected.text
    if extra:
        data.update({key: value for key, value in extra.items() if key not in ("file", "media_type")})
    return data


def file_record(file: BinaryIO, filename: str, *, stored_name: str, limits: MediaLimits) -> Record:
    """The one item of a single uploaded media file, which is kept where the upload is stored.

    Raises MediaError."""
    inspected = inspect(file, filename, limits)
    media = MediaFile(
        name=stored_name,
        media_type=inspected.media_type,
        size=inspected.size,
        sha256=inspected.sha256,
        image_hash=inspected.image_hash,
        source_ref=filename,
    )
    return Record(1, media_data(filename, inspected), media=media)


def dhash(image: Image.Image) -> int:
    """64-bit difference hash of `image` as a signed integer (what Item.image_hash stores).

    The bits of imagehash.dhash(image): grayscale, resized to 9x8 with Lanczos, one bit per pair of
    horizontally adjacent pixels (1 when the right one is brighter), row by row, the first bit most
    significant. Two images are near duplicates when few bits differ: count the 1 bits of
    `(a ^ b) & (2**64 - 1)`.
    """
    pixels = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes()
    value = 0
    for row in range(0, 72, 9):
        for col in range(row, row + 8):
            value = (value << 1) | (pixels[col + 1] > pixels[col])
    return value - (1 << 64) if value >= 1 << 63 else value


def media_references(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, URL) for each top-level "image", "audio" or "video" string that starts with a scheme."""
    return [
        (key, value) for key in REFERENCE_KEYS if type(value := data.get(key)) is str and _SCHEME.match(value)
    ]


def is_url(value: str) -> bool:
    return bool(_SCHEME.match(value))


def content_type_for(name: str, media_type: str) -> str | None:
    """The allow-listed content type to serve a stored file with (from its name), or None when the
    name does not match the item's media type (serve it as an attachment of unknown type)."""
    kind = EXTENSIONS.get(extension(name))
    if kind is None or kind.media_type != media_type:
        return None
    return kind.content_type


def content_type_for_url(url_path: str, declared: str, media_type: str) -> str | None:
    """The content type to relay a referenced URL's body with: the upstream's declared type if it is
    allow-listed and of the item's media type, else the type its path's extension gives, else None."""
    declared = declared.split(";")[0].strip().lower()
    if declared in ALLOWED_CONTENT_TYPES and declared.startswith(f"{media_type}/"):
        return declared
    return content_type_for(url_path, media_type)


# --- Helpers --------------------------------------------------------------------------------------


def _shown(name: str) -> str:
    return name if len(name) <= 200 else f"{name[:199]}…"


def _check_size(filename: str, size: int, limits: MediaLimits) -> None:
    if size > limits.max_bytes:
        raise MediaError(
            "media_too_large",
            f'"{_shown(filename)}" is larger than {limits.max_bytes:,} bytes, the limit for one media file.',
        )


@contextmanager
def _open_image(file: BinaryIO, container: str, limits: MediaLimits, filename: str) -> Iterator[Image.Image]:
    """Image.open restricted to the sniffed format, refused when width x height (from the header,
    before any pixel is decoded) is over the limit."""
    limit = limits.max_image_pixels
    Image.MAX_IMAGE_PIXELS = limit  # process-wide; every caller sets the same configured value
    too_large = MediaError(
        "image_too_large", f'"{_shown(filename)}" has more than {limit:,} pixels, the limit.'
    )
    try:
        # Pillow raises over twice the limit and only warns between 1x and 2x; the size check below
        # refuses that band too, whether or not another thread has changed the warning filters.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(_Borrowed(file), formats=[_PILLOW_FORMATS[container]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise _invalid_image(filename, error) from None
    with image:
        width, height = image.size
        if width * height > limit:
            raise too_large
        yield image


class _Borrowed:
    """`file` lent to Pillow, which closes the file it read on Image.close(); ours stays open."""

    def __init__(self, file: BinaryIO):
        self._file = file

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._file.readline(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        pass


def _inspect_image(
    file: BinaryIO, container: str, limits: MediaLimits, filename: str
) -> tuple[int, int, int]:
    """(dHash, width, height) of a verified image."""
    try:
        with _open_image(file, container, limits, filename) as image:
            image.verify()
        file.seek(0)
        with _open_image(file, container, limits, filename) as image:
            return dhash(image), image.size[0], image.size[1]
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise _invalid_image(filename, error) from None


def _invalid_image(filename: str, error: BaseException) -> MediaError:
    detail = str(error).strip() or type(error).__name__
    return MediaError("image_invalid", f'"{_shown(filename)}" is not a valid image ({detail[:200]}).')


def _read_text(file: BinaryIO, size: int, limits: MediaLimits, filename: str) -> str:
    if size > limits.max_text_bytes:
        raise MediaError(
            "text_too_large",
            f'"{_shown(filename)}" is {size:,} bytes; a text file may have {limits.max_text_bytes:,}.',
        )
    raw = file.read(size + 1)
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode()
    except UnicodeDecodeError as error:
        raise MediaError(
            "text_invalid", f'"{_shown(filename)}" is not valid UTF-8 (byte offset {error.start}).'
        ) from None
    reason = check_text(text)
    if reason:
        raise MediaError("text_invalid", f'"{_shown(filename)}" {reason}.')
    return text
