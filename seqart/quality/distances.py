"""Distances between two samples of a 1-D measurement, and between two histograms.

Wasserstein-1 (the earth mover's distance) is in the measurement's own units
(points, seconds, beats), so "generated drawings are 14 points longer" reads
directly; the Kolmogorov-Smirnov statistic (the largest gap between the two
cumulative distributions, 0..1) is unit-free and comparable across figures.
Both are the textbook definitions, computed exactly from the sorted samples.
"""

from __future__ import annotations

import numpy as np


def _cdfs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both empirical CDFs evaluated at every point of the pooled sample (sorted), and those points."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    xs = np.sort(np.concatenate([a, b]))
    return xs, np.searchsorted(a, xs, side="right") / len(a), np.searchsorted(b, xs, side="right") / len(b)


def wasserstein(a, b) -> float:
    """W1 = integral of |F_a - F_b|, in the units of the samples (nan if either is empty)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    xs, fa, fb = _cdfs(a, b)
    return float(np.sum(np.abs(fa - fb)[:-1] * np.diff(xs)))


def ks(a, b) -> float:
    """Kolmogorov-Smirnov statistic: max |F_a - F_b|, 0 (same) .. 1 (disjoint); nan if either is empty."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    _, fa, fb = _cdfs(a, b)
    return float(np.max(np.abs(fa - fb)))


def total_variation(p, q) -> float:
    """Half the L1 distance between two histograms after normalising each: 0 (same) .. 1 (disjoint)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def compare(generated, real, control=None) -> dict:
    """W1 and KS of generated against real, with the same for a real control sample beside them."""
    out = {"wasserstein": _r(wasserstein(generated, real)), "ks": _r(ks(generated, real)),
           "median_generated": _r(np.median(generated)) if len(generated) else None,
           "median_real": _r(np.median(real)) if len(real) else None}
    if control is not None:
        out["control"] = {"wasserstein": _r(wasserstein(control, real)), "ks": _r(ks(control, real))}
    return out


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits)
