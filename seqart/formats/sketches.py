"""Read drawings in any supported format into stroke Clips, by file type.

| suffix    | format                                   | one Clip per | split            |
|-----------|------------------------------------------|--------------|------------------|
| `.npz`    | sketch-rnn stroke-3 (see `read_npz`)     | drawing      | the file's own   |
| `.ndjson` | Quick, Draw! simplified or raw           | line         | "all"            |
| `.svg`    | an artist's drawing (`svg_in`)           | file         | "all"            |
| `.jhf`    | Hershey font (`hershey`)                 | glyph        | "all"            |

Coordinates keep their source's units and orientation: y grows downwards in
all four formats (screen, SVG and Hershey convention), so nothing is flipped.
The first stroke-3 row is the pen's first position measured from the origin,
as in sketch-rnn's own converters.

Every reader hands its polylines to `drawing_clip`, which drops empty strokes
and refuses NaN/inf or a drawing with no points, naming the file and the
drawing (line, glyph or index). A folder is read file by file; the first bad
file stops the read with an error naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart import limits
from seqart.errors import SeqartError
from seqart.formats.safe_npz import load_npz

SUFFIXES = (".npz", ".ndjson", ".svg", ".jhf")


def read(path: Path, options: dict) -> dict[str, list[Clip]]:
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, options)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SeqartError(f"{path}: not a drawing file (expected .npz, .ndjson, .svg or .jhf)")
    limits.check_regular(path)
    if suffix == ".npz":
        return read_npz(path, options)
    if suffix == ".ndjson":
        from seqart.formats.ndjson import read_ndjson as reader
    elif suffix == ".svg":
        from seqart.formats.svg_in import read_svg as reader
    else:
        from seqart.formats.hershey import read_jhf as reader
    return {"all": reader(path, options)}


def _read_folder(path: Path, options: dict) -> dict[str, list[Clip]]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise SeqartError(f"{path}: no drawing files in this folder (expected .npz, .ndjson, .svg or .jhf)")
    out: dict[str, list[Clip]] = {}
    for f in files:
        for split, clips in read(f, options).items():
            out.setdefault(split, []).extend(clips)
    if "all" in out and len(out) > 1:
        # Split clips would train on the .npz split only and silently drop the rest.
        raise SeqartError(
            f"{path}: mixes .npz files (with their own train/valid/test split) and files without one; "
            "put them in separate folders"
        )
    return out


# --- shared by every reader ----------------------------------------------------------


def clean_strokes(strokes: list, where: str) -> list[np.ndarray]:
    """Polylines [(K, 2), ...] as float32, empty ones dropped; refuses NaN/inf, no points, and
    strokes, drawings or coordinates beyond the limits (`seqart.limits`)."""
    out, total = [], 0
    for s in strokes:
        s = np.asarray(s, np.float64).reshape(-1, 2)
        limits.check("stroke_points", len(s), f"{where}: a stroke of")
        total += len(s)
        limits.check("points", total, f"{where}: a drawing of at least")
        check_coordinates(s, where)
        if len(s):
            out.append(s.astype(np.float32))
    if not out:
        raise SeqartError(f"{where}: empty drawing (no points)")
    return out


def check_coordinates(values: np.ndarray, where: str) -> None:
    """Finite, and no larger than the `coordinate` limit (int64 extremes are not a drawing)."""
    if not np.isfinite(values).all():
        raise SeqartError(f"{where}: contains NaN or infinite coordinates")
    if values.size:
        limits.check("coordinate", float(np.abs(values.astype(np.float64)).max()), f"{where}: a coordinate of")  # int64 min has no abs


def drawing_clip(strokes: list, where: str, options: dict, **meta) -> Clip:
    """Absolute polylines -> one stroke Clip (stroke-3 rows plus the end frame)."""
    from seqart.formats.stroke3 import stroke3_to_clip, strokes_to_stroke3

    s3 = strokes_to_stroke3(clean_strokes(strokes, where))
    return stroke3_to_clip(s3, float(options.get("rate", 60.0)), **meta)


# --- sketch-rnn .npz ----------------------------------------------------------------


def read_npz(path: Path, options: dict) -> dict[str, list[Clip]]:
    """sketch-rnn stroke-3 `.npz`: one entry per split.

    Two layouts are read, neither of which can run code:
    * upstream's: each split is a 1-D object array of (N, 3) arrays (pickled; see safe_npz);
    * pickle-free: each split is one (sum N, 3) array of all drawings end to end, with
      `<split>_lengths` (D,) giving each drawing's N (seqart's shipped subsets use this).
    """
    data = load_npz(path)
    if not data:
        raise SeqartError(f"{path}: no arrays in this .npz")
    out = {}
    for split, items in data.items():
        if split.endswith("_lengths") and split[: -len("_lengths")] in data:
            continue
        drawings = _npz_drawings(path, split, items, data.get(f"{split}_lengths"))
        out[split] = [_npz_clip(path, f"{split}[{i}]", s, options) for i, s in enumerate(drawings)]
    if not any(out.values()):
        raise SeqartError(f"{path}: no drawings in this .npz")
    return out


def _npz_drawings(path: Path, split: str, items: np.ndarray, lengths: np.ndarray | None) -> list:
    if items.dtype == object:
        if items.ndim != 1:
            raise SeqartError(f"{path}: {split} is a {items.ndim}-D object array, expected 1-D (one drawing each)")
        drawings = list(items)
        for i, s in enumerate(drawings):  # sizes first: a tiny pickle can repeat one array a million times
            if not isinstance(s, np.ndarray):
                raise SeqartError(f"{path}: {split}[{i}] is not an (N, 3) stroke-3 array of numbers (a {type(s).__name__})")
        limits.check("file_points", sum(s.shape[0] if s.ndim else 1 for s in drawings), f"{path}: {split} holds")
        return drawings
    limits.check("file_points", len(items), f"{path}: {split} holds")
    if lengths is None:
        return [items]  # a single plain (N, 3) drawing
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths < 0).any() or lengths.sum() != len(items):
        raise SeqartError(f"{path}: {split}_lengths must be non-negative integers summing to {len(items)} rows")
    return np.split(items, np.cumsum(lengths)[:-1]) if len(lengths) else []


def _npz_clip(path: Path, where: str, s: np.ndarray, options: dict) -> Clip:
    from seqart.formats.stroke3 import stroke3_to_clip

    if s.ndim != 2 or s.shape[1] != 3 or s.dtype.kind not in "iuf":
        raise SeqartError(f"{path}: {where} is not an (N, 3) stroke-3 array of numbers")
    if len(s) == 0:
        raise SeqartError(f"{path}: {where} is an empty drawing (no points)")
    limits.check("points", len(s), f"{path}: {where} has")
    if not np.isfinite(s).all():
        raise SeqartError(f"{path}: {where} contains NaN or infinite values")
    check_coordinates(s[:, :2], f"{path}: {where}")
    pen_ok = (s[:, 2] == 0) | (s[:, 2] == 1)
    if not pen_ok.all():
        bad = s[:, 2][~pen_ok][0]
        raise SeqartError(f"{path}: {where} has pen value {bad:g}; stroke-3 pens are 0 (down) or 1 (lifted)")
    return stroke3_to_clip(s, float(options.get("rate", 60.0)), source=f"{path.name}:{where}")
