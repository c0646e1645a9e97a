"""Played material -> a Clip to prime the model with (call and response, control messages).

A phrase is notes as rows (pitch, velocity 1-127, start seconds, duration
seconds); a drawing is rows (x, y, lifted) in absolute coordinates. Both
are checked here and turned into a clip by the playing model's codec
(`codec.phrase_clip`, `codec.drawing_clip`), which raises ValueError where its
modality cannot take one.
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
    return codec.phrase_clip(notes)


def drawing_to_clip(codec, points: np.ndarray) -> Clip:
    """(N, 3) absolute x, y, lifted (1 on a stroke's last point) -> a Clip; ValueError if it cannot."""
    return codec.drawing_clip(np.asarray(points, np.float64).reshape(-1, 3))
