"""Pen strokes: sketches, handwriting and plotter drawings.

Formats, once, beside their converters (after sketch-rnn, Ha & Eck 2017):

* stroke-3: rows `(dx, dy, lifted)`; `lifted` is 1 on the last point of a
  stroke. Offsets are in the source's units (pixels, font units, mm).
* stroke-5: rows `(dx, dy, p1, p2, p3)`; p1 = pen stays down after this
  point, p2 = pen lifts after it, p3 = the drawing has ended.
* seqart's stroke Clip: channels `(dx, dy, pen)` where `pen` is the stroke-5
  one-hot as a class index: 0 down, 1 lifted, 2 end. Every clip ends with one
  `(0, 0, 2)` frame, so the model learns when a drawing is finished.

Dequantisation: most sketch data sits on an integer grid (pixels, font
units), and about a tenth of all offsets are exactly 0 on one axis, a
scaling that augmentation cannot move. A density can grow without bound on
such points: the NLL then rewards spikes at dx = 0 or dy = 0, and samples
fill with axis-aligned staircases. So offsets get uniform noise one source
unit wide (`dequantise`; Uria et al. 2013, Theis et al. 2016): fresh in
training, a fixed draw seeded by the clip's content elsewhere (evaluation,
priming), so NLLs are repeatable and bounded.

Time: a drawing has no clock of its own, so the clip carries a drawing rate
(`fps`, points per second, option `rate`) that the live engine plays at.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.codecs import register
from seqart.codecs.base import Codec, Norm
from seqart.errors import SeqartError
from seqart.layout import Categorical, Layout, Mixture

CHANNELS = ("dx", "dy", "pen")
PEN_DOWN, PEN_UP, PEN_END = 0, 1, 2
DEFAULTS = {
    "rate": 60.0,  # points per second when played live or animated
    "max_len": 250,  # sketch-rnn's Nmax: longer drawings are left out of training
    "scale_aug": 0.15,  # random per-axis scale in [1 - a, 1 + a]
    "drop_prob": 0.10,  # chance of merging a pen-down point into the next
    "rdp_epsilon": 2.0,  # simplification for SVG and raw ndjson input, in source units
    "dequantise": 1.0,  # width of the uniform noise on offsets, in source units (0 = off; see the module doc)
}


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

    All open segments are split together, one level at a time (a few numpy calls per level,
    never one per kept point), and a polyline longer than `RDP_WINDOW` points is cut into
    windows whose ends are kept: RDP alone takes O(K^2) on a spiral, windows bound it to
    O(K * RDP_WINDOW). Within a window the result is exactly RDP's.
    """
    points = np.asarray(points, np.float64)
    n = len(points)
    if n < 3 or not epsilon > 0:
        return np.arange(n)
    keep = np.zeros(n, bool)
    ends = np.unique(np.r_[np.arange(0, n - 1, RDP_WINDOW), n - 1])
    keep[ends] = True
    a, b = ends[:-1], ends[1:]  # open segments: first and last index
    while len(a):
        inner = b - a - 1
        a, b, inner = a[inner > 0], b[inner > 0], inner[inner > 0]
        if not len(a):
            break
        seg_of = np.repeat(np.arange(len(a)), inner)  # (P,) the segment of each interior point
        first = np.cumsum(inner) - inner  # where each segment's points start in the (P,) arrays
        idx = np.arange(len(seg_of)) - first[seg_of] + a[seg_of] + 1  # (P,) point indices
        seg = (points[b] - points[a])[seg_of]
        rel = points[idx] - points[a][seg_of]
        # Distance to the segment, not the infinite line: a stroke that overshoots and doubles back keeps its tip.
        t = np.clip(np.einsum("ij,ij->i", rel, seg) / np.maximum(np.einsum("ij,ij->i", seg, seg), 1e-12), 0.0, 1.0)
        dist = np.nan_to_num(np.hypot(*(rel - t[:, None] * seg).T))
        top = np.maximum.reduceat(dist, first)
        at_top = np.flatnonzero(dist == top[seg_of])
        far = idx[at_top[np.r_[True, np.diff(seg_of[at_top]) != 0]]]  # the first farthest point per segment
        split = top > epsilon
        keep[far[split]] = True
        a, b = np.r_[a[split], far[split]], np.r_[far[split], b[split]]
    return np.flatnonzero(keep)


