"""Mixture-density head: split raw outputs into distributions, and their log-likelihoods.

Works on torch tensors (training) and numpy arrays (fast stepwise sampling):
the split is plain slicing, and the few activations dispatch on type.

For a bivariate block the M components carry (per frame) `logit (M)`,
`mu (M, 2)`, `log_sigma (M, 2)` and `rho (M)`; a diagonal block over D
channels carries `logit (M)`, `mu (M, D)`, `log_sigma (M, D)`. A categorical
block carries K logits. Equations: Graves 2013 (eqs. 18-26) and Ha & Eck 2017
(eqs. 1-9). Everything stays in log space.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from seqart.layout import Layout

LOG_SIGMA_MIN, LOG_SIGMA_MAX = -7.0, 4.0  # sigma in [9e-4, 55] normalised units
RHO_MAX = 0.995  # keeps 1 - rho^2 away from zero
LOG_2PI = math.log(2 * math.pi)


def _softplus(x):
    return F.softplus(x) if isinstance(x, torch.Tensor) else np.logaddexp(0.0, x)


def _tanh(x):
    return torch.tanh(x) if isinstance(x, torch.Tensor) else np.tanh(x)


def bound_log_sigma(raw):
    """Smoothly bound log-sigma to [LOG_SIGMA_MIN, LOG_SIGMA_MAX]; ~identity near 0."""
    upper = LOG_SIGMA_MAX - _softplus(LOG_SIGMA_MAX - raw)
    return LOG_SIGMA_MIN + _softplus(upper - LOG_SIGMA_MIN)


def split_params(raw, layout: Layout, m: int) -> tuple[list[dict], list]:
    """raw (..., head_dim) -> ([mixture dicts per block], [logits per categorical])."""
    mixtures, i = [], 0
    lead = raw.shape[:-1]
    for block in layout.mixtures:
        d = len(block.channels)
        p = {"logit": raw[..., i : i + m]}
        i += m
        p["mu"] = raw[..., i : i + m * d].reshape(*lead, m, d)
        i += m * d
        p["log_sigma"] = bound_log_sigma(raw[..., i : i + m * d].reshape(*lead, m, d))
        i += m * d
        if block.kind == "bivariate":
            p["rho"] = RHO_MAX * _tanh(raw[..., i : i + m])
            i += m
        mixtures.append(p)
    cats = []
    for c in layout.categoricals:
        cats.append(raw[..., i : i + c.classes])
        i += c.classes
    return mixtures, cats


def mixture_log_prob(p: dict, x: torch.Tensor, chol: torch.Tensor | None = None, lag: float = 0.0,
                     prev: torch.Tensor | None = None) -> torch.Tensor:
    """log p(x) under one mixture block; x (..., D) -> (...).

    chol (D, D): for a diagonal block, the Cholesky factor L of a copula correlation R = L L^T
    shared by every component (seqart.copula): component k is then N(mu_k, S R S), S = diag(sigma_k).
    lag and prev (..., D): the copula's noise carries over between frames, w_t = lag w_(t-1) +
    sqrt(1 - lag^2) e_t with w the whitened noise L^-1 z; prev is the previous frame's w (zeros
    where there is none, which scores that frame as a fresh draw).
    """
    diff = x.unsqueeze(-2) - p["mu"]  # (..., M, D)
    z = diff * torch.exp(-p["log_sigma"])
    if chol is not None and "rho" not in p:
        y = whiten(z, chol)  # (..., M, D)
        d = x.shape[-1]
        log_det = torch.log(torch.diagonal(chol)).sum().to(z.dtype)  # log |L| = 0.5 log |R|
        if lag and prev is not None:
            first = (prev == 0).all(-1, keepdim=True)  # (..., 1): no previous frame, a fresh draw
            keep = math.sqrt(1 - lag * lag)  # the new part of each frame's noise has this spread
            y = torch.where(first.unsqueeze(-1), y, (y - lag * prev.unsqueeze(-2)) / keep)
            log_det = log_det + torch.where(first, 0.0, d * math.log(keep)).to(z.dtype)
        comp = -0.5 * d * LOG_2PI - p["log_sigma"].sum(-1) - log_det - 0.5 * (y * y).sum(-1)
    elif "rho" in p:
        rho = p["rho"]
        one_m = 1 - rho * rho
        q = z[..., 0] ** 2 + z[..., 1] ** 2 - 2 * rho * z[..., 0] * z[..., 1]
        comp = -LOG_2PI - p["log_sigma"].sum(-1) - 0.5 * torch.log(one_m) - 0.5 * q / one_m
    else:
        d = x.shape[-1]
        comp = -0.5 * d * LOG_2PI - p["log_sigma"].sum(-1) - 0.5 * (z * z).sum(-1)
    return torch.logsumexp(F.log_softmax(p["logit"], -1) + comp, dim=-1)


def whiten(z: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    """L^-1 z for standardised residuals z (..., D): one (D, D) triangular inverse, then a matmul."""
    eye = torch.eye(chol.shape[-1], dtype=z.dtype, device=z.device)
    return z @ torch.linalg.solve_triangular(chol.to(z.dtype), eye, upper=False).T


def head_nll(raw: torch.Tensor, target: torch.Tensor, layout: Layout, m: int,
             copula: dict[int, tuple] | None = None, starts: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per-frame NLL of each block. raw (..., N, H), target (..., N, F) model space -> {name: (..., N)}.

    copula: {mixture block index: (Cholesky factor (D, D), lag)} for the blocks that have one. With a
    lag, each frame is scored given the previous frame's whitened residual: the previous row along
    N, except where `starts` (N,) marks a sequence's first frame (default: only row 0)."""
    mixtures, cats = split_params(raw, layout, m)
    out, col = {}, 0
    for i, (block, p) in enumerate(zip(layout.mixtures, mixtures)):
        d = len(block.channels)
        x = target[..., col : col + d]
        chol, lag = (copula or {}).get(i, (None, 0.0))
        prev = previous_noise(p, x, chol, starts) if chol is not None and lag else None
        out[block.name] = -mixture_log_prob(p, x, chol, lag, prev)
        col += d
    for c, logits in zip(layout.categoricals, cats):
        cls = target[..., col].long().clamp(0, c.classes - 1)  # padding may hold anything
        out[c.channel] = F.cross_entropy(logits.reshape(-1, c.classes), cls.reshape(-1), reduction="none").view_as(cls).to(logits.dtype)
        col += 1
    return out


