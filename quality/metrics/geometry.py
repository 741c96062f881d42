"""Geometric similarity of boxes, polygons and keypoints, and box matching. Pure numpy/scipy.

- Boxes are `(x1, y1, x2, y2)` rows (`xywh_to_xyxy` converts); IoU is area(A & B) / area(A | B).
- Polygons are (k, 2) vertex arrays, simple (not self-intersecting), either orientation. The exact
  intersection area uses the fan decomposition: with triangles T_i = (O, p_i, p_i+1) from a common
  origin O and signed areas s_i, the indicator of a polygon is sum_i sign(s_i) 1[T_i] almost
  everywhere, so area(P & Q) = sum_ij sign(s_i) sign(t_j) area(T_i & U_j). Each triangle-triangle
  intersection is convex clipping (Sutherland-Hodgman), done for all n x m pairs at once in numpy.
- Keypoint similarity is COCO's OKS: mean over the reference's labelled keypoints of
  exp(-d^2 / (2 s^2 k^2)) with s^2 the object area and k = 2 sigma the per-keypoint constant.
"""

import numpy as np

from .matching import PRF, match

# COCO's per-keypoint sigmas for the 17 person keypoints (nose, eyes, ears, shoulders, ...).
COCO_PERSON_SIGMAS = (
    np.array(
        [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
    )
    / 10.0
)


def xywh_to_xyxy(boxes) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.column_stack((boxes[:, 0], boxes[:, 1], boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]))


