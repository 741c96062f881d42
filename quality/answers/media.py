"""Adapters of the image, audio and video controls: boxes, polygons, keypoints, segments and video
tracks. Pure Python + numpy/scipy."""

from __future__ import annotations

from typing import Any

import numpy as np

from quality.consensus.geometry import box_consensus
from quality.metrics.geometry import (
    COCO_PERSON_SIGMAS,
    box_prf,
    oks_matrix,
    polygon_iou_matrix,
    polygon_prf,
    xywh_to_xyxy,
)
from quality.metrics.matching import match, segment_prf, temporal_agreement

from .base import (
    BaseAdapter,
    coverage_runs,
    is_empty,
    is_int,
    is_number,
    is_scalar_id,
    label_set,
    label_values,
    weighted_median,
    weighted_vote,
)

IOU_THRESHOLD = 0.5  # boxes, polygons, segments (score) and keypoint instances (OKS) match at 0.5


def _num(value: float) -> int | float:
    """A coordinate for JSON: integral values as int."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _codes(*label_lists: list[str]) -> list[np.ndarray]:
    code: dict[str, int] = {}
    return [
        np.array([code.setdefault(label, len(code)) for label in labels], dtype=np.int64)
        for labels in label_lists
    ]


def _allowed(control: dict) -> set[str] | None:
    return label_set(control) or None


def _box(entry: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(entry, dict):
        return None
    x, y, w, h = (entry.get(k) for k in ("x", "y", "width", "height"))
    if all(is_number(v) for v in (x, y, w, h)) and w > 0 and h > 0:
        return float(x), float(y), float(w), float(h)
    return None


Box = tuple[float, float, float, float, str]  # x, y, width, height, label


def box_f1(a: list[Box], b: list[Box]) -> float:
    """Label-aware box F1 at IoU >= 0.5 (1.0 when both are empty)."""
    la, lb = _codes([box[4] for box in a], [box[4] for box in b])
    xa = xywh_to_xyxy([box[:4] for box in a])
    xb = xywh_to_xyxy([box[:4] for box in b])
    return box_prf(xa, xb, threshold=IOU_THRESHOLD, labels_a=la, labels_b=lb).f1


def fuse_boxes(
    groups: list[list[Box]], weights: np.ndarray, fuse: str = "median"
) -> tuple[list[tuple[Box, int]], np.ndarray]:
    """box_consensus over one item's (or frame's) boxes, one group per answer. Returns the kept boxes
    with their index in box_consensus's output, and, per input box (groups concatenated), that
    index or -1 (`BoxConsensus.cluster`)."""
    boxes = [box for group in groups for box in group]
    annotator = [i for i, group in enumerate(groups) for _ in group]
    if not boxes:
        return [], np.zeros(0, dtype=np.int64)
    names = sorted({box[4] for box in boxes})
    code = {name: i for i, name in enumerate(names)}
    found = box_consensus(
        xywh_to_xyxy([box[:4] for box in boxes]),
        annotator,
        [code[box[4]] for box in boxes],
        threshold=IOU_THRESHOLD,
        weights=weights,
        min_support=float(weights.sum()) / 2 + 1e-9,
        fuse=fuse,
    )
    out = []
    for k, (x1, y1, x2, y2) in enumerate(found.boxes.tolist()):
        if x2 > x1 and y2 > y1:
            out.append(((x1, y1, x2 - x1, y2 - y1, names[int(found.labels[k])]), k))
    return out, found.cluster


def _box_answer(box: Box) -> dict:
    x, y, w, h, label = box
    return {"x": _num(x), "y": _num(y), "width": _num(w), "height": _num(h), "label": label}


class BBoxAdapter(BaseAdapter):
    """Similarity and score: label-aware box F1 at IoU >= 0.5. Consensus: `box_consensus` (cluster
    by IoU, keep clusters with more than half of the weight, coordinate-wise weighted median, or mean
    with box_cluster_mean)."""

    type = "bbox"
    methods = ("box_cluster", "box_cluster_mean")
    empty_answer: Any = []

    def parse(self, answer, control):
        if is_empty(answer):
            return []
        if not isinstance(answer, list):
            return None
        allowed = _allowed(control)
        out = []
        for entry in answer:
            box = _box(entry)
            label = entry.get("label") if isinstance(entry, dict) else None
            if box and isinstance(label, str) and (allowed is None or label in allowed):
                out.append((*box, label))
        return out

    def _sim(self, a, b, control, media):
        return box_f1(a, b)

    def _consensus(self, parsed, weights, control, method, media):
        boxes, _ = fuse_boxes(parsed, weights, "mean" if method == "box_cluster_mean" else "median")
        return [_box_answer(box) for box, _ in boxes]


# ---------------------------------------------------------------------------------------------
# Polygons

Poly = tuple[tuple[tuple[float, float], ...], str]


def _polygon_points(points: Any) -> tuple[tuple[float, float], ...] | None:
    if not isinstance(points, list) or len(points) < 3:
        return None
    out = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) != 2 or not all(is_number(v) for v in point):
            return None
        out.append((float(point[0]), float(point[1])))
    area = sum(out[j - 1][0] * out[j][1] - out[j][0] * out[j - 1][1] for j in range(len(out)))
    return tuple(out) if abs(area) / 2 > 1e-9 else None


def _polygon_iou(a: list[Poly], b: list[Poly]) -> np.ndarray:
    iou = polygon_iou_matrix([np.array(p[0]) for p in a], [np.array(p[0]) for p in b])
    same = np.array([[pa[1] == pb[1] for pb in b] for pa in a], dtype=bool).reshape(len(a), len(b))
    return np.where(same, iou, 0.0)


class PolygonAdapter(BaseAdapter):
    """Similarity and score: label-aware polygon F1 at IoU >= 0.5 (exact polygon IoU, Hungarian
    matching). Consensus: polygons clustered like boxes; each cluster with more than half of the
    weight gives its medoid polygon (the member with the largest weighted IoU to the others)."""

    type = "polygon"
    methods = ("polygon_medoid",)
    empty_answer: Any = []

    def parse(self, answer, control):
        if is_empty(answer):
            return []
        if not isinstance(answer, list):
            return None
        allowed = _allowed(control)
        out = []
        for entry in answer:
            if not isinstance(entry, dict):
                continue
            points, label = _polygon_points(entry.get("points")), entry.get("label")
            if points and isinstance(label, str) and (allowed is None or label in allowed):
                out.append((points, label))
        return out

    def _sim(self, a, b, control, media):
        if not a and not b:
            return 1.0
        la, lb = _codes([p[1] for p in a], [p[1] for p in b])
        return polygon_prf(
            [np.array(p[0]) for p in a],
            [np.array(p[0]) for p in b],
            threshold=IOU_THRESHOLD,
            labels_a=la,
            labels_b=lb,
        ).f1

    def _consensus(self, parsed, weights, control, method, media):
        clusters = cluster_instances(parsed, weights, _polygon_iou)
        out = []
        for members in clusters:
            polygons = [parsed[i][j] for i, j in members]
            w = np.array([weights[i] for i, _ in members])
            iou = _polygon_iou(polygons, polygons)
            best = int(np.argmax(iou @ w + w * 1e-9))
            points, label = polygons[best]
            out.append({"points": [[_num(x), _num(y)] for x, y in points], "label": label})
        return out


def cluster_instances(parsed: list[list], weights: np.ndarray, similarity) -> list[list[tuple[int, int]]]:
    """Group one item's instances across answers (as box_consensus does for boxes): answers in order
    of instance count, each one's instances matched one-to-one (similarity >= 0.5) to the clusters'
    first members; unmatched instances open clusters. Returns the clusters backed by more than half
    of the weight, as lists of (answer index, instance index)."""
    clusters: list[list[tuple[int, int]]] = []
    for i in sorted(range(len(parsed)), key=lambda k: (-len(parsed[k]), k)):
        mine = parsed[i]
        if not mine:
            continue
        if clusters:
            seeds = [parsed[a][b] for a, b in (c[0] for c in clusters)]
            rows, cols = match(similarity(mine, seeds), IOU_THRESHOLD)
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            clusters[c].append((i, r))
        for r in sorted(set(range(len(mine))) - set(rows.tolist())):
            clusters.append([(i, r)])
    half = float(weights.sum()) / 2
    return [c for c in clusters if sum(weights[i] for i, _ in c) > half + 1e-12]


# ---------------------------------------------------------------------------------------------
# Keypoints

COCO_PERSON_NAMES = (  # the order of COCO_PERSON_SIGMAS
    *("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder"),
    *("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip"),
    *("left_knee", "right_knee", "left_ankle", "right_ankle"),
)
DEFAULT_SIGMA = float(np.mean(COCO_PERSON_SIGMAS))  # keypoints that are not COCO's person keypoints
MIN_AREA = 32.0**2  # object scale floor (COCO's "small" objects) for OKS: a few points span no area

Instance = tuple[Any, np.ndarray, frozenset]  # label, (K, 3) x y visibility, names listed explicitly


def keypoint_names(control: dict) -> list[str]:
    return label_values(control, "keypoints") or []


def keypoint_sigmas(names: list[str]) -> np.ndarray:
    coco = dict(zip(COCO_PERSON_NAMES, COCO_PERSON_SIGMAS.tolist(), strict=True))
    return np.array([coco.get(name, DEFAULT_SIGMA) for name in names])


def _area(points: np.ndarray) -> float:
    visible = points[points[:, 2] > 0]
    if len(visible) == 0:
        return MIN_AREA
    span = visible[:, :2].max(axis=0) - visible[:, :2].min(axis=0)
    return max(float(span[0] * span[1]), MIN_AREA)


def symmetric_oks(a: list[Instance], b: list[Instance], sigmas: np.ndarray) -> np.ndarray:
    """(n, m) mean of OKS(a -> b) and OKS(b -> a), each with the reference's scale; 0 across labels;
    1 for two instances of one label that both position no keypoint."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    pa, pb = np.stack([x[1] for x in a]), np.stack([x[1] for x in b])
    forward = oks_matrix(pa, pb, [_area(p) for p in pa], sigmas)
    backward = oks_matrix(pb, pa, [_area(p) for p in pb], sigmas).T
    sim = np.nan_to_num((np.nan_to_num(forward) + np.nan_to_num(backward)) / 2)
    none_a, none_b = (pa[:, :, 2] == 0).all(axis=1), (pb[:, :, 2] == 0).all(axis=1)
    sim = np.where(none_a[:, None] & none_b[None, :], 1.0, sim)
    same = np.array([[x[0] == y[0] for y in b] for x in a], dtype=bool)
    return np.where(same, sim, 0.0)