def residual(p: dict, x: torch.Tensor) -> torch.Tensor:
    """Standardised residuals (..., D) of x (..., D) under each frame's most responsible component."""
    z = (x.unsqueeze(-2) - p["mu"]) * torch.exp(-p["log_sigma"])  # (..., M, D)
    log_w = torch.log_softmax(p["logit"], -1) - p["log_sigma"].sum(-1) - 0.5 * (z * z).sum(-1)
    k = log_w.argmax(-1, keepdim=True)  # (..., 1)
    return torch.take_along_dim(z, k.unsqueeze(-1), dim=-2).squeeze(-2)


def previous_noise(p: dict, x: torch.Tensor, chol: torch.Tensor, starts: torch.Tensor | None) -> torch.Tensor:
    """(..., N, D): each frame's previous whitened residual along N, zeros at a sequence's start."""
    w = whiten(residual(p, x), chol)
    prev = torch.cat([torch.zeros_like(w[..., :1, :]), w[..., :-1, :]], -2)
    if starts is not None:
        prev = prev * (~starts).to(prev.dtype).unsqueeze(-1)
    return prev


def starts_of(mask: torch.Tensor) -> torch.Tensor:
    """(N,) for the N valid frames of a padded batch mask (B, T), in row-major order: True at
    each sequence's first frame."""
    first = torch.zeros_like(mask)
    first[:, 0] = True
    return first[mask]
