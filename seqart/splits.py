"""Train / valid / test splits that keep related clips together.

Data that ships its own split (sketch-rnn .npz, JSB chorales) keeps it.
Otherwise each clip's `meta["group"]` (or its source file) is hashed, so
every clip of one group lands in the same split, the same way on every
machine: 90% train, 5% valid, 5% test.
"""

from __future__ import annotations

import zlib

from seqart.clip import Clip
from seqart.errors import SeqartError


def group_split(key: str) -> str:
    bucket = zlib.crc32(key.encode()) % 20
    return "valid" if bucket == 0 else "test" if bucket == 1 else "train"


def split_clips(splits: dict[str, list[Clip]]) -> dict[str, list[Clip]]:
    if "train" in splits:
        out = {k: list(v) for k, v in splits.items()}
    else:
        out = {"train": [], "valid": [], "test": []}
        for name, clips in splits.items():
            for c in clips:
                out[group_split(str(c.meta.get("group", c.meta.get("source", name))))].append(c)
    if not out.get("train"):
        raise SeqartError("no training clips: the data is empty")
    if not out.get("valid"):  # tiny data: validate on the training clips rather than not at all
        out["valid"] = out["train"][: max(1, len(out["train"]) // 20)]
    return out