class KeypointsAdapter(BaseAdapter):
    """Similarity and score: instances matched one-to-one by symmetric OKS (COCO's formula; COCO's
    sigmas for COCO person keypoint names, their mean otherwise; scale = the bounding box of the
    labelled points, at least 32 x 32 px), then 2 * sum of matched OKS / (n_a + n_b). Consensus:
    instances clustered at OKS >= 0.5; clusters with more than half of the weight give one instance:
    per keypoint the weighted majority visibility and the weighted median position."""

    type = "keypoints"
    methods = ("keypoint_cluster",)
    empty_answer: Any = []

    def parse(self, answer, control):
        if is_empty(answer):
            return []
        if not isinstance(answer, list):
            return None
        names = keypoint_names(control)
        index = {name: k for k, name in enumerate(names)}
        allowed = _allowed(control)
        out = []
        for entry in answer:
            if not isinstance(entry, dict) or not isinstance(entry.get("points"), list):
                continue
            label = entry.get("label")
            if allowed is not None and (not isinstance(label, str) or label not in allowed):
                continue
            points = np.zeros((len(names), 3))
            listed = set()
            for point in entry["points"]:
                if not isinstance(point, dict) or point.get("name") not in index or point["name"] in listed:
                    continue
                x, y, v = point.get("x"), point.get("y"), point.get("visibility")
                if is_number(x) and is_number(y) and is_int(v) and v in (0, 1, 2):
                    points[index[point["name"]]] = (x, y, v)
                    listed.add(point["name"])
            if listed:
                out.append((label if allowed is not None else None, points, frozenset(listed)))
        return out

    def _matrix(self, control):
        sigmas = keypoint_sigmas(keypoint_names(control))
        return lambda a, b: symmetric_oks(a, b, sigmas)

    def _sim(self, a, b, control, media):
        if not a and not b:
            return 1.0
        sim = self._matrix(control)(a, b)
        rows, cols = match(sim, 0.0, strict=True)
        return 2 * float(sim[rows, cols].sum()) / (len(a) + len(b))

    def _consensus(self, parsed, weights, control, method, media):
        names = keypoint_names(control)
        out = []
        for members in cluster_instances(parsed, weights, self._matrix(control)):
            instances = [parsed[i][j] for i, j in members]
            w = np.array([weights[i] for i, _ in members])
            label, _ = weighted_vote([x[0] for x in instances], w)
            points = []
            for k, name in enumerate(names):
                vis = [int(x[1][k, 2]) for x in instances]
                v, _ = weighted_vote(vis, w, [2, 1, 0])
                if v > 0:
                    seen = np.array([x[1][k, 2] > 0 for x in instances])
                    xs = [x[1][k, 0] for x in instances]
                    ys = [x[1][k, 1] for x in instances]
                    x_, y_ = (weighted_median(np.array(c)[seen], w[seen]) for c in (xs, ys))
                    points.append({"name": name, "x": _num(x_), "y": _num(y_), "visibility": v})
                elif sum(wi for x, wi in zip(instances, w, strict=True) if name in x[2]) > w.sum() / 2:
                    points.append({"name": name, "x": 0, "y": 0, "visibility": 0})
            if points:
                out.append({**({"label": label} if label is not None else {}), "points": points})
        return out


