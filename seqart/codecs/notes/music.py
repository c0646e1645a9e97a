"""The musical rules generated notes are played by: scales (`--set scale=D:major`) and dynamics."""

from __future__ import annotations

import numpy as np

from seqart.errors import SeqartError

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10), "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10), "mixolydian": (0, 2, 4, 5, 7, 9, 10), "pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10), "blues": (0, 3, 5, 6, 7, 10), "chromatic": tuple(range(12)),
}
TONICS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def scale_pitches(spec: str) -> list[int]:
    """"D:dorian" (or "F#:minor", "Bb:major") -> every MIDI pitch 0..127 in that scale."""
    tonic, _, mode = spec.partition(":")
    mode = mode or "major"
    t = tonic.strip()
    if not t or t[0].upper() not in TONICS or mode not in SCALES or len(t) > 2 or (len(t) == 2 and t[1] not in "#b"):
        raise SeqartError(f"scale={spec!r}: expected TONIC:MODE, e.g. C:major or F#:minor "
                          f"(modes: {', '.join(SCALES)})")
    root = (TONICS[t[0].upper()] + (1 if t[1:] == "#" else -1 if t[1:] == "b" else 0)) % 12
    return [p for p in range(128) if (p - root) % 12 in SCALES[mode]]


def dynamics(start_s: np.ndarray, pitch: np.ndarray, bpm: float, amount: float,
             centre: float | None = None) -> np.ndarray:
    """Velocity offsets (N,) in MIDI units, at most `amount` either way, from two rules players
    follow: a note on the beat is stressed and one between eighths is light (metre), and a
    higher note is louder than a lower one (contour, one octave from `centre` = full; `centre`
    defaults to the piece's median pitch, which a live stream cannot know yet)."""
    beats = start_s * float(bpm) / 60.0
    on = [np.abs(beats * k - np.round(beats * k)) < 0.01 * k for k in (1, 2)]  # on the beat, on an eighth
    metre = np.where(on[0], 1.0, np.where(on[1], 0.0, -1.0))
    if centre is None:
        centre = np.median(pitch) if len(pitch) else 0.0
    contour = np.clip((pitch - centre) / 12.0, -1.0, 1.0)
    return float(amount) * (0.5 * metre + 0.5 * contour)
