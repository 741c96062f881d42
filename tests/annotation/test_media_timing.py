"""annotation.imports.timing: durations and frame counts from headers, checked against PyAV (ffmpeg)
on files PyAV writes; malformed files give None, never an error; an upload records them."""

import io
from fractions import Fraction

import numpy as np
import pytest

from annotation.imports import media
from annotation.imports.timing import media_timing

av = pytest.importorskip("av")


def _video(container: str, codec: str, fps: int, frames: int, *, with_audio: bool = False) -> bytes:
    """A real video file: `frames` frames at `fps` (a colour ramp), optionally an audio track first."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as movie:
        if with_audio:
            sound = movie.add_stream("aac", rate=16000)
            sound.layout = "mono"
        stream = movie.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(frames):
            picture = np.full((48, 64, 3), (n * 5) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                movie.mux(packet)
        for packet in stream.encode():
            movie.mux(packet)
        if with_audio:
            samples = np.zeros((1, 16000), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 16000
            for packet in sound.encode(frame):
                movie.mux(packet)
            for packet in sound.encode():
                movie.mux(packet)
    return out.getvalue()


def _audio(container: str, codec: str, seconds: float, rate: int = 44100) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as file:
        stream = file.add_stream(codec, rate=rate)
        stream.layout = "mono"
        step = 1024
        total = int(seconds * rate)
        for start in range(0, total, step):
            n = min(step, total - start)
            tone = np.sin(np.arange(start, start + n) * 2 * np.pi * 440 / rate).astype(np.float32)[None, :]
            fmt = stream.codec_context.format.name  # what the encoder takes: fltp, s16, s32...
            if fmt.startswith("flt"):
                samples = tone
            else:
                kind = np.int16 if fmt.startswith("s16") else np.int32
                samples = (tone * np.iinfo(kind).max * 0.5).astype(kind)
            frame = av.AudioFrame.from_ndarray(samples, format=fmt, layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                file.mux(packet)
        for packet in stream.encode():
            file.mux(packet)
    return out.getvalue()


def _oracle_frames(body: bytes) -> tuple[int, float]:
    """What ffmpeg says: decoded frames of the video stream, and the stream's duration in seconds."""
    with av.open(io.BytesIO(body)) as movie:
        stream = movie.streams.video[0]
        frames = sum(1 for _ in movie.decode(stream))
        return frames, float(stream.duration * stream.time_base)


@pytest.mark.parametrize(
    ("container", "codec", "fps", "frames"),
    [("mp4", "mpeg4", 30, 45), ("mp4", "libx264", 24, 61), ("mov", "mpeg4", 25, 10)],
)
def test_video_duration_and_frames_match_ffmpeg(container, codec, fps, frames):
    body = _video(container, codec, fps, frames)
    oracle_frames, oracle_duration = _oracle_frames(body)

    duration, found = media_timing(io.BytesIO(body), "video", "isobmff")

    assert found == oracle_frames == frames
    assert duration == pytest.approx(oracle_duration, abs=0.002)
    assert found / duration == pytest.approx(fps, rel=0.01)  # the frame rate the labeling page will use


def test_the_video_track_is_found_after_an_audio_track():
    body = _video("mp4", "mpeg4", 30, 30, with_audio=True)

    duration, frames = media_timing(io.BytesIO(body), "video", "isobmff")

    assert frames == 30
    assert duration == pytest.approx(1.0, abs=0.002)


@pytest.mark.parametrize(
    ("container", "codec", "seconds"),
    [("mp3", "libmp3lame", 2.0), ("flac", "flac", 1.5), ("ogg", "libopus", 1.2), ("ipod", "aac", 2.5)],
)
def test_audio_durations_match_ffmpeg(container, codec, seconds):
    body = _audio(container, codec, seconds, rate=48000 if codec == "libopus" else 44100)
    with av.open(io.BytesIO(body)) as file:
        oracle = float(file.duration) / av.time_base if file.duration else seconds

    duration, frames = media_timing(io.BytesIO(body), "audio", container)

    assert frames is None
    assert duration == pytest.approx(oracle, abs=0.06)  # encoders pad a frame; MP3 rounds to frames
    assert duration == pytest.approx(seconds, abs=0.1)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",  # a header and nothing else
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x09moov\x00",  # a cut moov
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\xff\xff\xff\xffmoov",  # a size past the end
        b"\x00\x00\x00\x01moov\xff\xff\xff\xff\xff\xff\xff\xff",  # a 64-bit size past the end
        b"\x00\x00\x00\x10moov\x00\x00\x00\x08trak",  # an empty track
        bytes(range(256)) * 40,
    ],
)
def test_malformed_files_give_nothing_and_never_raise(body):
    assert media_timing(io.BytesIO(body), "video", "isobmff") == (None, None)
    assert media_timing(io.BytesIO(body), "audio", "mp3") == (None, None)


def test_a_truncated_real_video_gives_nothing():
    body = _video("mp4", "mpeg4", 30, 20)
    moov = body.find(b"moov")

    assert media_timing(io.BytesIO(body[: moov + 40]), "video", "isobmff") == (None, None)


def test_an_imported_video_records_its_duration_and_frame_count():
    body = _video("mp4", "mpeg4", 30, 45)
    limits = media.MediaLimits(max_bytes=10_000_000, max_image_pixels=10_000_000, max_text_bytes=1000)

    inspected = media.inspect(io.BytesIO(body), "clip.mp4", limits)

    data = media.media_data("clip.mp4", inspected)
    assert (data["media_type"], data["frame_count"]) == ("video", 45)
    assert data["duration"] == pytest.approx(1.5, abs=0.002)