# ---------------------------------------------------------------------------------------------
# Segments


Segment = tuple[float, float, str]


def _segments_coded(a: list[Segment], b: list[Segment]) -> tuple[np.ndarray, np.ndarray]:
    la, lb = _codes([s[2] for s in a], [s[2] for s in b])
    return (
        np.column_stack((np.array([s[:2] for s in a]).reshape(-1, 2), la)).reshape(-1, 3),
        np.column_stack((np.array([s[:2] for s in b]).reshape(-1, 2), lb)).reshape(-1, 3),
    )


class SegmentsAdapter(BaseAdapter):
    """Similarity: temporal agreement (time both give the same label / time anyone labelled). Score:
    segment F1 at IoU >= 0.5, same label. Consensus: per label, the time covered by more than half of
    the weight, as maximal segments."""

    type = "audio_segments"
    methods = ("segment_coverage",)
    empty_answer: Any = []

    def parse(self, answer, control):
        if is_empty(answer):
            return []
        if not isinstance(answer, list):
            return None
        allowed = _allowed(control)
        out = set()
        for entry in answer:
            if not isinstance(entry, dict):
                continue
            start, end, label = entry.get("start"), entry.get("end"), entry.get("label")
            valid = is_number(start) and is_number(end) and 0 <= start < end and isinstance(label, str)
            if valid and (allowed is None or label in allowed):
                out.add((start, end, label))
        return sorted(out)

    def _sim(self, a, b, control, media):
        return temporal_agreement(*_segments_coded(a, b))

    def _score(self, answer, reference, control, media):
        ref, ans = _segments_coded(reference, answer)
        return segment_prf(ref, ans, mode="overlap", min_iou=IOU_THRESHOLD).f1

    def _consensus(self, parsed, weights, control, method, media):
        half = float(weights.sum()) / 2
        out = []
        for label in sorted({s[2] for segments in parsed for s in segments}):
            intervals = [
                (s, e, i) for i, segments in enumerate(parsed) for s, e, lab in segments if lab == label
            ]
            out += [
                {"start": s, "end": e, "label": label} for s, e in coverage_runs(intervals, weights, half)
            ]
        return sorted(out, key=lambda seg: (seg["start"], seg["end"], seg["label"]))


