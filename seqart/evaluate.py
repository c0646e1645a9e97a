"""Held-out scoring of a trained model on data it never saw."""

from __future__ import annotations

from pathlib import Path

from seqart.errors import SeqartError
from seqart.modelio import load_model
from seqart.splits import split_clips
from seqart.train import evaluate


def evaluate_run(run: Path, data: Path, split: str = "test", batch_size: int = 50) -> dict:
    model, codec, meta = load_model(run)
    splits = codec.read(Path(data))
    if split != "all":
        splits = split_clips(splits)
    clips = [c for s in splits.values() for c in s] if split == "all" else splits.get(split)
    if not clips:
        raise SeqartError(f"{data}: no clips in split {split!r} (has: {', '.join(sorted(splits))})")
    result = evaluate(model, codec, clips, batch_size, meta["train"].get("max_len", 0))
    return {"split": split, "clips": len(clips)} | result
