"""From clips to padded, length-bucketed batches in model space.

Batches are `(x, mask)`: `x` (B, T, F) float32 model-space frames padded with
zeros, `mask` (B, T) bool marking real frames. Sorting by length before
cutting batches ("bucketing") keeps padding small: the sheep average 125
points against a maximum of 250. Clips longer than `max_len` frames are cut
into windows: a random one when training, consecutive ones when evaluating.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from seqart.clip import Clip
from seqart.codecs.base import Codec


def pad(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """[(T_i, F)] -> x (B, T_max, F), mask (B, T_max)."""
    t = max(len(a) for a in arrays)
    x = np.zeros((len(arrays), t, arrays[0].shape[1]), np.float32)
    mask = np.zeros((len(arrays), t), bool)
    for i, a in enumerate(arrays):
        x[i, : len(a)] = a
        mask[i, : len(a)] = True
    return torch.from_numpy(x), torch.from_numpy(mask)


def windows(clip: Clip, max_len: int) -> list[Clip]:
    """Consecutive windows of at most max_len frames (0: no limit)."""
    if not max_len or len(clip) <= max_len:
        return [clip]
    return [clip.slice(s, s + max_len) for s in range(0, len(clip), max_len)]


class Batches:
    """Endless training batches: bucketed by length, shuffled, augmented, sharded by rank."""

    def __init__(self, codec: Codec, clips: list[Clip], batch_size: int, max_len: int = 0,
                 seed: int = 0, augment: bool = True, rank: int = 0, world: int = 1):
        self.codec, self.clips, self.max_len = codec, clips, max_len
        self.batch_size, self.augment = batch_size, augment
        self.rank, self.world = rank, world
        self.rng = np.random.default_rng([seed, rank])
        self.order_rng = np.random.default_rng(seed)  # same on every rank: shards stay disjoint
        self.lengths = np.array([min(len(c), max_len or len(c)) for c in clips])
        self.pos, self._epoch_start = 0, None  # batches used in the current epoch; RNG state at its start

    def _epoch(self) -> list[np.ndarray]:
        # Sort by length with random tie-breaks, cut into batches, shuffle the batch order.
        idx = np.lexsort((self.order_rng.random(len(self.lengths)), self.lengths))
        cuts = [idx[i : i + self.batch_size] for i in range(0, len(idx), self.batch_size)]
        order = self.order_rng.permutation(len(cuts))
        usable = len(order) - len(order) % self.world  # every rank gets the same count
        return [cuts[j] for j in order[:usable]][self.rank :: self.world]

    def _frames(self, clip: Clip) -> np.ndarray:
        if self.augment:
            clip = self.codec.augment(clip, self.rng)
        if self.max_len and len(clip) > self.max_len:
            s = int(self.rng.integers(0, len(clip) - self.max_len + 1))
            clip = clip.slice(s, s + self.max_len)
        return self.codec.to_model(clip)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # The epoch's order is re-derived from the RNG state saved at its start, so a resumed
        # run replays the same batches from the same position.
        while True:
            self._epoch_start = self.order_rng.bit_generator.state
            epoch = self._epoch()
            while self.pos < len(epoch):
                batch = epoch[self.pos]
                self.pos += 1
                yield pad([self._frames(self.clips[i]) for i in batch])
            self.pos = 0

    def state(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "epoch_start": self._epoch_start, "pos": self.pos}

    def set_state(self, s: dict) -> None:
        self.rng.bit_generator.state = s["rng"]
        if s.get("epoch_start") is not None:
            self.order_rng.bit_generator.state = s["epoch_start"]
        self.pos = s.get("pos", 0)


def eval_batches(codec: Codec, clips: list[Clip], batch_size: int, max_len: int = 0):
    """Every frame once, in fixed order, no augmentation."""
    arrays = [codec.to_model(w) for c in clips for w in windows(c, max_len)]
    order = np.argsort([len(a) for a in arrays], kind="stable")
    for i in range(0, len(order), batch_size):
        yield pad([arrays[j] for j in order[i : i + batch_size]])