class AudioSegmentsAdapter(SegmentsAdapter):
    type = "audio_segments"


class VideoSegmentsAdapter(SegmentsAdapter):
    type = "video_segments"


# ---------------------------------------------------------------------------------------------
# Video tracks

Track = tuple[Any, str, dict[int, tuple[float, float, float, float]]]  # id, label, frame -> box


class VideoBBoxAdapter(BaseAdapter):
    """Similarity and score: label-aware box F1 at IoU >= 0.5 on every frame either answer has a box
    on, averaged over those frames (track ids are ignored). Consensus: `box_consensus` per frame; the
    consensus boxes are linked into tracks through the annotators' own tracks (two consensus boxes
    are one track when annotators with more than half of the weight followed them as one track)."""

    type = "video_bbox"
    methods = ("track_cluster",)
    empty_answer: Any = []

    def parse(self, answer, control):
        if is_empty(answer):
            return []
        if not isinstance(answer, list):
            return None
        allowed = _allowed(control)
        out = []
        for entry in answer:
            if not isinstance(entry, dict) or not isinstance(entry.get("frames"), list):
                continue
            label = entry.get("label")
            if not isinstance(label, str) or (allowed is not None and label not in allowed):
                continue
            frames: dict[int, tuple[float, float, float, float]] = {}
            for box in entry["frames"]:
                frame = box.get("frame") if isinstance(box, dict) else None
                coords = _box(box)
                if is_int(frame) and frame >= 0 and coords and frame not in frames:
                    frames[frame] = coords
            if frames:
                out.append((entry.get("id") if is_scalar_id(entry.get("id")) else len(out), label, frames))
        return out

    @staticmethod
    def _frame(tracks: list[Track], frame: int) -> list[Box]:
        return [(*t[2][frame], t[1]) for t in tracks if frame in t[2]]

    def _sim(self, a, b, control, media):
        frames = sorted({f for t in a for f in t[2]} | {f for t in b for f in t[2]})
        if not frames:
            return 1.0
        return float(np.mean([box_f1(self._frame(a, f), self._frame(b, f)) for f in frames]))

    def _consensus(self, parsed, weights, control, method, media):
        parent: dict = {}

        def find(node):
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        kept: list[tuple[int, Box, float]] = []  # frame, box, support
        last_seen: dict[tuple[int, int], int] = {}  # annotator track -> its latest consensus box
        links: dict[tuple[int, int], float] = {}  # (earlier box, later box) -> weight of tracks joining them
        for frame in sorted({f for tracks in parsed for t in tracks for f in t[2]}):
            groups, owners = [], []
            for i, tracks in enumerate(parsed):
                mine = [(k, t) for k, t in enumerate(tracks) if frame in t[2]]
                groups.append([(*t[2][frame], t[1]) for _, t in mine])
                owners += [(i, k) for k, _ in mine]
            boxes, cluster = fuse_boxes(groups, weights)
            for box, index in boxes:
                members = [owners[j] for j in np.flatnonzero(cluster == index).tolist()]
                here = len(kept)
                kept.append((frame, box, sum(weights[i] for i, _ in members)))
                for node in members:
                    if node in last_seen:
                        key = (last_seen[node], here)
                        links[key] = links.get(key, 0.0) + float(weights[node[0]])
                    last_seen[node] = here
        # Two consensus boxes are one track when more than half of the weight tracked them as one
        # object: a single annotator's identity switch does not merge two objects.
        half = float(weights.sum()) / 2
        for (earlier, later), weight in links.items():
            if weight > half + 1e-12:
                parent[find(later)] = find(earlier)
        tracks: dict = {}
        for k, (frame, box, support) in enumerate(kept):
            tracks.setdefault(find(k), {}).setdefault(frame, []).append((-support, box))
        out = []
        for frames in tracks.values():
            # Should two consensus boxes of one track share a frame, split them (strongest first).
            depth = max(len(v) for v in frames.values())
            for level in range(depth):
                chosen = {
                    f: sorted(v, key=lambda e: e[0])[level][1] for f, v in frames.items() if len(v) > level
                }
                label, _ = weighted_vote([b[4] for b in chosen.values()], np.ones(len(chosen)))
                out.append(
                    {
                        "id": f"t{len(out) + 1}",
                        "label": label,
                        "frames": [
                            {"frame": f, **{k: v for k, v in _box_answer(b).items() if k != "label"}}
                            for f, b in sorted(chosen.items())
                        ],
                    }
                )
        return out
