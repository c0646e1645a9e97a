"""From clips to padded, length-bucketed batches in model space.

Batches are `(x, mask)`: `x` (B, T, F) float32 model-space frames padded with
zeros, `mask` (B, T) bool marking real frames. Sorting by length before
cutting batches ("bucketing") keeps padding small: the sheep average 125
points against a maximum of 250. Clips longer than `max_len` frames are cut
into windows: a random one when training, consecutive ones when evaluating.

Clips come from a list in memory or from a prepared cache (`seqart.shards`):
anything with `len`, `[i] -> Clip` and, for a cache, `lengths` (N,), so a
batch reads only its own clips. Under torchrun every rank cuts the same
epoch and takes every world-th batch; the batch iterator's state goes into
the checkpoint, so a resumed run goes on from the exact sample.

Debugging the data order: with `SEQART_SAMPLE_LOG=PREFIX` set, each rank
appends one JSON line per batch, `{"epoch", "ids"}`, to `PREFIX.rank<R>.jsonl`
(ids index the training split).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from seqart import shards
from seqart.clip import Clip
from seqart.codecs import codec_for_path
from seqart.codecs.base import Codec
from seqart.errors import SeqartError
from seqart.splits import Split, describe_split, held_out, make_split


def pad(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """[(T_i, F)] -> x (B, T_max, F), mask (B, T_max)."""
    t = max(len(a) for a in arrays)
    x = np.zeros((len(arrays), t, arrays[0].shape[1]), np.float32)
    mask = np.zeros((len(arrays), t), bool)
    for i, a in enumerate(arrays):
        x[i, : len(a)] = a
        mask[i, : len(a)] = True
    return torch.from_numpy(x), torch.from_numpy(mask)


def open_codec(data: Path, options: dict | None = None) -> Codec:
    """DATA's codec: a prepared cache's own (normalisation included), else the one its file type names."""
    if shards.is_cache(data):
        return shards.Cache(data).codec(options)
    return codec_for_path(data, options)


def read_split(codec: Codec, data: Path) -> Split:
    """Train / valid / test clips and how they were split: a cache's shards (read per batch; its
    split was made when it was prepared), else the files read whole and split now."""
    if shards.is_cache(data):
        cache = shards.Cache(data)
        if cache.modality != codec.modality:
            raise SeqartError(f"{data}: a cache of {cache.modality}, not {codec.modality}")
        return cache.split_info()
    return make_split(codec.read(Path(data)), codec)


def describe(split: Split) -> str:
    """What each split holds, in words (a cache's was written when it was prepared)."""
    return split.description if isinstance(split, shards.CachedSplit) else describe_split(split)


def held_out_of(split: Split, name: str) -> dict:
    """What one split holds, JSON-able (see `splits.held_out`)."""
    return split.held_out.get(name, {}) if isinstance(split, shards.CachedSplit) else held_out(split, name)


def lengths_of(clips: Sequence[Clip]) -> np.ndarray:
    """(N,) frames per clip; a cache knows them without reading any frames."""
    known = getattr(clips, "lengths", None)
    return np.asarray(known if known is not None else [len(c) for c in clips], np.int64)


class Batches:
    """Endless training batches: bucketed by length, shuffled, augmented, sharded by rank."""

    def __init__(self, codec: Codec, clips: Sequence[Clip], batch_size: int, max_len: int = 0,
                 seed: int = 0, augment: bool = True, rank: int = 0, world: int = 1):
        self.codec, self.clips, self.max_len = codec, clips, max_len
        self.batch_size, self.augment = batch_size, augment
        self.rank, self.world = rank, world
        self.rng = np.random.default_rng([seed, rank])
        self.order_rng = np.random.default_rng(seed)  # same on every rank: shards stay disjoint
        self.lengths = lengths_of(clips)
        if max_len:
            self.lengths = np.minimum(self.lengths, max_len)
        self.pos, self._epoch_start = 0, None  # batches used in the current epoch; RNG state at its start
        self.epoch = 0
        log = os.environ.get("SEQART_SAMPLE_LOG")
        self.sample_log = Path(f"{log}.rank{rank}.jsonl") if log else None

    def _epoch(self) -> list[np.ndarray]:
        # Sort by length with random tie-breaks, cut into batches, shuffle the batch order.
        idx = np.lexsort((self.order_rng.random(len(self.lengths)), self.lengths))
        if self.world == 1:
            cuts = [idx[i : i + self.batch_size] for i in range(0, len(idx), self.batch_size)]
        else:  # every clip once per epoch over all ranks, the same number of batches on each
            n = self.world * math.ceil(math.ceil(len(idx) / self.batch_size) / self.world)
            if n > len(idx):
                raise SeqartError(f"{len(idx)} training clips cannot be shared among {self.world} processes")
            cuts = np.array_split(idx, n)
        order = self.order_rng.permutation(len(cuts))
        return [cuts[j] for j in order][self.rank :: self.world]

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
                if self.sample_log is not None:
                    with open(self.sample_log, "a") as f:
                        f.write(json.dumps({"epoch": self.epoch, "ids": batch.tolist()}) + "\n")
                yield pad([self._frames(self.clips[int(i)]) for i in batch])
            self.pos = 0
            self.epoch += 1

    def state(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "epoch_start": self._epoch_start, "pos": self.pos,
                "epoch": self.epoch}

    def set_state(self, s: dict) -> None:
        self.rng.bit_generator.state = s["rng"]
        if s.get("epoch_start") is not None:
            self.order_rng.bit_generator.state = s["epoch_start"]
        self.pos = s.get("pos", 0)
        self.epoch = s.get("epoch", 0)


def eval_batches(codec: Codec, clips: Sequence[Clip], batch_size: int, max_len: int = 0):
    """Every frame once, in fixed order, no augmentation; each batch reads only its own clips.

    Clips longer than max_len are cut into consecutive windows; windows are sorted by length
    (stable), so the batches are those of cutting every clip first.
    """
    pieces = [(i, s, min(n - s, max_len or n)) for i, n in enumerate(lengths_of(clips).tolist())
              for s in (range(0, n, max_len) if max_len and n > max_len else [0])]
    order = np.argsort([p[2] for p in pieces], kind="stable")
    for b in range(0, len(order), batch_size):
        chosen = [pieces[j] for j in order[b : b + batch_size]]
        yield pad([codec.to_model(_window(clips[i], s, n)) for i, s, n in chosen])


def _window(clip: Clip, start: int, n: int) -> Clip:
    return clip if start == 0 and n == len(clip) else clip.slice(start, start + n)
