"""Inside a model: what it predicts and what its cells do at each step of a clip.

The clip is fed through the model's one Sampler (`Sampler.prime`, teacher forcing) with its
`watch` hook set, so each step gives the LSTM's hidden and cell states and the head's output:
the distribution the model put on that step's frame before it saw it. From those:

* a bivariate mixture over pen offsets (strokes): the density of the next point over the
  canvas at every step, each step's density scaled to a peak of 1 and the steps overlaid by
  their maximum (Graves 2013, fig. 10);
* every categorical channel: its class probabilities per step (strokes: the pen's lift and end
  probability along the drawing; notes: the pitch distribution over time);
* every other mixture: the spread (standard deviation of the mixture, in the clip's units) of
  each channel per step, averaged per joint where channels are named JOINT.xxx (poses);
* a handwriting model: its window over the characters per step.
Arrays are (T, ...) with T the clip's frames up to any end token. The codec adds what only it
knows to these views (`Codec.inside_marks`: the drawing's pen-down segments over the density,
the notes as spans over the pitch distribution, names of classes), so what draws them needs no modality.

Each model family says how it is looked into (`seqart.family.Family.inside`): an MDN-LSTM
through `inside` here, DRAW through `seqart.draw.inside` (its canvas as it draws or rewrites an image).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.mdn import split_params

GRID = 128  # cells along the longer side of the density canvas
MAX_FRAMES = 2000  # frames of a clip looked inside (the first ones)


@dataclass
class Inside:
    model: str
    modality: str
    frames: np.ndarray  # (T, C) the clip's frames, clip units
    channels: tuple
    h: np.ndarray  # (T, L, H) hidden state after each step
    c: np.ndarray  # (T, L, H) cell state
    nll: np.ndarray  # (T,) negative log-likelihood of each frame, nats
    views: dict = field(default_factory=dict)  # name -> view (module docstring)
    others: list = field(default_factory=list)  # other clips' (T_i, L, H) h and c, for the match view

    def states(self, kind: str = "h", layer: int = -1) -> np.ndarray:
        """(T, H) hidden ("h") or cell ("c") states of one layer."""
        x = self.h if kind == "h" else self.c
        if not -x.shape[1] <= layer < x.shape[1]:
            raise SeqartError(f"layer {layer}: the model has {x.shape[1]} layer(s)")
        return x[:, layer]

    def to_json(self) -> dict:
        r = lambda a: np.round(np.asarray(a, np.float64), 3).tolist()  # noqa: E731
        return {"model": self.model, "modality": self.modality, "channels": list(self.channels),
                "frames": len(self.frames), "layers": self.h.shape[1], "hidden": self.h.shape[2],
                "h": r(self.h[:, -1]), "c": r(self.c[:, -1]), "nll": r(self.nll),
                "views": {k: {kk: r(vv) if isinstance(vv, np.ndarray) else vv for kk, vv in v.items()}
                          for k, v in self.views.items()}}


def inside(model, clip: Clip | None, others: list | None = None) -> Inside:
    """An MDN-LSTM's Inside views of one clip (`inspect_clip`); it needs a clip to be fed."""
    if clip is None:
        raise SeqartError("inside: give a clip to look inside (draw, play or upload one)")
    return inspect_clip(model, clip, others)


def watch(model, clip: Clip):
    """The Sampler's Watched records, one per frame of clip (fed by priming)."""
    sampler = model.sampler(temperature=1.0, seed=0)
    if not hasattr(sampler, "watch"):
        raise SeqartError(f"{model.name}: Inside looks into MDN-LSTMs; this model's sampler has no watch hook")
    if getattr(sampler, "window", None) is not None:
        text = clip.meta.get("text")
        if not isinstance(text, str) or not text:
            raise SeqartError(f"{model.name}: a handwriting model needs the clip's text (its transcript)")
        sampler.set_text(text)
    records = []
    sampler.watch = records.append
    sampler.prime(clip.slice(0, MAX_FRAMES))
    if not records:
        raise SeqartError(f"{model.name}: the clip has no frames before its end")
    return sampler, records


def inspect_clip(model, clip: Clip, others: list[Clip] = ()) -> Inside:
    """Everything the Inside views show for one clip (and the states of `others`, for match)."""
    if clip.modality != model.modality:
        raise SeqartError(f"inside: a {clip.modality} clip cannot go into a {model.modality} model")
    sampler, rec = watch(model, clip)
    T = len(rec)
    raw = np.stack([r.raw for r in rec]).astype(np.float64)  # (T, P)
    target = np.stack([r.frame for r in rec])  # (T, F) model space
    frames = clip.frames[:T]
    ins = Inside(model.name, model.modality, frames, clip.channels, np.stack([r.h for r in rec]),
                 np.stack([r.c for r in rec]), _nll(sampler, raw, target))
    mixtures, cats = split_params(raw, sampler.layout, sampler.m)
    ins.views = _views(model.codec, sampler.layout, mixtures, cats, frames, clip.channels)
    for name, marks in model.codec.inside_marks(clip.slice(0, T)).items():
        if name in ins.views:  # a view this model's head lacks has nothing to mark
            ins.views[name].update(marks)
    if rec[0].window is not None:
        ins.views["window"] = {"kind": "window", "weights": np.stack([r.window for r in rec])}
    for other in others:
        _, r2 = watch(model, other)
        ins.others.append((np.stack([r.h for r in r2]), np.stack([r.c for r in r2])))
    return ins


