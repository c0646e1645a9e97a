"""Played material -> a Clip to prime the model with (call and response, control messages).

A phrase is notes as rows (pitch, velocity 1-127, start seconds, duration
seconds). It becomes a notes Clip through the codec's own `clip_from_notes`
when it has one, else through the channel names the notes codec declares:
`dt` (seconds since the previous onset), `dur`/`duration`, `pitch`, and
`velocity` (a categorical velocity with K < 128 classes holds bins of
128 / K). A drawing is rows (x, y, lifted) in absolute coordinates; it becomes
stroke offsets.
"""

from __future__ import annotations

import numpy as np

from seqart.clip import Clip


def phrase_to_clip(codec, notes: np.ndarray) -> Clip:
    """(N, 4) pitch, velocity, start_s, dur_s -> a Clip in the codec's channels; ValueError if it cannot."""
    notes = np.asarray(notes, np.float64).reshape(-1, 4)
    if not len(notes):
        raise ValueError("an empty phrase")
    if not ((notes[:, 0] >= 0) & (notes[:, 0] <= 127)).all() or (notes[:, 3] < 0).any():
        raise ValueError("phrase pitches must be 0..127 and durations >= 0")
    notes = notes[np.lexsort((notes[:, 0], notes[:, 2]))]  # by onset, chords by pitch
    if hasattr(codec, "clip_from_notes"):
        return codec.clip_from_notes(notes)
    lay = codec.layout
    if "pitch" not in lay.channels:
        raise ValueError(f"the model's channels {lay.channels} have no pitch: it cannot take a phrase")
    start = notes[:, 2] - notes[0, 2]
    values = {"pitch": notes[:, 0], "dt": np.diff(start, prepend=0.0)}
    values["dur"] = values["duration"] = notes[:, 3]
    vel = np.clip(notes[:, 1], 1, 127)
    bins = next((c.classes for c in lay.categoricals if c.channel in ("velocity", "vel")), 128)
    values["velocity"] = values["vel"] = np.clip(vel * bins // 128, 0, bins - 1) if bins < 128 else vel
    cols = [values.get(ch, np.zeros(len(notes))) for ch in lay.channels]
    return Clip(np.column_stack(cols), lay.channels, codec.modality, **codec.clip_defaults())


def drawing_to_clip(codec, points: np.ndarray) -> Clip:
    """(N, 3) absolute x, y, lifted (1 on a stroke's last point) -> a strokes Clip."""
    lay = codec.layout
    if not {"dx", "dy", "pen"} <= set(lay.channels):
        raise ValueError(f"the model's channels {lay.channels} are not pen strokes: it cannot take a drawing")
    p = np.asarray(points, np.float64).reshape(-1, 3)
    d = np.diff(p[:, :2], axis=0, prepend=p[:1, :2] * 0)
    values = {"dx": d[:, 0], "dy": d[:, 1], "pen": (p[:, 2] > 0.5).astype(np.float64)}
    return Clip(np.column_stack([values[c] for c in lay.channels]), lay.channels, codec.modality,
                **codec.clip_defaults())
