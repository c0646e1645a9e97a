"""Read drawings in any supported format into stroke Clips, by file type.

A folder is read file by file; files that fail are reported together.
Only sketch-rnn `.npz` files carry their own train/valid/test split; other
inputs come back as one split named "all".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.formats.safe_npz import load_npz


def read(path: Path, options: dict) -> dict[str, list[Clip]]:
    if path.is_dir():
        return _read_folder(path, options)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise SeqartError(f"{path}: not a drawing file (expected .npz, .ndjson, .svg or .jhf)")
    return reader(path, options)


def _read_folder(path: Path, options: dict) -> dict[str, list[Clip]]:
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _READERS)
    if not files:
        raise SeqartError(f"{path}: no drawing files in this folder")
    out: dict[str, list[Clip]] = {}
    for f in files:
        for split, clips in read(f, options).items():
            out.setdefault(split, []).extend(clips)
    return out


def read_npz(path: Path, options: dict) -> dict[str, list[Clip]]:
    """sketch-rnn stroke-3 `.npz` with train/valid/test object arrays."""
    from seqart.codecs.strokes import stroke3_to_clip

    data = load_npz(path)
    if not data:
        raise SeqartError(f"{path}: no arrays in this .npz")
    out = {}
    for split, items in data.items():
        clips = []
        for i, s in enumerate(items if items.dtype == object else [items]):
            s = np.asarray(s)
            if s.ndim != 2 or s.shape[1] != 3 or s.dtype.kind not in "iuf":
                raise SeqartError(f"{path}: {split}[{i}] is not an (N, 3) stroke-3 array")
            clips.append(stroke3_to_clip(s, options.get("rate", 60.0), source=f"{path.name}:{split}[{i}]"))
        out[split] = clips
    return out


_READERS = {".npz": read_npz}
