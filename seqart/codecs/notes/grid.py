"""Time on the data's grid, for the notes codec's `time = "grid"` option.

Most scores (and the MIDI made from them) place every onset and every note end
on a few subdivisions of the beat: eighths, sixteenths, triplets. On such data
the notes codec can model time as classes instead of a density over seconds:

* the grid is `g` steps per beat, inferred from the training data as the
  smallest of `CANDIDATES` that holds at least `COVER` of its onsets and note
  ends (12 holds straight sixteenths and eighth-note triplets together);
* a note's `dt` and `dur` become whole steps (onsets and ends are rounded on
  the grid first, so rounding never drifts; a duration is at least one step);
* each of `dt` and `dur` is one class among the values the training data
  holds (its vocabulary, at most `max_beats` beats; a longer value becomes the
  longest class, and a held-out value outside the vocabulary its nearest class);
* a `dt` class is the pair (steps, phase): the time shift and where in the beat
  the onset then falls (steps past the beat, 0..g-1, counted from the piece's
  start). The model reads the phase in its input, so it knows where it is in
  the beat without adding up every shift so far: after a lone triplet or
  sixteenth it can find its way back, where a shift alone would leave every
  later onset off the beat. Decoding uses the steps only.

Beats come from seconds at the clip's tempo (meta "bpm", the file's first
tempo), so a file whose tempo changes is read on the grid of its first tempo.
"""

from __future__ import annotations

import numpy as np

from seqart.clip import Clip

CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24)  # steps per beat: straight, triplet and mixed grids
TOLERANCE = 0.01  # beats: a time this close to a grid point is on it (one tick at 96 ticks per beat)
COVER = 0.995  # the inferred grid holds at least this share of onsets and note ends


def onsets_and_ends(clip: Clip, bpm: float) -> tuple[np.ndarray, np.ndarray]:
    """Each note's onset and end in beats from the clip's start, (N,) each (float64)."""
    bps = float(bpm) / 60.0
    onset = np.cumsum(clip.channel("dt").astype(np.float64)) * bps
    return onset, onset + clip.channel("dur").astype(np.float64) * bps


def on_grid(beats: np.ndarray, steps_per_beat: float, tolerance: float = TOLERANCE) -> np.ndarray:
    """Bool (N,): which times (beats) lie within `tolerance` beats of a point of the grid."""
    g = float(steps_per_beat)
    return np.abs(beats - np.round(beats * g) / g) <= tolerance


def infer_grid(times: list[np.ndarray]) -> tuple[int, float]:
    """(steps per beat, share of the times on that grid) for times in beats (onsets and ends).

    The smallest candidate holding `COVER` of the times; when none does (played, unquantised
    music), the candidate holding the most."""
    t = np.concatenate(times) if times else np.zeros(0)
    if len(t) == 0:
        return 4, 0.0
    share = {g: float(on_grid(t, g).mean()) for g in CANDIDATES}
    fit = [g for g in CANDIDATES if share[g] >= COVER]
    g = fit[0] if fit else max(CANDIDATES, key=lambda c: (share[c], -c))
    return g, share[g]


def to_steps(clip: Clip, bpm: float, steps_per_beat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dt, dur, phase) in whole grid steps, int64 (N,) each; durations at least one step;
    phase = the onset's steps past its beat. Whole beats of silence before the first note are
    dropped (its shift is its phase): a model then starts a piece with one of a few classes."""
    onset, end = onsets_and_ends(clip, bpm)
    q_on = np.round(onset * steps_per_beat).astype(np.int64)
    q_end = np.round(end * steps_per_beat).astype(np.int64)
    lead = (q_on[:1] // steps_per_beat) * steps_per_beat  # (1,) or (0,)
    q_on, q_end = q_on - (lead[0] if len(lead) else 0), q_end - (lead[0] if len(lead) else 0)
    return np.diff(q_on, prepend=0), np.maximum(q_end - q_on, 1), q_on % steps_per_beat


def cap_steps(steps: np.ndarray, cap: int, steps_per_beat: int) -> np.ndarray:
    """Steps above `cap` shortened by whole beats to at most `cap` (the phase they lead to is kept)."""
    over = np.maximum(steps - cap, 0)
    return steps - steps_per_beat * -(-over // steps_per_beat)


def vocabulary(steps: list[np.ndarray], cap: int) -> list[int]:
    """The distinct step counts seen (capped at `cap`), sorted: the classes of one time channel."""
    seen = np.unique(np.minimum(np.concatenate(steps), cap)) if steps else np.zeros(0, np.int64)
    return [int(v) for v in seen] or [1]


def pair_vocabulary(dt: list[np.ndarray], phase: list[np.ndarray]) -> list[list[int]]:
    """The distinct (steps, phase) pairs seen (steps already capped), sorted: the dt classes."""
    if not dt:
        return [[0, 0]]
    pairs = np.unique(np.column_stack([np.concatenate(dt), np.concatenate(phase)]), axis=0)
    return [[int(a), int(b)] for a, b in pairs]


def pair_classes_of(dt: np.ndarray, phase: np.ndarray, vocab: list[list[int]]) -> np.ndarray:
    """(steps, phase) (N,) each -> class indices (N,): the pair itself, else the nearest steps
    with that phase, else the nearest steps."""
    index = {(a, b): i for i, (a, b) in enumerate(vocab)}
    v = np.asarray(vocab, np.int64).reshape(-1, 2)
    out = np.empty(len(dt), np.int64)
    for n, (a, b) in enumerate(zip(dt.tolist(), phase.tolist())):
        i = index.get((a, b))
        if i is None:
            same = np.flatnonzero(v[:, 1] == b)
            pool = same if len(same) else np.arange(len(v))
            i = int(pool[np.argmin(np.abs(v[pool, 0] - a))])
        out[n] = i
    return out


def classes_of(steps: np.ndarray, vocab: list[int]) -> np.ndarray:
    """Step counts (N,) -> class indices (N,): the nearest vocabulary entry (the lower on a tie)."""
    v = np.asarray(vocab, np.int64)
    i = np.clip(np.searchsorted(v, steps), 1, max(len(v) - 1, 1))
    if len(v) == 1:
        return np.zeros(len(steps), np.int64)
    lower = steps - v[i - 1] <= v[i] - steps
    return np.where(lower, i - 1, i)