def box_iou_matrix(a, b) -> np.ndarray:
    """(n, m) IoU of xyxy boxes; 0 where the union is empty."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def polygon_area(polygon) -> float:
    """Unsigned area by the shoelace formula."""
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    return abs(float(np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1]))) / 2


def _cross(o, a, b):
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (
        b[..., 0] - o[..., 0]
    )


def _clip_half_plane(poly, count, a, b):
    """Clip convex polygons (K, M, 2) with `count` vertices each to the left of the edges a -> b (K, 2)."""
    k, m, _ = poly.shape
    idx = np.arange(m)
    valid = idx[None, :] < count[:, None]
    prev_idx = np.where(idx[None, :] == 0, count[:, None] - 1, idx[None, :] - 1)
    prev_idx = np.maximum(prev_idx, 0)
    cur = poly
    prev = np.take_along_axis(poly, prev_idx[:, :, None], axis=1)
    side_cur = _cross(a[:, None, :], b[:, None, :], cur)
    side_prev = _cross(a[:, None, :], b[:, None, :], prev)
    in_cur = (side_cur >= 0) & valid
    in_prev = (side_prev >= 0) & valid
    crossing = (in_cur != in_prev) & valid
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(crossing, side_prev / (side_prev - side_cur), 0.0)
    point = prev + t[:, :, None] * (cur - prev)
    emitted = crossing.astype(np.int64) + in_cur.astype(np.int64)
    start = np.cumsum(emitted, axis=1) - emitted
    out = np.zeros((k, m + 1, 2))
    rows = np.broadcast_to(np.arange(k)[:, None], (k, m))
    out[rows[crossing], start[crossing]] = point[crossing]
    pos_cur = start + crossing
    out[rows[in_cur], pos_cur[in_cur]] = cur[in_cur]
    return out, emitted.sum(axis=1)


def _area_of(poly, count):
    m = poly.shape[1]
    idx = np.arange(m)
    nxt = np.where(idx[None, :] + 1 >= count[:, None], 0, idx[None, :] + 1)
    nxt_pts = np.take_along_axis(poly, nxt[:, :, None], axis=1)
    terms = poly[:, :, 0] * nxt_pts[:, :, 1] - nxt_pts[:, :, 0] * poly[:, :, 1]
    terms = np.where(idx[None, :] < count[:, None], terms, 0.0)
    return terms.sum(axis=1) / 2


def _fan(polygon, origin):
    """Positively oriented fan triangles (t, 3, 2) of the polygon around `origin`, and their signs."""
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    q = np.roll(p, -1, axis=0)
    o = np.broadcast_to(origin, p.shape)
    signed = _cross(o, p, q)
    keep = signed != 0
    p, q, o, signed = p[keep], q[keep], o[keep], signed[keep]
    positive = signed > 0
    first = np.where(positive[:, None], p, q)
    second = np.where(positive[:, None], q, p)
    return np.stack((o, first, second), axis=1), np.sign(signed)


def polygon_intersection_area(p, q) -> float:
    """Exact area of the intersection of two simple polygons (module docstring)."""
    p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
    q = np.asarray(q, dtype=np.float64).reshape(-1, 2)
    if len(p) < 3 or len(q) < 3:
        return 0.0
    lo = np.maximum(p.min(axis=0), q.min(axis=0))
    hi = np.minimum(p.max(axis=0), q.max(axis=0))
    if (lo >= hi).any():
        return 0.0
    origin = (np.minimum(p.min(axis=0), q.min(axis=0)) + np.maximum(p.max(axis=0), q.max(axis=0))) / 2
    # Work relative to the origin: smaller numbers, smaller rounding errors.
    tri_p, sign_p = _fan(p - origin, np.zeros(2))
    tri_q, sign_q = _fan(q - origin, np.zeros(2))
    if len(tri_p) == 0 or len(tri_q) == 0:
        return 0.0
    # Only triangle pairs whose bounding boxes overlap can intersect.
    lo_p, hi_p, lo_q, hi_q = tri_p.min(axis=1), tri_p.max(axis=1), tri_q.min(axis=1), tri_q.max(axis=1)
    overlap = np.all(
        (np.minimum(hi_p[:, None], hi_q[None, :]) > np.maximum(lo_p[:, None], lo_q[None, :])), axis=-1
    )
    i, j = np.nonzero(overlap)
    if len(i) == 0:
        return 0.0
    poly = np.zeros((len(i), 6, 2))
    poly[:, :3] = tri_p[i]
    clipper = tri_q[j]
    count = np.full(len(i), 3)
    for e in range(3):
        poly, count = _clip_half_plane(poly, count, clipper[:, e], clipper[:, (e + 1) % 3])
        poly = poly[:, :6]  # a triangle clipped by a triangle has at most 6 vertices
    area = _area_of(poly, count)
    return abs(float(np.sum(area * sign_p[i] * sign_q[j])))


def polygon_iou(p, q) -> float:
    inter = polygon_intersection_area(p, q)
    union = polygon_area(p) + polygon_area(q) - inter
    return inter / union if union > 0 else 0.0


def polygon_iou_matrix(a: list, b: list) -> np.ndarray:
    """(n, m) IoU between two lists of polygons; pairs with disjoint bounding boxes are 0 without clipping."""
    boxes_a = np.array([[*np.min(p, axis=0), *np.max(p, axis=0)] for p in a]).reshape(-1, 4)
    boxes_b = np.array([[*np.min(p, axis=0), *np.max(p, axis=0)] for p in b]).reshape(-1, 4)
    out = np.zeros((len(a), len(b)))
    touching = box_iou_matrix(boxes_a, boxes_b) > 0
    for i, j in zip(*np.nonzero(touching), strict=True):
        out[i, j] = polygon_iou(a[i], b[j])
    return out


def oks(reference, other, area: float, sigmas=COCO_PERSON_SIGMAS) -> float:
    """Object keypoint similarity of `other` to `reference` (each (K, 3): x, y, visibility; or (K, 2)).

    Averages over the reference's labelled keypoints (v > 0); a keypoint `other` did not label
    (v = 0) counts as 0. NaN when the reference labels none.
    """
    return float(
        oks_matrix(np.asarray(reference)[None], np.asarray(other)[None], np.array([area]), sigmas)[0, 0]
    )


def oks_matrix(references, others, areas, sigmas=COCO_PERSON_SIGMAS) -> np.ndarray:
    """(n, m) OKS between n reference instances (n, K, 2|3) with `areas` (n,) and m other instances."""
    ref = np.asarray(references, dtype=np.float64)
    oth = np.asarray(others, dtype=np.float64)
    k = ref.shape[1]
    ref_v = ref[:, :, 2] > 0 if ref.shape[2] > 2 else np.ones(ref.shape[:2], dtype=bool)
    oth_v = oth[:, :, 2] > 0 if oth.shape[2] > 2 else np.ones(oth.shape[:2], dtype=bool)
    sigmas = np.broadcast_to(np.asarray(sigmas, dtype=np.float64), (k,))
    variance = (2 * sigmas) ** 2
    d2 = ((ref[:, None, :, :2] - oth[None, :, :, :2]) ** 2).sum(axis=-1)  # (n, m, K)
    area = np.asarray(areas, dtype=np.float64)[:, None, None]
    e = d2 / variance / (area + np.spacing(1)) / 2
    similarity = np.where(oth_v[None, :, :], np.exp(-e), 0.0)
    labelled = ref_v[:, None, :]
    counted = labelled.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counted > 0, (similarity * labelled).sum(axis=-1) / counted, np.nan)


def match_boxes(
    a, b, *, threshold: float = 0.5, labels_a=None, labels_b=None
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal one-to-one matching of xyxy boxes at IoU >= threshold (same label when labels are given)."""
    iou = box_iou_matrix(a, b)
    if labels_a is not None and labels_b is not None:
        iou = np.where(np.asarray(labels_a)[:, None] == np.asarray(labels_b)[None, :], iou, 0.0)
    return match(iou, threshold, strict=threshold == 0)


def box_prf(a, b, *, threshold: float = 0.5, labels_a=None, labels_b=None) -> PRF:
    """Precision/recall/F1 of boxes `b` against boxes `a` after `match_boxes`."""
    rows, _ = match_boxes(a, b, threshold=threshold, labels_a=labels_a, labels_b=labels_b)
    return PRF(len(rows), len(np.asarray(a).reshape(-1, 4)), len(np.asarray(b).reshape(-1, 4)))


def polygon_prf(a: list, b: list, *, threshold: float = 0.5, labels_a=None, labels_b=None) -> PRF:
    iou = polygon_iou_matrix(a, b)
    if labels_a is not None and labels_b is not None:
        iou = np.where(np.asarray(labels_a)[:, None] == np.asarray(labels_b)[None, :], iou, 0.0)
    rows, _ = match(iou, threshold, strict=threshold == 0)
    return PRF(len(rows), len(a), len(b))


def keypoint_prf(references, others, areas, *, threshold: float = 0.5, sigmas=COCO_PERSON_SIGMAS) -> PRF:
    """Match keypoint instances by OKS >= threshold and count them."""
    similarity = np.nan_to_num(oks_matrix(references, others, areas, sigmas))
    rows, _ = match(similarity, threshold, strict=threshold == 0)
    return PRF(len(rows), len(references), len(others))
