"""DRAW's stepwise generator: `step()` gives the next canvas and the window that wrote it.

The same contract as the MDN-LSTMs' `seqart.sample.Sampler`, so `generate_clips`,
export and the live engine drive either family alike:

    s = CanvasSampler(model, codec, temperature=1.0, seed=0)
    frame = s.step()   # (4 + H*W,): x, y, stride, sigma of the write window, then the canvas
    ...                # T frames, then None; s.reset() starts a new image

Generation runs DRAW's decoder alone (Gregor et al. 2015, sec. 2.3): z_t from the
prior N(0, I), h_dec = LSTM_dec(h_dec, z_t), c_t = c_{t-1} + write(h_dec); the frame
shows sigmoid(c_t), the likelihood's mean. Temperature scales the prior's variance
(z = sqrt(tau) * eps, as the MDN sampler scales its Gaussians), greedy takes z = 0,
and `bias` is not used (it is the MDN's mixture sharpening).

Window units (frame channels, pixels from the image's top-left corner): the centre x, y
(the filters' 1-based centre gx minus half a pixel), the stride between filters and
the filters' standard deviation. Without attention DRAW writes the whole canvas at
once: the window is the image, centre in the middle, stride 1 pixel, sigma 0.
"""

from __future__ import annotations

import numpy as np
import torch

from seqart.clip import Clip
from seqart.errors import SeqartError


class CanvasSampler:
    def __init__(self, model, codec, temperature: float = 1.0, bias: float = 0.0, greedy: bool = False,
                 seed: int | None = None, max_frames: int | None = None, z=None):
        """max_frames: stop after this many steps (None: after the model's T)."""
        self.model, self.codec, self.cfg = model.eval(), codec, model.cfg
        self.temperature, self.greedy = float(temperature), greedy
        self.max_frames = max_frames
        self.rng = np.random.default_rng(seed)
        self.write_n = self.cfg.write_n if self.cfg.attention else self.cfg.width
        self.reset()

    def reset(self, z=None) -> None:
        """Back to an empty canvas."""
        self.h = self.model.h_dec0.detach()[None].clone()  # the learned start (seqart.draw.model)
        self.s = torch.zeros(1, self.cfg.dec_hidden)
        self.canvas = self.model.canvas0.detach()[None].clone()  # logits (1, H*W)
        self.frames, self.done = 0, False

    def set_temperature(self, t: float) -> None:
        self.temperature = max(float(t), 0.0)

    def prime(self, clip: Clip) -> None:
        raise SeqartError("DRAW draws from an empty canvas: it cannot be primed with a clip")

    @property
    def steps(self) -> int:
        """How many frames one image takes: T, or max_frames if smaller."""
        return min(self.cfg.glimpses, self.max_frames or self.cfg.glimpses)

    @torch.no_grad()
    def step(self) -> np.ndarray | None:
        """The next frame (4 + H*W,) in the canvas codec's channel order, or None after the last step."""
        if self.done or self.frames >= self.steps:
            self.done = True
            return None
        z = np.zeros(self.cfg.z_dim) if self.greedy else np.sqrt(self.temperature) * self.rng.standard_normal(self.cfg.z_dim)
        self.h, self.s = self.model.decoder(torch.from_numpy(z.astype(np.float32))[None], (self.h, self.s))
        update, win = self.model.write(self.h)
        self.canvas = self.canvas + update
        self.frames += 1
        pixels = self.model.mean_image(self.canvas)[0].numpy()
        return np.concatenate([self._window(win), pixels]).astype(np.float32)

    def _window(self, win) -> np.ndarray:
        """(4,) x, y, stride, sigma in pixels (module docstring)."""
        if win is None:
            return np.array([self.cfg.width / 2, self.cfg.height / 2, 1.0, 0.0], np.float32)
        return np.array([float(win.gx[0]) - 0.5, float(win.gy[0]) - 0.5, float(win.delta[0]),
                         float(win.sigma2[0]) ** 0.5], np.float32)

    def generate(self, max_frames: int, prime: Clip | None = None, seconds: float | None = None) -> Clip:
        """One image drawn over its steps: a clip of one frame per step (at most max_frames, or `seconds`)."""
        self.reset()
        if prime is not None:
            self.prime(prime)
        frames = []
        while len(frames) < max_frames and (seconds is None or len(frames) / self.codec.options["fps"] < seconds):
            f = self.step()
            if f is None:
                break
            frames.append(f)
        arr = np.asarray(frames, np.float32).reshape(-1, len(self.codec.channels))
        return Clip(arr, self.codec.channels, self.codec.modality, **self.codec.clip_defaults(),
                    meta={"write_n": self.write_n, "size": list(self.codec.size)})