LAYOUT = Layout(CHANNELS, (Mixture(("dx", "dy"), "bivariate"),), (Categorical("pen", 3),), end=("pen", PEN_END))


@register
class StrokesCodec(Codec):
    modality = "strokes"
    suffixes = (".npz", ".ndjson", ".svg", ".jhf")
    training_options = ("max_len", "scale_aug", "drop_prob", "rdp_epsilon", "dequantise")
    legacy_options = {"dequantise": 0.0}  # models trained before dequantisation saw exact offsets
    option_ranges = {"rate": (0.0, 10000.0, False), "max_len": (0, 10**7, True), "scale_aug": (0.0, 0.99, True),
                     "drop_prob": (0.0, 1.0, True), "rdp_epsilon": (0.0, 1e6, True), "dequantise": (0.0, 1e6, True)}

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        unknown = set(options or {}) - set(DEFAULTS)
        if unknown:
            raise SeqartError(f"unknown strokes option(s): {', '.join(sorted(unknown))} (known: {', '.join(DEFAULTS)})")
        super().__init__(DEFAULTS | dict(options or {}), norm)

    @property
    def layout(self) -> Layout:
        return LAYOUT

    def clip_defaults(self) -> dict:
        return {"fps": float(self.options["rate"])}

    # One scale for both axes (the std of all offsets, dx and dy pooled) keeps drawings' aspect; no shift.
    def norm_values(self, clips) -> np.ndarray:
        return self._continuous(clips).reshape(-1, 1)  # (2N, 1)

    def norm_from_moments(self, mean: np.ndarray, std: np.ndarray) -> Norm:
        s = float(std[0]) if np.size(std) else 1.0
        return Norm(np.zeros(2, np.float32), np.full(2, s if s > 1e-6 else 1.0, np.float32))

    def to_model(self, clip: Clip) -> np.ndarray:
        x = super().to_model(clip)
        d = float(self.options.get("dequantise", 0.0))
        if d > 0 and len(x):
            seed = clip.meta.get("jitter_seed", zlib.crc32(clip.frames.tobytes()))
            x[:, :2] += np.random.default_rng(seed).uniform(-d / 2, d / 2, (len(x), 2)) / self.norm.scale
        return x

    def read(self, path: Path) -> dict[str, list[Clip]]:
        from seqart.formats import sketches

        splits = sketches.read(Path(path), self.options)
        for name, clips in splits.items():
            for c in clips:
                self.check_clip(c, c.meta.get("source", path))
        return splits

    def augment(self, clip: Clip, rng: np.random.Generator) -> Clip:
        """sketch-rnn's augmentation: random per-axis scale, then dropping pen-down points."""
        a = float(self.options["scale_aug"])
        f = clip.frames.copy()
        f[:, :2] *= rng.uniform(1 - a, 1 + a, size=2).astype(np.float32)
        p = float(self.options["drop_prob"])
        if p > 0 and len(f) > 3:
            f = _drop_points(f, rng, p)
        return clip.with_frames(f, meta=clip.meta | {"jitter_seed": int(rng.integers(2**62))})  # fresh dequantisation


def _drop_points(f: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Merge a pen-down point into the next one with probability p (keeps the drawing's shape)."""
    out = [f[0].copy()]
    for row in f[1:]:
        prev = out[-1]
        mergeable = prev[2] == PEN_DOWN and row[2] == PEN_DOWN and len(out) > 1
        if mergeable and rng.random() < p:
            prev[:2] += row[:2]
        else:
            out.append(row.copy())
    return np.asarray(out, np.float32)
