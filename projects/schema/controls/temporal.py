"""Time-based controls: audio and video segments, video boxes (tracks).

Pure Python, no Django imports."""

from __future__ import annotations

from .base import EPSILON, LABELS, Control, Issue, is_number, number_issue
from .image import check_box, image_size
from .text import overlaps


class _Segments(Control):
    options = {"labels": LABELS, "allow_overlap": {"type": "boolean"}}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        duration = ctx.media.get("duration")
        duration = duration if is_number(duration) else None
        intervals = []
        for i, where, segment in self.each_object(value, path, ("start", "end", "label"), issues):
            issues += self.check_label(control, segment["label"], f"{where}.label", ctx)
            bad = number_issue(segment, "start", where) + number_issue(segment, "end", where)
            if bad:
                issues += bad
                continue
            start, end = segment["start"], segment["end"]
            if start < 0:
                issues.append(Issue(f"{where}.start", "out_of_bounds", "start must be at least 0."))
            elif end <= start:
                issues.append(Issue(f"{where}.end", "empty_range", "end must be greater than start."))
            elif duration is not None and end > duration + EPSILON:
                issues.append(Issue(f"{where}.end", "out_of_bounds", f"end must be at most {duration} s."))
            else:
                intervals.append((start, end, i))
        if not control.get("allow_overlap"):
            for i in overlaps(intervals):
                issues.append(Issue(f"{path}[{i}]", "overlap", "Segments may not overlap in this control."))
        return issues


class AudioSegments(_Segments):
    type = "audio_segments"
    field_types = frozenset({"audio"})


class VideoSegments(_Segments):
    type = "video_segments"
    field_types = frozenset({"video"})


class VideoBBox(Control):
    type = "video_bbox"
    field_types = frozenset({"video"})
    options = {"labels": LABELS}
    required_options = ("labels",)

    def check_answer(self, control, value, path, ctx):
        issues = self.check_list(value, path)
        if issues:
            return issues
        size = image_size(ctx)
        frame_count = ctx.media.get("frame_count")
        frame_count = (
            frame_count if isinstance(frame_count, int) and not isinstance(frame_count, bool) else None
        )
        ids = set()
        for _, where, track in self.each_object(value, path, ("id", "label", "frames"), issues):
            if track["id"] in ids:
                issues.append(Issue(f"{where}.id", "duplicate_id", f"The id {track['id']!r} is used twice."))
            ids.add(str(track["id"]))
            issues += self.check_label(control, track["label"], f"{where}.label", ctx)
            frames = track["frames"]
            found = self.check_list(frames, f"{where}.frames")
            if found or not frames:
                issues += found or [Issue(f"{where}.frames", "wrong_size", "A track has at least one frame.")]
                continue
            seen = set()
            for j, box in enumerate(frames):
                at = f"{where}.frames[{j}]"
                found = self.check_object(box, at, ("frame", "x", "y", "width", "height"))
                if found:
                    issues += found
                    continue
                frame = box["frame"]
                if not isinstance(frame, int) or isinstance(frame, bool):
                    issues.append(Issue(f"{at}.frame", "wrong_type", "frame is an integer index."))
                    continue
                if frame < 0 or (frame_count is not None and frame >= frame_count):
                    limit = f" and below {frame_count}" if frame_count is not None else ""
                    issues.append(Issue(f"{at}.frame", "out_of_bounds", f"frame must be at least 0{limit}."))
                elif frame in seen:
                    issues.append(Issue(f"{at}.frame", "duplicate_frame", f"Frame {frame} has two boxes."))
                seen.add(frame)
                issues += check_box(box, at, size)
        return issues
