"""Count-based baselines for note sequences, scored in the model's own space.

A trained model's NLL is nats per note over (dt, dur) in its normalised log
space, plus pitch, velocity (and program) classes. To compare like with like,
the baselines score the same held-out frames in the same space, using the
model's own codec (its fitted normalisation, and its fixed dequantisation
draw, so every scorer sees exactly the same held-out numbers):

* timing, shared by both: the empirical distribution of training (dt, dur)
  pairs, smoothed into a density with a Gaussian kernel (bandwidth chosen on
  the validation split, no narrower than the model's narrowest Gaussian), mixed with 0.1% of one broad Gaussian so no held-out
  note gets zero density;
* `unigram`: pitch, velocity (and program) drawn independently from their
  training frequencies (add-0.5 smoothing);
* `bigram`: pitch given the previous note's pitch, interpolated with the
  unigram (weight chosen on validation); the first note of a piece uses the unigram.

Every figure is nats per note, the mean over all held-out notes, with its
parts named as the model's evaluation names them ("dt+dur", "pitch", ...).
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


class NoteBaselines:
    """Fit on training clips, tune on validation clips, score any clips."""

    def __init__(self, codec: Codec, train: list[Clip], valid: list[Clip]):
        lay = codec.layout
        self.codec, self.n_cont = codec, len(lay.continuous)
        self.cats = [(c.channel, c.classes) for c in lay.categoricals]
        tr = model_arrays(codec, train)
        allx = np.concatenate(tr)
        self.timing = TimingKDE(allx[:, : self.n_cont])
        va = model_arrays(codec, valid)
        self.timing.tune(np.concatenate(va)[:, : self.n_cont])
        self.uni = {name: _unigram(allx[:, self.n_cont + i], k) for i, (name, k) in enumerate(self.cats)}
        p = self._col("pitch")
        self.pairs = np.zeros((128, 128))
        for a in tr:
            np.add.at(self.pairs, (a[:-1, p].astype(int), a[1:, p].astype(int)), 1.0)
        self.weight = max(BIGRAM_WEIGHTS, key=lambda w: self._pitch_bigram(va, w).mean())

    def _col(self, name: str) -> int:
        return self.n_cont + [c for c, _ in self.cats].index(name)

    def _pitch_bigram(self, arrays: list[np.ndarray], w: float) -> np.ndarray:
        p, uni = self._col("pitch"), np.exp(self.uni["pitch"])
        out = []
        for a in arrays:
            cls = a[:, p].astype(int)
            prev, cur = cls[:-1], cls[1:]
            logp = np.log((self.pairs[prev, cur] + w * uni[cur]) / (self.pairs[prev].sum(1) + w))
            out.append(np.concatenate([[self.uni["pitch"][cls[0]]], logp]))
        return np.concatenate(out)

    def score(self, clips: list[Clip]) -> dict:
        """{"unigram": {...}, "bigram": {...}}: NLL per note and its parts (nats), note count."""
        arrays = model_arrays(self.codec, clips)
        x = np.concatenate(arrays)
        timing = -self.timing.log_prob(x[:, : self.n_cont])
        parts = {name: -self.uni[name][x[:, self._col(name)].astype(int)] for name, _ in self.cats}
        uni = {"dt+dur": timing} | parts
        bi = uni | {"pitch": -self._pitch_bigram(arrays, self.weight)}
        result = {}
        for label, p in (("unigram", uni), ("bigram", bi)):
            means = {k: float(v.mean()) for k, v in p.items()}
            result[label] = means | {"nll": float(sum(means.values())), "frames": int(len(x))}
        result["settings"] = {"kernel_sd": self.timing.h, "bigram_unigram_weight": self.weight,
                              "kernel_centres": int(len(self.timing.centres))}
        return result
