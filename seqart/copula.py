"""A Gaussian copula over a diagonal mixture's channels: channels that move together.

A diagonal mixture (poses: one dancer's 208 channels) draws every channel's noise on its own.
Bodies do not move that way: a step turns hip, knee and ankle together, a turn of the chest
comes with a counter-turn of the neck. Drawn independently, the noise of 208 channels mostly
cancels in the legs and piles up along the spine: the salsa dancer's legs moved 0.77 of real
speed while its head moved 1.3x (benchmarks/results/salsa_probes/README.md).

With `model.copula = true` each channel keeps the distribution the network predicts (the
component k, its mean mu_k and scale sigma_k: the marginals), but the standardised noise
z = (x - mu_k) / sigma_k is drawn from N(0, R), one correlation matrix R per diagonal block,
instead of N(0, I). So component k is N(mu_k, S R S) with S = diag(sigma_k).

R is fitted, not learnt by gradient: teacher-forced on the training clips, each frame's z under
its most responsible component; R is their correlation (unit diagonal, so each channel's spread
stays the network's), shrunk toward I by D / (n + D) for n frames and D channels, so that a small
dataset still gives a well-conditioned R. The trainer fits it at every checkpoint it writes; the
training loss stays the marginal (diagonal) NLL, while evaluation, `seqart eval` and sampling use
the copula. Stored as the Cholesky factor L of R (R = L L^T): the buffer `copula_<i>` (D, D) of
mixture block i.
"""

from __future__ import annotations

import numpy as np
import torch

from seqart.data import eval_batches, lengths_of
from seqart.mdn import split_params

MAX_FRAMES = 50_000  # frames a fit reads at most (evenly spread over the clips): R has D^2 / 2 entries


@torch.no_grad()
def fit(model, codec, clips, batch_size: int = 64, max_frames: int = MAX_FRAMES) -> dict:
    """Fit every copula of `model` to `clips` (training data, model space via `codec`), in place.

    Returns {"frames": n, "shrink": D / (n + D) of the widest block}; {} when the model has none.
    """
    blocks = model.copula_blocks
    if not blocks:
        return {}
    lengths = lengths_of(clips)
    chosen = _spread(lengths, max_frames)
    subset = [clips[i] for i in chosen]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    cols, col = {}, 0
    for i, b in enumerate(model.layout.mixtures):
        cols[i] = (col, col + len(b.channels))
        col += len(b.channels)
    sums = {i: None for i in blocks}
    n = 0
    for x, mask in eval_batches(codec, subset, batch_size):
        x, mask = x.to(device), mask.to(device)
        raw, _ = model(x, mask, z_sample=False)  # (N, head_dim) of the N valid frames
        mixtures, _ = split_params(raw.float(), model.layout, model.cfg.mixtures)
        valid = x[mask].float()
        for i in blocks:
            z = _residuals(mixtures[i], valid[:, cols[i][0] : cols[i][1]]).double()
            s = z.T @ z
            sums[i] = s if sums[i] is None else sums[i] + s
        n += len(valid)
    shrink = 0.0
    for i in blocks:
        d = sums[i].shape[0]
        cov = (sums[i] / max(n, 1)).cpu().numpy()
        sd = np.sqrt(np.maximum(np.diag(cov), 1e-12))
        corr = cov / np.outer(sd, sd)
        shrink = d / (n + d)
        corr = (1 - shrink) * corr + shrink * np.eye(d)
        chol = np.linalg.cholesky(corr)
        getattr(model, f"copula_{i}").copy_(torch.from_numpy(chol).float())
    model.train(was_training)
    return {"frames": n, "shrink": round(shrink, 4)}


def _residuals(p: dict, x: torch.Tensor) -> torch.Tensor:
    """Standardised residuals (N, D) of x (N, D) under each frame's most responsible component."""
    z = (x.unsqueeze(-2) - p["mu"]) * torch.exp(-p["log_sigma"])  # (N, M, D)
    log_w = torch.log_softmax(p["logit"], -1) - p["log_sigma"].sum(-1) - 0.5 * (z * z).sum(-1)
    k = log_w.argmax(-1)
    return z[torch.arange(len(k), device=z.device), k]


def _spread(lengths: np.ndarray, max_frames: int) -> list[int]:
    """Clip indices: all of them, or every k-th so that about max_frames frames are read."""
    total = int(np.sum(lengths))
    if total <= max_frames:
        return list(range(len(lengths)))
    step = total / max_frames
    return list(range(0, len(lengths), max(1, int(np.ceil(step)))))


def check(model) -> None:
    """Refuse a stored copula factor that is not a Cholesky factor of a correlation matrix (a
    hostile or damaged file): finite, lower-triangular, positive diagonal, rows of unit length."""
    from seqart.errors import SeqartError

    for i, chol in model.copula_factors().items():
        L = chol.detach().double()
        if not (torch.isfinite(L).all() and torch.equal(L, torch.tril(L)) and (torch.diagonal(L) > 0).all()
                and torch.allclose((L * L).sum(1), torch.ones(len(L), dtype=L.dtype), atol=1e-3)):
            raise SeqartError(f"copula_{i}: not the Cholesky factor of a correlation matrix")
