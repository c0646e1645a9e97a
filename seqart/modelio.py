"""Load a trained model and its codec from a run folder or a model folder."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import torch

from seqart import checkpoint, copula, family, limits, spec
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


def check_meta(folder: Path, meta: dict, weights: dict) -> None:
    """model.json: its objects, its model settings (known keys, the default's type, in range) and,
    for an MDN-LSTM, a size the stored weights can hold.

    Checked before the model is built: a JSON that claims hidden = 65536 would otherwise
    allocate gigabytes before the weights are found not to fit."""
    where = folder / "model.json"
    if not all(isinstance(meta.get(k, {}), dict) for k in ("model", "codec", "train")) or "codec" not in meta:
        raise SeqartError(f"{where}: expected \"model\", \"codec\" and \"train\" objects")
    meta.setdefault("train", {})
    name = meta.get("family", "mdn")
    if not isinstance(name, str):
        raise SeqartError(f"{where}: family must be a name, not {name!r}")
    cfg = meta.setdefault("model", {})
    defaults = {f.name: f.default for f in fields(family.get(name).config_class)}
    if set(cfg) - set(defaults):
        raise SeqartError(f"{where}: unknown model setting(s) {', '.join(sorted(set(cfg) - set(defaults)))}")
    for key, value in cfg.items():  # the default's type: a JSON true is not a size, 3.5 is not a layer count
        d = defaults[key]
        whole = isinstance(d, int) and not isinstance(d, bool)
        if (whole or isinstance(d, float)) and (isinstance(value, bool) or not isinstance(value, int if whole else (int, float))):
            raise SeqartError(f"{where}: model.{key} must be a {'whole ' if whole else ''}number, not {value!r}")
    spec.check(spec.MODELS[name], {"model": cfg}, str(where))
    stored = sum(t.numel() for t in weights.values())
    needed = family.get(name).recurrent_weights(cfg)  # a lower bound on what the weights must hold
    if needed > stored:
        raise SeqartError(f"{where}: the model it describes needs more than the {stored:,} weights stored")


def load_model(path: Path, device: str = "cpu") -> tuple[torch.nn.Module, Codec, dict]:
    """(model of its family (seqart.family), codec, checkpoint JSON); no code from the files runs."""
    folder = resolve(path)
    weights, meta = checkpoint.load(folder, "model")
    check_meta(folder, meta, weights)
    limits.cancel_check(folder)  # a live load given up while the weights were read stops here
    try:
        model = family.get(meta.get("family", "mdn")).rebuild(meta["model"])
        limits.cancel_check(folder)
        model.load_state_dict(weights)
        if hasattr(model, "copula_factors"):
            copula.check(model)
        codec = codec_from_config(meta["codec"])
    except SeqartError as e:
        raise SeqartError(f"{folder}: {e}") from None
    except (KeyError, TypeError, RuntimeError, ValueError, IndexError, AttributeError, OverflowError) as e:
        raise SeqartError(f"{folder}: checkpoint does not match its config ({type(e).__name__}: {str(e)[:200]})") from None
    model.to(torch.device(device)).eval()
    return model, codec, meta
