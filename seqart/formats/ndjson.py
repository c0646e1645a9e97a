"""Quick, Draw! `.ndjson`: one JSON object per line, one Clip per line.

Each object has `word, countrycode, timestamp, recognized, key_id, drawing`.
`drawing` is a list of strokes, in one of Google's two published forms:

* simplified: `[[x...], [y...]]`, absolute integers in 0..255, already
  RDP-simplified by Google (epsilon 2.0), no timing. Read as is.
* raw: `[[x...], [y...], [t...]]`, screen pixels and milliseconds since the
  drawing's first point. Each stroke is RDP-simplified with the codec option
  `rdp_epsilon` (in those pixels); the times of the kept points travel in
  `meta["t_ms"]` (one per stroke-3 row) and `meta["duration_s"]`.

All drawings are kept, recognised or not (`meta["recognized"]` tells). Each
drawing is its own split group (`meta["group"]` = key_id): the drawings of one
word come from different people, and grouping by word would put a one-word
file entirely into a single split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart import limits
from seqart.clip import Clip
from seqart.formats.stroke3 import rdp_indices
from seqart.errors import SeqartError
from seqart.formats.sketches import clean_strokes, drawing_clip

_META_KEYS = ("word", "key_id", "countrycode", "recognized")
_NUMBER = {int, float}


def read_ndjson(path: Path, options: dict) -> list[Clip]:
    clips, total = [], 0
    text = limits.read_text(path)  # a regular file within the size limit
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): JSON strings may hold U+2028
        if line.strip():
            clips.append(_line_clip(path, n, line, options))
            total += len(clips[-1])
            limits.check("file_points", total, f"{path}: line {n}: the drawings so far hold")
    if not clips:
        raise SeqartError(f"{path}: no drawings (the file is empty)")
    return clips


def _line_clip(path: Path, n: int, line: str, options: dict) -> Clip:
    where = f"{path}: line {n}"
    rec = limits.parse_json(line, where)
    if not isinstance(rec, dict) or not isinstance(rec.get("drawing"), list):
        raise SeqartError(f"{where}: expected an object with a 'drawing' list of strokes")
    strokes = [_stroke(where, k, s) for k, s in enumerate(rec["drawing"])]
    meta = {k: rec[k] for k in _META_KEYS if isinstance(rec.get(k), (str, bool, int))}
    meta["source"] = f"{path.name}:{n}"
    meta["group"] = str(meta.get("key_id", meta["source"]))
    widths = {s.shape[1] for s in strokes}
    if widths == {3}:
        strokes, meta["t_ms"] = _simplify_raw(strokes, where, float(options.get("rdp_epsilon", 2.0)))
        meta["duration_s"] = (meta["t_ms"][-1] - meta["t_ms"][0]) / 1000.0
    elif len(widths) > 1:
        raise SeqartError(f"{where}: mixes strokes with and without timing")
    return drawing_clip([s[:, :2] for s in strokes], where, options, **meta)


def _stroke(where: str, k: int, s) -> np.ndarray:
    """One stroke `[[x...], [y...](, [t...])]` -> (K, 2 or 3) float64 points.

    Only JSON numbers count: numpy would read `true` as 1 and "7" as 7."""
    shape_ok = isinstance(s, list) and len(s) in (2, 3) and all(isinstance(c, list) for c in s)
    if shape_ok:
        limits.check("stroke_points", len(s[0]), f"{where}: stroke {k} has")
    if not shape_ok or len({len(c) for c in s}) != 1 or not all(set(map(type, c)) <= _NUMBER for c in s):
        raise SeqartError(f"{where}: stroke {k} is not [[x...], [y...]] or [[x...], [y...], [t...]] number lists")
    try:
        return np.asarray(s, np.float64).T
    except OverflowError:  # an integer beyond float range
        raise SeqartError(f"{where}: stroke {k} holds a number too large for a coordinate") from None


def _simplify_raw(strokes: list[np.ndarray], where: str, epsilon: float) -> tuple[list[np.ndarray], list[int]]:
    """RDP each raw (K, 3) stroke on x, y; keep the times of the points that stay."""
    strokes = [s for s in strokes if len(s)]
    clean_strokes([s[:, :2] for s in strokes], where)  # NaN/inf/empty checks before RDP
    if not all(np.isfinite(s[:, 2]).all() for s in strokes):
        raise SeqartError(f"{where}: contains NaN or infinite times")
    kept = [s[rdp_indices(s[:, :2], epsilon)] for s in strokes]
    return kept, [int(round(t)) for s in kept for t in s[:, 2]]
