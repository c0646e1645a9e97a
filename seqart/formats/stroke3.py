"""Stroke formats and their converters (after sketch-rnn, Ha & Eck 2017).

* stroke-3: rows `(dx, dy, lifted)`; `lifted` is 1 on the last point of a
  stroke. Offsets are in the source's units (pixels, font units, mm).
* stroke-5: rows `(dx, dy, p1, p2, p3)`; p1 = pen stays down after this
  point, p2 = pen lifts after it, p3 = the drawing has ended.
* seqart's stroke Clip: channels `(dx, dy, pen)` where `pen` is the stroke-5
  one-hot as a class index: 0 down, 1 lifted, 2 end. Every clip ends with one
  `(0, 0, 2)` frame, so the model learns when a drawing is finished.

The readers in `seqart.formats` build clips with these; the strokes codec
(`seqart.codecs.strokes`) imports them from here, never the other way round.
"""

from __future__ import annotations

import numpy as np
from simplification.cutil import simplify_coords_idx

from seqart.clip import Clip

CHANNELS = ("dx", "dy", "pen")
PEN_DOWN, PEN_UP, PEN_END = 0, 1, 2


def stroke3_to_clip(s3: np.ndarray, rate: float = 60.0, **meta) -> Clip:
    """(N, 3) stroke-3 -> stroke Clip with an end frame appended."""
    s3 = np.asarray(s3, dtype=np.float32).reshape(-1, 3)
    pen = (s3[:, 2] > 0.5).astype(np.float32)
    frames = np.concatenate([np.column_stack([s3[:, :2], pen]), [[0.0, 0.0, PEN_END]]])
    return Clip(frames, CHANNELS, "strokes", fps=rate, meta=dict(meta))


def clip_to_stroke3(clip: Clip) -> np.ndarray:
    """Stroke Clip -> (N, 3) stroke-3, cut at the first end frame."""
    f = clip.frames
    ends = np.flatnonzero(f[:, 2] >= PEN_END - 0.5)
    if len(ends):
        f = f[: ends[0]]
    return np.column_stack([f[:, :2], (f[:, 2] > 0.5).astype(np.float32)])


def stroke3_to_stroke5(s3: np.ndarray, max_len: int | None = None) -> np.ndarray:
    """(N, 3) -> (max_len or N+1, 5), padded with end rows as sketch-rnn does."""
    n = len(s3)
    out = np.zeros((max(max_len or 0, n + 1), 5), np.float32)
    out[:n, :2] = s3[:, :2]
    out[:n, 3] = s3[:, 2]
    out[:n, 2] = 1 - s3[:, 2]
    out[n:, 4] = 1
    return out


def stroke5_to_stroke3(s5: np.ndarray) -> np.ndarray:
    ends = np.flatnonzero(s5[:, 4] > 0.5)
    s5 = s5[: ends[0]] if len(ends) else s5
    return np.column_stack([s5[:, :2], s5[:, 3]]).astype(np.float32)


def strokes_to_stroke3(strokes: list[np.ndarray]) -> np.ndarray:
    """Absolute polylines [(K, 2), ...] -> stroke-3 offsets (the first from the origin)."""
    pts = [np.asarray(s, np.float32).reshape(-1, 2) for s in strokes if len(s)]
    if not pts:
        return np.zeros((0, 3), np.float32)
    xy = np.concatenate(pts)
    lifted = np.concatenate([np.eye(1, len(p), len(p) - 1, dtype=np.float32)[0] for p in pts])
    d = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.float32))
    return np.column_stack([d, lifted]).astype(np.float32)


def stroke3_to_strokes(s3: np.ndarray, origin=(0.0, 0.0)) -> list[np.ndarray]:
    """stroke-3 -> absolute polylines [(K, 2), ...] (each starts where the pen lands)."""
    s3 = np.asarray(s3, np.float32)
    xy = np.cumsum(s3[:, :2], axis=0) + np.asarray(origin, np.float32)
    cuts = np.flatnonzero(s3[:, 2] > 0.5) + 1
    return [p for p in np.split(xy, cuts) if len(p)]


def rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Ramer-Douglas-Peucker simplification of one (K, 2) polyline -> (K', 2) float32."""
    return np.asarray(points, np.float32)[rdp_indices(points, epsilon)]


RDP_WINDOW = 512  # points: a longer polyline is simplified in windows this long (their ends kept)


def rdp_indices(points: np.ndarray, epsilon: float) -> np.ndarray:
    """The indices (K',) of the points RDP keeps, in order, so per-point timing can follow.

    RDP itself is `simplification`'s (Rust): it measures distance to the segment, not the
    infinite line, so a stroke that overshoots and doubles back keeps its tip. Among points
    equally far from a segment it keeps whichever float rounding makes farthest (not always
    the first). A polyline longer than `RDP_WINDOW` points is cut into windows whose ends are
    kept: RDP alone takes O(K^2) on a spiral, and the library recurses once per split level
    (up to K deep), which overflows the stack, a crash and not an error, on a 50,000-point
    zigzag, within `limits.stroke_points`. Windows bound both: O(K * RDP_WINDOW) time, and
    at most RDP_WINDOW levels.
    """
    points = np.ascontiguousarray(points, np.float64)  # (K, 2); the library takes C-ordered float64 only
    n = len(points)
    if n < 3 or not epsilon > 0:
        return np.arange(n)
    epsilon = float(epsilon)
    if n <= RDP_WINDOW + 1:
        return simplify_coords_idx(points, epsilon).astype(np.intp)
    ends = np.r_[np.arange(0, n - 1, RDP_WINDOW), n - 1]  # window k spans ends[k]..ends[k+1], both kept
    kept = [simplify_coords_idx(points[a : b + 1], epsilon)[:-1].astype(np.intp) + a for a, b in zip(ends[:-1], ends[1:])]
    return np.concatenate([*kept, [n - 1]])
