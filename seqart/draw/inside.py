"""Inside DRAW (the studio's Inside panel and `seqart inspect` for a DRAW model).

With no image, DRAW is looked into as it draws: its one sampler (CanvasSampler) steps from an
empty canvas, and each step gives the canvas so far and the write window (centre, stride times
the filters, sigma), with the decoder's hidden and cell states. Given an image, DRAW reads and
rewrites it: its `watch` hook gives each glimpse's read box and write box, the canvas so far and
the decoder's states. Both are one "draw" view of a seqart.studio.inside.Inside.
"""

from __future__ import annotations

import threading

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.studio.inside import Inside

_WATCHING = threading.Lock()  # a DRAW model's `watch` hook is the model's own, and the studio shares one model among tabs


def inside(model, clip: Clip | None = None, others: list | None = None) -> Inside:
    """DRAW drawing from an empty canvas (no clip), or reading and rewriting the image clip."""
    return inspect_canvas(model) if clip is None else inspect_image(model, clip)


def inspect_canvas(model, seed: int = 0) -> Inside:
    """DRAW's steps from an empty canvas: canvases (T, H, W), write boxes (T, 4) x, y, size, sigma in
    pixels from the top-left, and the decoder's states, read from the CanvasSampler as it steps."""
    sampler = model.sampler(temperature=1.0, seed=seed)
    frames, h, c = [], [], []
    while (frame := sampler.step()) is not None:
        frames.append(frame)
        h.append(sampler.h.numpy().copy())  # (1, H): the decoder's one layer
        c.append(sampler.s.numpy().copy())
    if not frames:
        raise SeqartError(f"{model.name}: the model drew nothing")
    f = np.stack(frames)  # (T, 4 + H*W)
    hh, ww = model.codec.size
    boxes = np.column_stack([f[:, 0], f[:, 1], f[:, 2] * sampler.write_n, f[:, 3]])
    ins = Inside(model.name, model.modality, f, tuple(model.codec.channels), np.stack(h), np.stack(c),
                 np.zeros(len(f)))
    ins.views = {"draw": {"kind": "draw", "canvases": f[:, 4:].reshape(-1, hh, ww), "boxes": boxes}}
    return ins


def inspect_image(model, clip: Clip) -> Inside:
    """DRAW reading and rewriting one image: per glimpse the read box and the write box (x, y, size,
    sigma in pixels), the canvas so far (T, H, W) and the decoder's states, through DRAW.watch."""
    import torch

    steps = []
    pixels = model.codec.to_model(clip)  # (1, H*W)
    with _WATCHING:  # else another tab's image would add its steps here, or unset the hook half-way
        model.model.watch = lambda *step: steps.append(step)
        try:
            with torch.no_grad():
                model.model(torch.from_numpy(pixels), z_sample=False)
        finally:
            model.model.watch = None
    hh, ww = model.codec.size
    no_box = (ww / 2, hh / 2, float(max(hh, ww)), 0.0)  # without attention each step sees the whole image
    read = np.array([r if r is not None else no_box for r, *_ in steps])
    write = np.array([w if w is not None else no_box for _, w, *_ in steps])
    canvases = np.stack([c for _, _, c, _, _ in steps]).reshape(-1, hh, ww)
    h = np.stack([s[3] for s in steps])[:, None]
    c = np.stack([s[4] for s in steps])[:, None]
    ins = Inside(model.name, model.modality, clip.frames[-1:], clip.channels, h, c, np.zeros(len(steps)))
    ins.views = {"draw": {"kind": "draw", "canvases": canvases, "boxes": write, "read": read,
                          "image": pixels.reshape(hh, ww)}}
    return ins
