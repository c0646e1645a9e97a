"""Count-based baselines for note sequences, scored in the model's own space.

A trained model's NLL is nats per note over (dt, dur) in its normalised log
space, plus pitch, velocity (and program) classes. To compare like with like,
the baselines score the same held-out frames in the same space, using the
model's own codec (its fitted normalisation, and its fixed dequantisation
draw, so every scorer sees exactly the same held-out numbers):

* `unigram`: pitch, velocity (and program) drawn independently from their
  training frequencies (add-0.5 smoothing);
* `bigram`: pitch given the previous note's pitch, interpolated with the
  unigram (weight chosen on validation); the first note of a piece uses the unigram.

Timing depends on how the model holds time, so that both score the same thing:

* seconds (a density over normalised log-seconds), shared by both baselines:
  the empirical distribution of training (dt, dur) pairs, smoothed into a
  density with a Gaussian kernel (bandwidth chosen on the validation split, no
  narrower than the model's narrowest Gaussian), mixed with 0.1% of one broad
  Gaussian so no held-out note gets zero density;
* grid (classes of grid steps): the (dt, dur) class pair as one token, its
  training frequency for the unigram, and given the previous note's pair,
  interpolated like pitch, for the bigram. These are probabilities of classes,
  not densities: a grid model's NLL compares with these, never with a
  seconds model's.

Every figure is nats per note, the mean over all held-out notes, with its
parts named as the model's evaluation names them ("dt+dur", "pitch", ...;
a grid model reports "dt" and "dur", whose sum is "dt+dur").
"""

from __future__ import annotations

import math

import numpy as np

from seqart.clip import Clip
from seqart.codecs.base import Codec
from seqart.mdn import LOG_SIGMA_MIN

