"""Handwriting style as figures: how a line leans and how wide it runs.

* **slant** (radians, > 0 when tops lean right): the length-weighted mean angle
  from vertical of the line's near-vertical pen-down chords. A chord spans
  `SPAN` points of a stroke (so per-point jitter averages out), is turned to
  point upwards, and counts when within `MAX_LEAN` of vertical (the
  ascenders, descenders and letter sides that carry a hand's slant; joins and
  bowls run sideways). Slant is the style statistic for priming: it is what a
  reader sees first in a hand, the synthetic set draws it per line
  independently of the text, and it does not depend on scale, so a style
  line's size (which `seqart write --style` normalises away) cannot leak in.
* **width per character**: the line's horizontal extent over its ink height
  per character (dimensionless: how compressed or spread out the letters are).

Units: clips in any units (tablet units, mm); y grows downwards as in every
stroke clip.
"""

from __future__ import annotations

import math

import numpy as np

from seqart.clip import Clip

SPAN = 3  # points per chord
MAX_LEAN = math.radians(45)  # chords leaning further from vertical than this are not counted


def strokes_of(clip: Clip) -> list[np.ndarray]:
    """Pen-down polylines [(K, 2) absolute, y down] of a stroke or handwriting clip."""
    from seqart.codecs.strokes import clip_to_stroke3, stroke3_to_strokes

    return [s for s in stroke3_to_strokes(clip_to_stroke3(clip)) if len(s) > 1]


def slant(clip: Clip) -> float:
    """Length-weighted mean lean of the near-vertical chords (radians; nan when the line has none)."""
    angles, weights = [], []
    for s in strokes_of(clip):
        d = s[SPAN:] - s[:-SPAN] if len(s) > SPAN else s[-1:] - s[:1]  # chords (n, 2)
        d = np.where(d[:, 1:2] > 0, -d, d)  # point every chord upwards (dy <= 0)
        length = np.hypot(d[:, 0], d[:, 1])
        lean = np.arctan2(d[:, 0], -d[:, 1])  # 0 = vertical, > 0 = top to the right
        keep = (np.abs(lean) <= MAX_LEAN) & (length > 0)
        angles.append(lean[keep])
        weights.append(length[keep])
    a, w = np.concatenate(angles or [np.zeros(0)]), np.concatenate(weights or [np.zeros(0)])
    return float(np.average(a, weights=w)) if w.sum() > 0 else float("nan")


def width_per_char(clip: Clip, text: str) -> float:
    """Horizontal extent / ink height / characters (nan for an empty line)."""
    strokes = strokes_of(clip)
    if not strokes or not text:
        return float("nan")
    xy = np.concatenate(strokes)
    w, h = np.ptp(xy, axis=0)
    return float(w / max(h, 1e-9) / len(text))
