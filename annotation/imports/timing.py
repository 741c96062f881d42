"""How long an audio or video file is, and how many frames a video has, read from its headers.

Pure Python on purpose: these files are uploads from anyone, and a parser in native code (ffmpeg)
is a larger attack surface than reading a few header fields. Nothing is decoded.

- **Audio** (MP3, Ogg Vorbis/Opus, FLAC, M4A, and WAV when the stdlib cannot): `mutagen`, the
  well-kept pure-Python tag and stream-info library (`info.length`).
- **MP4 / MOV / M4V video**: our own reader of the ISO base media file format (ISO/IEC 14496-12),
  because no pure-Python library reports frame counts: the first track whose handler is `vide`
  gives the duration (`mdhd` duration / timescale) and the frame count (the sample counts of its
  `stts` table), so the labeling page knows the real frame rate instead of assuming 25 fps.
  Tested against PyAV (ffmpeg) as an oracle on files PyAV writes.
- **WebM and Ogg video**: not read (duration unknown; the labeling page falls back to the player).

Every reader returns None for what it cannot tell, and never raises on malformed input.
"""

from __future__ import annotations

import math
import struct
from typing import BinaryIO

MAX_MOOV_BYTES = 64 * 1024 * 1024  # a movie header larger than this is not read (hours of video are ~10 MB)


def media_timing(file: BinaryIO, media_type: str, container: str) -> tuple[float | None, int | None]:
    """(duration in seconds, frame count) of an audio or video file; None for what is not known."""
    try:
        if media_type == "video" and container == "isobmff":
            return _isobmff_video(file)
        if media_type == "audio":
            return _audio_length(file), None
    except Exception:  # a parser must never turn a strange file into a failed import
        return None, None
    return None, None


def _seconds(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return round(float(value), 3)


def _audio_length(file: BinaryIO) -> float | None:
    import mutagen

    file.seek(0)
    found = mutagen.File(file)
    if found is None or getattr(found, "info", None) is None:
        return None
    return _seconds(getattr(found.info, "length", None))


# --- ISO base media file format (MP4, MOV, M4V) --------------------------------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, payload end) of each box in data[start:end]; stops at a malformed one."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                return
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def _read_moov(file: BinaryIO) -> bytes | None:
    """The `moov` box's bytes, found by walking the top-level boxes (it may come after the media)."""
    file.seek(0, 2)
    total = file.tell()
    at = 0
    while at + 8 <= total:
        file.seek(at)
        head = file.read(16)
        if len(head) < 8:
            return None
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:
            if len(head) < 16:
                return None
            (size,) = struct.unpack_from(">Q", head, 8)
            header = 16
        elif size == 0:
            size = total - at
        if size < header:
            return None
        if kind == b"moov":
            if size > MAX_MOOV_BYTES:
                return None
            file.seek(at)
            data = file.read(size)
            return data if len(data) == size else None
        at += size
    return None


def _find(data: bytes, start: int, end: int, path: tuple[bytes, ...]) -> tuple[int, int] | None:
    for kind, payload, stop in _boxes(data, start, end):
        if kind == path[0]:
            return (payload, stop) if len(path) == 1 else _find(data, payload, stop, path[1:])
    return None


def _track_timing(data: bytes, start: int, end: int) -> tuple[str, float | None, int | None] | None:
    mdia = _find(data, start, end, (b"mdia",))
    if mdia is None:
        return None
    hdlr = _find(data, *mdia, (b"hdlr",))
    handler = data[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1") if hdlr and hdlr[1] - hdlr[0] >= 12 else ""
    duration = None
    mdhd = _find(data, *mdia, (b"mdhd",))
    if mdhd is not None:
        version = data[mdhd[0]]
        if version == 1 and mdhd[1] - mdhd[0] >= 32:
            timescale, length = struct.unpack_from(">IQ", data, mdhd[0] + 20)
        elif version == 0 and mdhd[1] - mdhd[0] >= 20:
            timescale, length = struct.unpack_from(">II", data, mdhd[0] + 12)
        else:
            timescale = length = 0
        if timescale and length not in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
            duration = _seconds(length / timescale)
    frames = None
    stts = _find(data, *mdia, (b"minf", b"stbl", b"stts"))
    if stts is not None and stts[1] - stts[0] >= 8:
        (count,) = struct.unpack_from(">I", data, stts[0] + 4)
        if 8 + 8 * count <= stts[1] - stts[0]:
            frames = sum(struct.unpack_from(f">{2 * count}I", data, stts[0] + 8)[0::2]) or None
    return handler, duration, frames


def _isobmff_video(file: BinaryIO) -> tuple[float | None, int | None]:
    moov = _read_moov(file)
    if moov is None:
        return None, None
    fallback = None
    for kind, payload, stop in _boxes(moov, 8):  # the moov box's children
        if kind != b"trak":
            continue
        timing = _track_timing(moov, payload, stop)
        if timing is None:
            continue
        handler, duration, frames = timing
        if handler == "vide":
            return duration, frames
    mvhd = _find(moov, 8, len(moov), (b"mvhd",))  # no video track: the movie's own duration
    if mvhd is not None:
        version, size = moov[mvhd[0]], mvhd[1] - mvhd[0]
        if version == 1 and size >= 32:
            timescale, length = struct.unpack_from(">IQ", moov, mvhd[0] + 20)
        elif version == 0 and size >= 20:
            timescale, length = struct.unpack_from(">II", moov, mvhd[0] + 12)
        else:
            timescale = length = 0
        fallback = _seconds(length / timescale) if timescale else None
    return fallback, None