# Kernel sd in normalised model units, never below the model's narrowest Gaussian: on quantised
# data (most MIDI) a narrower kernel would buy density the model cannot reach, by resolution alone.
BANDWIDTHS = (math.exp(LOG_SIGMA_MIN), 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
BIGRAM_WEIGHTS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # pseudo-counts of the unigram in each bigram row
BROAD = 1e-3  # weight of the broad Gaussian in the timing density
MAX_CENTRES = 5000  # kernel centres (unique training pairs, subsampled beyond this)


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def model_arrays(codec: Codec, clips: list[Clip]) -> list[np.ndarray]:
    """Each clip in model space: (T, F) = normalised (dt, dur), then class columns."""
    return [codec.to_model(c) for c in clips]


class TimingKDE:
    """Density over normalised (dt, dur): Gaussian kernels on the training pairs."""

    def __init__(self, xs: np.ndarray, seed: int = 0):
        pts, counts = np.unique(np.round(xs.astype(np.float64), 6), axis=0, return_counts=True)
        if len(pts) > MAX_CENTRES:
            rng = np.random.default_rng(seed)
            keep = rng.choice(len(pts), MAX_CENTRES, replace=False, p=counts / counts.sum())
            pts, counts = pts[keep], counts[keep]
        self.centres, self.logw = pts, np.log(counts / counts.sum())
        self.mean, self.cov = xs.mean(0), np.cov(xs.T) + 1e-6 * np.eye(xs.shape[1])
        self.h = BANDWIDTHS[0]

    def log_prob(self, x: np.ndarray, chunk: int = 2000) -> np.ndarray:
        """x (N, D) -> log density (N,)."""
        d = x.shape[1]
        out = []
        for s in range(0, len(x), chunk):
            q = ((x[s : s + chunk, None, :] - self.centres[None]) ** 2).sum(-1) / self.h**2  # (n, C)
            kern = logsumexp(self.logw - 0.5 * q, axis=1) - d * np.log(self.h) - 0.5 * d * np.log(2 * np.pi)
            out.append(kern)
        kern = np.concatenate(out) if out else np.zeros(0)
        diff = x - self.mean
        inv = np.linalg.inv(self.cov)
        broad = -0.5 * np.einsum("nd,de,ne->n", diff, inv, diff) - 0.5 * np.log(np.linalg.det(2 * np.pi * self.cov))
        return np.logaddexp(np.log1p(-BROAD) + kern, np.log(BROAD) + broad)

    def tune(self, valid: np.ndarray) -> None:
        scores = {}
        for h in BANDWIDTHS:
            self.h = h
            scores[h] = float(self.log_prob(valid).mean())
        self.h = max(scores, key=scores.get)


def _unigram(classes: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(classes.astype(int), minlength=k).astype(np.float64) + 0.5
    return np.log(counts / counts.sum())


class Bigram:
    """Tokens 0..k-1: P(cur | prev) = (count(prev, cur) + w * unigram(cur)) / (count(prev) + w),
    the pseudo-count w chosen on validation; a sequence's first token takes the unigram."""

    def __init__(self, train: list[np.ndarray], valid: list[np.ndarray], k: int):
        self.logu = _unigram(np.concatenate(train), k)
        self.pairs = np.zeros((k, k))
        for t in train:
            np.add.at(self.pairs, (t[:-1], t[1:]), 1.0)
        self.weight = max(BIGRAM_WEIGHTS, key=lambda w: self.log_prob(valid, w).mean())

    def log_prob(self, seqs: list[np.ndarray], w: float | None = None) -> np.ndarray:
        """Per token log-probability, sequences concatenated (N,)."""
        w, uni, out = self.weight if w is None else w, np.exp(self.logu), []
        for t in seqs:
            prev, cur = t[:-1], t[1:]
            logp = np.log((self.pairs[prev, cur] + w * uni[cur]) / (self.pairs[prev].sum(1) + w))
            out.append(np.concatenate([self.logu[t[:1]], logp]))
        return np.concatenate(out) if out else np.zeros(0)


class NoteBaselines:
    """Fit on training clips, tune on validation clips, score any clips."""

    def __init__(self, codec: Codec, train: list[Clip], valid: list[Clip]):
        lay = codec.layout
        self.codec, self.n_cont, self.grid = codec, len(lay.continuous), not lay.mixtures
        self.cats = [(c.channel, c.classes) for c in lay.categoricals]
        tr, va = model_arrays(codec, train), model_arrays(codec, valid)
        allx = np.concatenate(tr)
        self.uni = {name: _unigram(allx[:, self.n_cont + i], k) for i, (name, k) in enumerate(self.cats)}
        self.pitch = Bigram([self._tokens(a, "pitch") for a in tr], [self._tokens(a, "pitch") for a in va], 128)
        if self.grid:  # the (dt, dur) class pair is one token
            k = dict(self.cats)["dt"] * dict(self.cats)["dur"]
            self.time = Bigram([self._tokens(a, "time") for a in tr], [self._tokens(a, "time") for a in va], k)
        else:
            self.timing = TimingKDE(allx[:, : self.n_cont])
            self.timing.tune(np.concatenate(va)[:, : self.n_cont])

    def _col(self, name: str) -> int:
        return self.n_cont + [c for c, _ in self.cats].index(name)

    def _tokens(self, a: np.ndarray, name: str) -> np.ndarray:
        if name == "time":
            return a[:, self._col("dt")].astype(int) * dict(self.cats)["dur"] + a[:, self._col("dur")].astype(int)
        return a[:, self._col(name)].astype(int)

    def score(self, clips: list[Clip]) -> dict:
        """{"unigram": {...}, "bigram": {...}}: NLL per note and its parts (nats), note count."""
        arrays = model_arrays(self.codec, clips)
        x = np.concatenate(arrays)
        rest = [name for name, _ in self.cats if not (self.grid and name in ("dt", "dur"))]
        parts = {name: -self.uni[name][x[:, self._col(name)].astype(int)] for name in rest}
        bi_pitch = -self.pitch.log_prob([self._tokens(a, "pitch") for a in arrays])
        if self.grid:
            times = [self._tokens(a, "time") for a in arrays]
            uni = {"dt+dur": -self.time.logu[np.concatenate(times)]} | parts
            bi = uni | {"dt+dur": -self.time.log_prob(times), "pitch": bi_pitch}
            settings = {"time": "grid", "bigram_unigram_weight": {"dt+dur": self.time.weight, "pitch": self.pitch.weight}}
        else:
            uni = {"dt+dur": -self.timing.log_prob(x[:, : self.n_cont])} | parts
            bi = uni | {"pitch": bi_pitch}
            settings = {"time": "seconds", "kernel_sd": self.timing.h, "bigram_unigram_weight": self.pitch.weight,
                        "kernel_centres": int(len(self.timing.centres))}
        result = {}
        for label, p in (("unigram", uni), ("bigram", bi)):
            means = {k: float(v.mean()) for k, v in p.items()}
            result[label] = means | {"nll": float(sum(means.values())), "frames": int(len(x))}
        return result | {"settings": settings}
