"""Music: rhythm on the grid, blips, key, and the distributions a listener hears.

Clips are notes Clips (dt, dur in seconds; pitch; velocity bin) with their
tempo in `meta["bpm"]` (beats are quarter notes at that tempo). Onsets are
measured from the start of the clip, as a DAW's bar grid is.

* **grid**: the coarsest of `GRIDS` (a quarter, an eighth, an eighth triplet,
  a sixteenth...) on which at least 95% of the training onsets fall, within
  `TOLERANCE` of a grid step either side. A wider tolerance would call random
  onsets "on the grid" more often: `chance` = 2 x tolerance is the rate for
  onsets placed at random (20%);
* **blips**: notes shorter than 20 ms (a click, not a note);
* **in key**: the share of notes inside the best-fitting diatonic scale of their
  clip (the most notes over the 12 rotations of the major scale, so minor keys
  count through their relative major); a harmonic-minor leading tone counts out;
* distributions: pitch classes (total variation), inter-onset intervals in beats
  (chord notes share an onset and count once), durations in beats, notes per
  bar (bars of the data's most common time signature, counted from time 0).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.quality import distances as D

GRIDS = {"quarter": 1.0, "eighth": 1 / 2, "eighth triplet": 1 / 3, "sixteenth": 1 / 4,
         "sixteenth triplet": 1 / 6, "thirty-second": 1 / 8}  # beats, coarse to fine
TOLERANCE = 0.1  # of a grid step, either side
ON_GRID_SHARE = 0.95
BLIP_SECONDS = 0.02
MAJOR = (0, 2, 4, 5, 7, 9, 11)


def onsets_beats(clip: Clip) -> np.ndarray:
    return np.cumsum(clip.channel("dt").astype(np.float64)) * float(clip.meta.get("bpm", 120.0)) / 60.0


def on_grid(clips: list[Clip], grid: float) -> np.ndarray:
    """(N,) bool over every note: is its onset within TOLERANCE grid steps of the grid?"""
    if not clips:
        return np.zeros(0, bool)
    x = np.concatenate([onsets_beats(c) for c in clips]) / grid
    return np.abs(x - np.round(x)) <= TOLERANCE


def infer_grid(clips: list[Clip]) -> dict:
    """The coarsest grid that holds ON_GRID_SHARE of these (training) clips' onsets."""
    for name, beats in GRIDS.items():
        share = float(on_grid(clips, beats).mean())
        if share >= ON_GRID_SHARE:
            return {"name": name, "beats": beats, "train_on_grid": round(share, 4)}
    name, beats = list(GRIDS.items())[-1]
    return {"name": f"none (finest tried: {name})", "beats": beats, "train_on_grid": round(float(on_grid(clips, beats).mean()), 4)}


def blip_rate(clips: list[Clip]) -> float:
    d = np.concatenate([c.channel("dur") for c in clips]) if clips else np.zeros(0)
    return float(np.mean(d < BLIP_SECONDS)) if len(d) else float("nan")


def in_key_rate(clips: list[Clip]) -> float:
    inside, total = 0, 0
    for c in clips:
        pcs = np.bincount(c.channel("pitch").astype(int) % 12, minlength=12)
        inside += max(int(sum(pcs[(k + s) % 12] for s in MAJOR)) for k in range(12))
        total += int(pcs.sum())
    return inside / total if total else float("nan")


def pitch_classes(clips: list[Clip]) -> np.ndarray:
    return np.bincount(np.concatenate([c.channel("pitch").astype(int) % 12 for c in clips]), minlength=12)


def iois_beats(clips: list[Clip]) -> np.ndarray:
    """Time between distinct onsets, in beats (a chord's notes share one onset)."""
    out = []
    for c in clips:
        on = np.unique(np.round(onsets_beats(c), 6))
        out.append(np.diff(on))
    return np.concatenate(out) if out else np.zeros(0)


def durations_beats(clips: list[Clip]) -> np.ndarray:
    return np.concatenate([c.channel("dur") * float(c.meta.get("bpm", 120.0)) / 60.0 for c in clips])


def beats_per_bar(clips: list[Clip]) -> float:
    """Quarter-note beats in a bar of the most common time signature (4/4 -> 4, 6/8 -> 3)."""
    sigs = Counter(tuple(c.meta.get("time_signature", (4, 4))) for c in clips)
    num, den = sigs.most_common(1)[0][0] if sigs else (4, 4)
    return num * 4.0 / den


def notes_per_bar(clips: list[Clip], bar: float) -> np.ndarray:
    out = []
    for c in clips:
        on = onsets_beats(c)
        if len(on):
            out.append(np.bincount((on // bar).astype(int)))
    return np.concatenate(out).astype(float) if out else np.zeros(0)


def through_midi(clips: list[Clip], codec) -> list[Clip]:
    """The clips as a DAW will see them: written as MIDI files and read back by the codec."""
    from seqart.export import export_clips

    with tempfile.TemporaryDirectory() as tmp:
        for i, c in enumerate(clips):
            export_clips([c], Path(tmp) / f"sample_{i:03d}.mid")
        return [c for s in codec.read(Path(tmp)).values() for c in s]


def measure(clips: list[Clip], grid: float) -> dict:
    """The single-sample figures of a set of clips."""
    return {"on_grid": round(float(on_grid(clips, grid).mean()), 4), "blips": round(blip_rate(clips), 4),
            "in_key": round(in_key_rate(clips), 4), "notes": int(sum(len(c) for c in clips))}


def distances(clips: list[Clip], real: list[Clip], control: list[Clip], bar: float) -> dict:
    """Each distribution against the held-out real clips, with the control's distance beside it."""
    out = {"pitch_class_tv": {"value": round(D.total_variation(pitch_classes(clips), pitch_classes(real)), 4),
                              "control": round(D.total_variation(pitch_classes(control), pitch_classes(real)), 4)}}
    for name, fn in (("ioi_beats", iois_beats), ("duration_beats", durations_beats),
                     ("notes_per_bar", lambda cs: notes_per_bar(cs, bar))):
        out[name] = D.compare(fn(clips), fn(real), fn(control))
    return out
