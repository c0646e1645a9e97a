"""The JSB chorales as piano rolls (Boulanger-Lewandowski et al. 2012 split), as note arrays.

The JSON holds {"train"|"valid"|"test": [piece, ...]}; a piece is a list of time
steps on a fixed grid (quarter notes or 16ths) and each step lists the MIDI
pitches sounding then. The roll cannot tell a held note from a repeated one,
so consecutive steps holding the same pitch are merged into one note (a tie),
which is how the chorales are sung far more often than not.

Notes come back in the layout of `seqart.formats.midi_in`: (N, 5) rows
(start_s, dur_s, pitch, velocity, program), velocity 80, program 0 (piano).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart import limits
from seqart.errors import SeqartError

VELOCITY = 80


def roll_to_notes(steps: list, step_seconds: float, merge: bool = True) -> np.ndarray:
    """[[pitch, ...] per step] -> (N, 5) notes, ties merged when `merge`."""
    rows, open_ = [], {}  # pitch -> index into rows of the note still sounding
    for t, chord in enumerate(steps):
        now = {int(p) for p in chord}
        for p in sorted(now):
            if merge and p in open_ and rows[open_[p]][0] + rows[open_[p]][1] >= t - 1e-9:
                rows[open_[p]][1] += 1
            else:
                open_[p] = len(rows)
                rows.append([t, 1, p, VELOCITY, 0])
        for p in set(open_) - now:
            del open_[p]
    notes = np.asarray(rows, np.float64).reshape(-1, 5)
    notes[:, :2] *= step_seconds
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


def _check_piece(piece, where: str) -> int:
    """How many pitches the piece lists; one-line errors for anything but lists of MIDI numbers."""
    if not isinstance(piece, list) or not all(isinstance(s, list) for s in piece):
        raise SeqartError(f"{where}: a piece must be a list of time steps, each a list of pitches")
    for s in piece:
        for p in s:  # a JSON true is not a pitch
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 127:
                raise SeqartError(f"{where}: pitch {p!r} is not a MIDI number 0..127")
    return sum(map(len, piece))


def read_jsb(path: Path, step_seconds: float | None = None, merge: bool = True) -> dict[str, list[tuple[np.ndarray, dict]]]:
    """The JSON file -> {split: [(notes, meta)]}. The grid step defaults from the file name:
    a 16th at 120 bpm (0.125 s) for "16th" files, else a quarter (0.5 s)."""
    path = Path(path)
    data = limits.parse_json(limits.read_bytes(path), path)
    if not isinstance(data, dict) or not any(k in data for k in ("train", "valid", "test")):
        raise SeqartError(f"{path}: expected a JSON object with train/valid/test lists of piano rolls")
    if step_seconds is None:
        step_seconds = 0.125 if "16th" in path.name else 0.25 if "8th" in path.name else 0.5
    out = {}
    for split in ("train", "valid", "test"):
        pieces = data.get(split, [])
        if not isinstance(pieces, list):
            raise SeqartError(f"{path}: {split} must be a list of pieces")
        items = []
        for i, piece in enumerate(pieces):
            where = f"{path.name}:{split}[{i}]"
            # per piano roll, as the limit says: the whole file is bounded by its byte limit, and the
            # real chorales file holds ~350,000 pitches over its 382 rolls
            limits.check("notes", _check_piece(piece, where), where)
            notes = roll_to_notes(piece, step_seconds, merge)
            if len(notes):
                items.append((notes, {"source": where, "group": where, "bpm": 120.0, "time_signature": [4, 4]}))
        if items:
            out[split] = items
    if not out:
        raise SeqartError(f"{path}: no notes in any piece")
    return out
