"""Drawings: shape statistics, knots, endings, and a classifier two-sample test.

Units: offsets and lengths are in the data's source units (pixels for the
sheep). A drawing's points are its frames before the end frame.

* points per drawing, strokes per drawing (pen lifts, plus an unfinished last
  stroke), stroke length (the inked path of each stroke: the moves after its
  first point; the move onto the first point is a pen-up jump);
* a **knot**: `KNOT_POINTS` (10) consecutive points of a drawing inside a
  square `knot_side` source units wide. The default side is half the median
  pen-down step of the real training drawings (sheep: 8.2 units -> 4.1): ten
  points packed inside half of one ordinary step are a scribble, not a line.
  Real data is RDP-simplified (epsilon 2 units), so it rarely packs points that
  densely (the real control says how rarely); the shipped sheep's dark heads
  do;
* **ending**: whether the sampler drew the end token before a length limit;
* **classifier two-sample test** (Lopez-Paz & Oquab 2017): a small CNN learns to
  tell rasterised real training drawings from generated ones, then labels
  held-out real drawings and fresh samples. Its accuracy is 0.5 when it cannot
  tell them apart, 1.0 when every sample gives itself away.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from PIL import Image, ImageDraw

from seqart.clip import Clip
from seqart.sample import Sampler

KNOT_POINTS = 10
RASTER = 64  # pixels a side


def points(clip: Clip) -> np.ndarray:
    """(N, 3) rows (x, y, lifted) of absolute positions, end frame and anything after it dropped."""
    f = clip.frames
    ends = np.flatnonzero(f[:, 2] > 1.5)
    f = f[: ends[0]] if len(ends) else f
    return np.column_stack([np.cumsum(f[:, :2], axis=0), f[:, 2] > 0.5]) if len(f) else np.zeros((0, 3))


def strokes_of(clip: Clip) -> list[np.ndarray]:
    """Absolute polylines [(K, 2)] of one drawing."""
    p = points(clip)
    cuts = np.flatnonzero(p[:, 2] > 0.5) + 1
    return [s[:, :2] for s in np.split(p, cuts) if len(s)]


def drawing_stats(clips: list[Clip]) -> dict[str, np.ndarray]:
    """Points per drawing, strokes per drawing, and the length of every stroke (source units)."""
    pts, n_strokes, lengths = [], [], []
    for c in clips:
        strokes = strokes_of(c)
        pts.append(sum(len(s) for s in strokes))
        n_strokes.append(len(strokes))
        lengths += [float(np.hypot(*np.diff(s, axis=0).T).sum()) for s in strokes]
    return {"points": np.asarray(pts, float), "strokes": np.asarray(n_strokes, float),
            "stroke_length": np.asarray(lengths, float)}


def median_step(clips: list[Clip]) -> float:
    """Median length of a pen-down move in real drawings (source units)."""
    steps = [np.hypot(*np.diff(s, axis=0).T) for c in clips for s in strokes_of(c) if len(s) > 1]
    return float(np.median(np.concatenate(steps))) if steps else 1.0


def has_knot(clip: Clip, side: float, k: int = KNOT_POINTS) -> bool:
    xy = points(clip)[:, :2]
    if len(xy) < k:
        return False
    w = np.lib.stride_tricks.sliding_window_view(xy, k, axis=0)  # (N-k+1, 2, k)
    extent = w.max(-1) - w.min(-1)  # (N-k+1, 2)
    return bool(np.any((extent <= side).all(-1)))


def knot_rate(clips: list[Clip], side: float) -> float:
    return float(np.mean([has_knot(c, side) for c in clips])) if clips else float("nan")


def sample_drawings(model, codec, n: int, temperature: float, limit: int, seed: int) -> tuple[list[Clip], np.ndarray]:
    """n drawings through the one Sampler, each stopped at `limit` points; and whether each ended on its own."""
    sampler = Sampler(model, codec, temperature=temperature, seed=seed)
    clips, ended = [], []
    for _ in range(n):
        clips.append(sampler.generate(limit))
        ended.append(sampler.done)  # done only when the end token was drawn
    return clips, np.asarray(ended, bool)


# --- the classifier two-sample test ------------------------------------------------------------------
def rasterise(clips: list[Clip], size: int = RASTER) -> np.ndarray:
    """(N, 1, size, size) float32 ink in [0, 1]: each drawing scaled to fit, aspect kept, centred."""
    out = np.zeros((len(clips), 1, size, size), np.float32)
    for i, c in enumerate(clips):
        strokes = strokes_of(c)
        if not strokes:
            continue
        xy = np.concatenate(strokes)
        lo, span = xy.min(0), max(float(np.ptp(xy, axis=0).max()), 1e-6)
        scale = (size - 5) / span
        centre = (size - 1 - np.ptp(xy, axis=0) * scale) / 2
        img = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(img)
        for s in strokes:
            p = (s - lo) * scale + centre
            if len(p) == 1:
                draw.point([tuple(p[0])], fill=255)
            else:
                draw.line([tuple(q) for q in p], fill=255, width=1)
        out[i, 0] = np.asarray(img, np.float32) / 255.0
    return out


def _cnn() -> nn.Module:
    # 64 -> 32 -> 16 -> 8, then global average: ~25k weights, a few ms per batch on one thread.
    return nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                         nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(64, 1))


def classifier_test(real_train: np.ndarray, fake_train: np.ndarray, real_test: np.ndarray, fake_test: np.ndarray,
                    epochs: int = 10, seed: int = 0) -> dict:
    """Train on real (label 1) vs fake (0) rasters, then the accuracy on held-out real and fresh fakes.

    Each class counts half in the accuracy, whatever the sizes, so 0.5 is chance. `ci95` is the
    normal-approximation interval of that accuracy (the test sets are a few hundred each).
    """
    torch.manual_seed(seed)
    x = torch.from_numpy(np.concatenate([real_train, fake_train]))
    y = torch.cat([torch.ones(len(real_train)), torch.zeros(len(fake_train))])
    net, gen = _cnn(), torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            loss = nn.functional.binary_cross_entropy_with_logits(net(x[idx])[:, 0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        hit_real = (net(torch.from_numpy(real_test))[:, 0] > 0).float().mean().item()
        hit_fake = (net(torch.from_numpy(fake_test))[:, 0] <= 0).float().mean().item()
    acc = (hit_real + hit_fake) / 2
    half = 1.96 * np.sqrt(acc * (1 - acc) / (len(real_test) + len(fake_test)))
    return {"accuracy": round(acc, 4), "ci95": [round(acc - half, 4), round(acc + half, 4)],
            "real_called_real": round(hit_real, 4), "fake_called_fake": round(hit_fake, 4),
            "train": [len(real_train), len(fake_train)], "test": [len(real_test), len(fake_test)]}
