"""Held-out scoring of a trained model on data it never saw, in units every model shares.

The model scores continuous channels in its own normalised space,
`(x - shift) / scale` with shift and scale fitted on its training data. A
density in that space is a density in the data's units times the Jacobian
`prod(1 / scale)`, so

    nll_data = nll_model + sum(log scale)   (over a block's channels, per frame it scores)

Two models of the same data, normalised differently (a fine-tune keeps its
initial model's normalisation; a model trained from scratch fits its own),
then score the same data in the same units and can be compared. Categorical
channels need no change. The data's units are the codec's continuous channels
before normalisation: strokes, source units (pixels, font units), with the
codec's dequantisation of one source unit; notes, log-seconds (log(s + eps));
poses, the pose channels (file units and radians per frame, 6-D rotations).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart import family, shards
from seqart.codecs.base import Codec
from seqart.data import held_out_of, read_split
from seqart.errors import SeqartError
from seqart.modelio import load_model
from seqart.train import evaluate


def log_jacobian(codec: Codec, clips) -> dict[str, float]:
    """Per mixture block: sum(log scale) times the share of frames whose continuous values are scored."""
    frames = sum(len(c) for c in clips)
    scored = sum(int((~codec._end_mask(c.frames)).sum()) for c in clips)  # end frames carry no values
    share = scored / max(frames, 1)
    log_scale = dict(zip(codec.layout.continuous, np.log(codec.norm.scale.astype(np.float64))))
    return {b.name: float(sum(log_scale[c] for c in b.channels)) * share for b in codec.layout.mixtures}


def in_data_units(result: dict, codec: Codec, clips) -> dict:
    """A model-space NLL result ({block: nats, ..., "nll": total}) -> the same in the data's units."""
    shift = log_jacobian(codec, clips)
    out = {k: (v + shift.get(k, 0.0)) for k, v in result.items() if k not in ("nll", "frames", "kl")}
    return out | {"nll": float(sum(out.values()))}


def evaluate_run(run: Path, data: Path, split: str = "test", batch_size: int = 50) -> dict:
    """NLL in nats per frame on one split of DATA: in the data's units, and in the model's space."""
    model, codec, meta = load_model(run)
    if split == "all":
        if shards.is_cache(data):  # every split's shards, read per batch
            read_split(codec, Path(data))  # checks the cache's modality
            clips = shards.Cache(Path(data)).split("all")
        else:
            clips = [c for s in codec.read(Path(data)).values() for c in s]
        what = {"rule": "every clip of the data", "clips": len(clips)}
    else:
        made = read_split(codec, Path(data))
        clips, what = made.clips.get(split), held_out_of(made, split)
        if not clips:
            has = ", ".join(f"{k} ({len(v)} clips)" for k, v in made.clips.items() if v)
            raise SeqartError(f"{data}: no clips in split {split!r} ({made.rule}: {has}); "
                              f"try --split {'valid' if made.clips.get('valid') else 'train'}")
    result = evaluate(model, codec, clips, batch_size, meta["train"].get("max_len", 0))
    model_space = {k: v for k, v in result.items() if k != "frames"}
    if family.of_model(model).name == "draw":  # pixels are the data's units: one "frame" is one image
        return {"split": split, "images": len(clips)} | model_space | {
            "units": "nats per image: nll = -ELBO = recon (-log p(x | canvas)) + latent (the steps' KL)",
            "held_out": what}
    blocks = ", ".join(m.name for m in codec.layout.mixtures)
    return {"split": split, "clips": len(clips), "frames": result["frames"]} | in_data_units(result, codec, clips) | {
        "units": f"nats per frame; {blocks} in the data's own units (before any model's normalisation)",
        "model_space": model_space | {"units": f"nats per frame; {blocks} in this model's normalisation"},
        "held_out": what,
    }
