"""Load a trained model and its codec from a run folder or a model folder."""

from __future__ import annotations

from pathlib import Path

import torch

from seqart import checkpoint, family
from seqart.codecs import codec_from_config
from seqart.codecs.base import Codec
from seqart.errors import SeqartError


def resolve(path: Path) -> Path:
    """A model folder: PATH itself, PATH/best or PATH/latest, or a shipped model's name."""
    path = Path(path)
    for cand in (path, path / "best", path / "latest"):
        found = checkpoint.find(cand)
        if found is not None:
            return found
    shipped = Path(__file__).parent / "models" / str(path)
    if not path.exists() and checkpoint.find(shipped) is not None:
        return shipped
    if not path.exists():
        raise SeqartError(f"{path}: no such run or model")
    raise SeqartError(f"{path}: no checkpoint here (expected model.json and model.safetensors)")


def load_model(path: Path, device: str = "cpu") -> tuple[torch.nn.Module, Codec, dict]:
    """(model of its family (seqart.family), codec, checkpoint JSON); no code from the files runs."""
    folder = resolve(path)
    weights, meta = checkpoint.load(folder, "model")
    try:
        model = family.get(meta.get("family", "mdn")).rebuild(meta["model"])
        model.load_state_dict(weights)
        codec = codec_from_config(meta["codec"])
    except (KeyError, TypeError, RuntimeError, ValueError) as e:
        raise SeqartError(f"{folder}: checkpoint does not match its config ({type(e).__name__}: {str(e)[:200]})") from None
    model.to(torch.device(device)).eval()
    return model, codec, meta