def _views(codec, layout, mixtures, cats, frames, channels) -> dict:
    views = {}
    for block, p in zip(layout.mixtures, mixtures):
        idx = [layout.continuous.index(ch) for ch in block.channels]
        shift, scale = codec.norm.shift[idx].astype(np.float64), codec.norm.scale[idx].astype(np.float64)
        if block.kind == "bivariate":
            views["density"] = _density(p, shift, scale, frames, [channels.index(ch) for ch in block.channels])
        else:
            views["spread " + "+".join(block.channels[:1])] = _spread(p, scale, block.channels)
    for c, logits in zip(layout.categoricals, cats):
        prob = np.exp(logits - logits.max(-1, keepdims=True))
        views["classes " + c.channel] = {"kind": "classes", "channel": c.channel,
                                         "probs": prob / prob.sum(-1, keepdims=True), "end": layout.end is not None
                                         and layout.end[0] == c.channel}
    return views


def _mixture_weights(p) -> np.ndarray:
    w = np.exp(p["logit"] - p["logit"].max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)  # (T, M)


def _density(p, shift, scale, frames, cols) -> dict:
    """The next point's density over the canvas, each step's peak scaled to 1, overlaid by max."""
    offsets = frames[:, cols].astype(np.float64)  # (T, 2) clip units
    ends = np.cumsum(offsets, 0)  # where each point landed
    starts = ends - offsets  # where the pen was when the model predicted it
    lo, hi = ends.min(0), ends.max(0)
    pad = 0.1 * max(float((hi - lo).max()), 1.0)
    lo, hi = lo - pad, hi + pad
    cell = float((hi - lo).max()) / GRID
    nx, ny = (np.ceil((hi - lo) / cell).astype(int) + 1)
    gx, gy = lo[0] + cell * np.arange(nx), lo[1] + cell * np.arange(ny)
    w = _mixture_weights(p)
    mu = p["mu"] * scale + shift  # (T, M, 2) clip units
    sig = np.exp(p["log_sigma"]) * scale  # (T, M, 2)
    rho = p["rho"]  # (T, M)
    image = np.zeros((ny, nx))
    for t in range(len(frames)):
        zx = (gx[None, :] - starts[t, 0] - mu[t, :, :1]) / sig[t, :, :1]  # (M, nx)
        zy = (gy[None, :] - starts[t, 1] - mu[t, :, 1:]) / sig[t, :, 1:]  # (M, ny)
        r = rho[t][:, None, None]
        q = (zx[:, None, :] ** 2 + zy[:, :, None] ** 2 - 2 * r * zx[:, None, :] * zy[:, :, None]) / (1 - r**2)
        norm = w[t] / (2 * np.pi * sig[t, :, 0] * sig[t, :, 1] * np.sqrt(1 - rho[t] ** 2))
        d = (norm[:, None, None] * np.exp(-0.5 * q)).sum(0)  # (ny, nx)
        image = np.maximum(image, d / max(d.max(), 1e-300))
    return {"kind": "density", "image": image, "origin": lo.tolist(), "cell": cell, "path": ends}


def _spread(p, scale, names) -> dict:
    """Per channel, the mixture's standard deviation in clip units; grouped per joint when named so."""
    w = _mixture_weights(p)[..., None]  # (T, M, 1)
    mu, var = p["mu"], np.exp(2 * p["log_sigma"])
    mean = (w * mu).sum(1)
    std = np.sqrt(np.maximum((w * (var + mu**2)).sum(1) - mean**2, 0.0)) * scale  # (T, D)
    groups: dict[str, list[int]] = {}
    for i, ch in enumerate(names):
        cut = max(ch.rfind("."), ch.rfind("_"))
        groups.setdefault(ch[:cut] if cut > 0 else ch, []).append(i)
    return {"kind": "spread", "names": list(groups), "std": np.stack([std[:, i].mean(1) for i in groups.values()], 1)}


def _nll(sampler, raw: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(T,) NLL of each frame under the model's own prediction, nats (model space)."""
    import torch

    from seqart.mdn import head_nll

    copula = {i: (torch.from_numpy(c[0]).float(), c[1]) for i, c in enumerate(sampler.copula) if c is not None}
    with torch.no_grad():
        parts = head_nll(torch.from_numpy(raw).float()[None], torch.from_numpy(target).float()[None],
                         sampler.layout, sampler.m, copula)
    return sum(parts.values())[0].numpy().astype(np.float64)
