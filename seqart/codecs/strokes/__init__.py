"""Pen strokes: sketches, handwriting and plotter drawings.

The stroke formats (stroke-3, stroke-5, seqart's `(dx, dy, pen)` clip) and
their converters live in `seqart.formats.stroke3`, re-exported here. This
package also holds what strokes need elsewhere: the SVG, PNG and GIF writers
(`svg`, `raster`, `sheet`) and the live pen renderer (`live`).

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
from seqart.codecs.strokes import settings as declared
from seqart.errors import SeqartError
from seqart.formats.stroke3 import (CHANNELS, PEN_DOWN, PEN_END, PEN_UP, RDP_WINDOW, clip_to_stroke3,  # noqa: F401
                                    rdp, rdp_indices, stroke3_to_clip, stroke3_to_stroke5, stroke3_to_strokes,
                                    stroke5_to_stroke3, strokes_to_stroke3)
from seqart.layout import Categorical, Layout, Mixture

DEFAULTS = {
    "rate": 60.0,  # points per second when played live or animated
    "max_len": 250,  # sketch-rnn's Nmax: longer drawings are left out of training
    "scale_aug": 0.15,  # random per-axis scale in [1 - a, 1 + a]
    "drop_prob": 0.10,  # chance of merging a pen-down point into the next
    "rdp_epsilon": 2.0,  # simplification for SVG and raw ndjson input, in source units
    "dequantise": 1.0,  # width of the uniform noise on offsets, in source units (0 = off; see the module doc)
}

LAYOUT = Layout(CHANNELS, (Mixture(("dx", "dy"), "bivariate"),), (Categorical("pen", 3),), end=("pen", PEN_END))


@register
class StrokesCodec(Codec):
    modality = "strokes"
    suffixes = (".npz", ".ndjson", ".svg", ".jhf")
    writer_modules = ("seqart.codecs.strokes.svg", "seqart.codecs.strokes.raster")
    training_options = ("max_len", "scale_aug", "drop_prob", "rdp_epsilon", "dequantise")
    settings = tuple(declared.OPTIONS)  # seqart/codecs/strokes/settings.py
    defaults = DEFAULTS
    legacy_options = {"dequantise": 0.0}  # models trained before dequantisation saw exact offsets

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        super().__init__(self.with_defaults(options), norm)

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

    def renderer(self, options: dict, prefix: str):
        from seqart.codecs.strokes.live import PenRenderer

        return PenRenderer(self, options, prefix)

    def view_options(self, offset_std_px: float) -> dict:
        """The pen's absolute position in page pixels."""
        return {"scale": offset_std_px / float(self.norm.scale[0])}

    def inside_marks(self, clip: Clip) -> dict[str, dict]:
        """The drawing over the next point's density: its pen-down segments, (N, 4) x0, y0, x1, y1 in
        clip units from where it starts (the density's own coordinates); and the pen's class names."""
        f = clip.frames.astype(np.float64)
        ends = np.cumsum(f[:, [clip.channels.index("dx"), clip.channels.index("dy")]], 0)  # (T, 2) each point
        down = np.rint(f[:-1, clip.channels.index("pen")]) == PEN_DOWN  # stroke-3: the pen stays down after t
        segments = np.concatenate([ends[:-1], ends[1:]], 1)[down]  # the first point is a travel move
        return {"density": {"segments": segments}, "classes pen": {"labels": ["down", "lift", "end"]}}

    def drawing_clip(self, points: np.ndarray) -> Clip:
        from seqart.codecs.strokes.live import drawing_clip

        return drawing_clip(self, points)

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
