"""Model families: what the one trainer, loader and sampler need to know about a kind of model.

Two families share the house (docs/architecture.md):

* "mdn": the mixture-density LSTMs over frames of strokes, notes and poses (seqart.model);
* "draw": DRAW, a recurrent attentive VAE over an image canvas (seqart.draw).

A codec names its family (`Codec.family`, "mdn" unless it says otherwise), so the data
picks the model: a folder of images trains DRAW, a folder of MIDI an MDN-LSTM. A family
gives its settings (a config dataclass whose defaults fill the `[model]` section), builds
its model from those settings and the codec, turns the model's losses into the one
scalar that training minimises, describes the model in a line, and makes the stepwise
generator (`step()` -> the next frame, None at the end) that export and live consume.
Checkpoints record the family (`model.json`: "family"); one without it is an MDN-LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable

import numpy as np
import torch

from seqart.errors import SeqartError


@dataclass(frozen=True)
class Family:
    name: str
    config_class: type  # a dataclass: its fields are the [model] settings
    model_class: type  # built as model_class(config_class(**settings))
    derived: tuple[str, ...]  # config fields the codec fills in, not settings (MDN: layout; DRAW: image size)
    from_codec: Callable  # codec -> {derived field: value}
    loss: Callable  # (losses dict, trainer) -> the scalar to minimise
    describe: Callable  # model -> "LSTM 512 x 1, 20 mixtures" (what the start line says)
    sampler: Callable  # (model, codec, **controls) -> a stepwise generator
    frame_limit: Callable  # (checkpoint JSON, model) -> frames per generated sequence, or None (streams)
    recurrent_weights: Callable  # stored model settings -> how many recurrent weights they need, at least
    prepare: Callable = lambda model, codec, clips: None  # a fresh model meets its training clips (DRAW: c_0)
    # For the memory estimate (seqart.memory): steps a training sequence runs, None when the data
    # decides (whole sequences), and floats a step keeps beyond its LSTM and linear layers.
    train_steps: Callable = lambda model, train: int(train.get("max_len") or 0) or None
    step_extra_floats: Callable = lambda model: 0
    # The studio's Inside panel and `seqart inspect`: (model, clip or None, other clips) -> an
    # Inside (seqart.studio.inside) of what the model does at each step.
    inside: Callable = lambda model, clip, others: _no_inside(model)

    def settings(self) -> dict:
        """Every user-facing [model] setting with its default."""
        return {f.name: f.default for f in fields(self.config_class) if f.name not in self.derived}

    def build(self, settings: dict, codec) -> torch.nn.Module:
        """A fresh model from [model] settings and the codec that feeds it."""
        own = {k: v for k, v in settings.items() if k not in self.derived}
        return self.model_class(self.config_class(**own, **self.from_codec(codec)))

    def rebuild(self, stored: dict) -> torch.nn.Module:
        """The model a checkpoint's "model" JSON describes (derived fields included)."""
        return self.model_class(self.config_class(**stored))


def _no_inside(model):
    raise SeqartError(f"{model.name}: this kind of model cannot be looked inside")


def _mdn() -> Family:
    from seqart.model import MDNLSTM, ModelConfig
    from seqart.sample import Sampler, frame_limit
    from seqart.studio.inside import inside

    def loss(losses: dict, trainer) -> torch.Tensor:
        total = losses["nll"]
        if "kl" in losses:  # KL below the tolerance floor exerts no pressure (sketch-rnn)
            total = total + trainer.kl_weight() * torch.clamp(losses["kl"], min=trainer.tc.kl_min)
        return total

    def describe(model) -> str:
        c = model.cfg
        vae = f", VAE z {c.z_dim}" if c.z_dim else ""
        return f"LSTM {c.hidden} x {c.layers}, {c.mixtures} mixtures{vae}"

    return Family("mdn", ModelConfig, MDNLSTM, ("layout",), lambda codec: {"layout": codec.layout.to_json()},
                  loss, describe, Sampler, frame_limit,
                  lambda c: 4 * int(c.get("hidden", 512)) ** 2 * int(c.get("layers", 1)), inside=inside)


def _draw() -> Family:
    from seqart.draw.inside import inside
    from seqart.draw.model import DRAW, DRAWConfig, weight_count
    from seqart.draw.sampler import CanvasSampler

    def describe(model) -> str:
        c = model.cfg
        att = f"read {c.read_n}x{c.read_n}, write {c.write_n}x{c.write_n}" if c.attention else "no attention"
        return (f"DRAW T {c.glimpses}, LSTM {c.enc_hidden}/{c.dec_hidden}, z {c.z_dim}, {att}, "
                f"{c.likelihood} on {c.height}x{c.width}")

    def prepare(model, codec, clips) -> None:
        """c_0 from the mean of (at most 10,000 of) the training images."""
        if isinstance(clips, list) and clips:
            images = np.stack([codec.to_model(c)[-1] for c in clips[:10000]])
            model.start_from_data(torch.from_numpy(images.mean(0)))

    return Family("draw", DRAWConfig, DRAW, ("height", "width"),
                  lambda codec: {"height": codec.size[0], "width": codec.size[1]},
                  lambda losses, trainer: losses["nll"],  # the whole -ELBO, no annealing
                  describe, CanvasSampler, lambda meta, model: model.cfg.glimpses,
                  weight_count, prepare,
                  train_steps=lambda model, train: int(model.cfg.glimpses), inside=inside,
                  # each step keeps its canvas, the error image and the write: 4 floats a pixel cover them
                  # (benchmarks/results/memory_estimate.json)
                  step_extra_floats=lambda model: 4 * int(model.cfg.height) * int(model.cfg.width))


_MAKERS = {"mdn": _mdn, "draw": _draw}


def get(name: str) -> Family:
    if name not in _MAKERS:
        raise SeqartError(f"unknown model family {name!r} (known: {', '.join(sorted(_MAKERS))})")
    return _MAKERS[name]()


def of_codec(codec) -> Family:
    """The family a codec's data trains."""
    return get(codec.family)


def of_model(model: torch.nn.Module) -> Family:
    """The family of a built model."""
    for name in _MAKERS:
        fam = get(name)
        if isinstance(model, fam.model_class):
            return fam
    raise SeqartError(f"{type(model).__name__} belongs to no model family")
