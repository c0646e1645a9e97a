"""A Gaussian copula over a diagonal mixture's channels: channels that move together, smoothly.

A diagonal mixture (poses: one dancer's 208 channels) draws every channel's noise on its own.
Bodies do not move that way: a step turns hip, knee and ankle together, a turn of the chest
comes with a counter-turn of the neck. Drawn independently, the noise of 208 channels mostly
cancelled in the legs and piled up along the spine: the salsa dancer's legs moved 0.77 of real
speed while its head moved 1.3x (benchmarks/results/salsa_probes/README.md).

With `model.copula = true` each channel keeps the distribution the network predicts (the
component k, its mean mu_k and scale sigma_k: the marginals), but the standardised noise
z = (x - mu_k) / sigma_k is drawn from N(0, R), one correlation matrix R per diagonal block,
instead of N(0, I). So component k is N(mu_k, S R S) with S = diag(sigma_k).

The noise also carries over from frame to frame, as the residuals do (teacher-forced on salsa,
a frame's whitened residual correlates about 0.7 with the previous one's): with w = L^-1 z,
w_t = lag w_(t-1) + sqrt(1 - lag^2) e_t, e_t ~ N(0, I). Every frame's noise is still N(0, R), but
it changes smoothly; drawn afresh each frame, the salsa dancer jittered at 1.6-2x real acceleration.

R and lag are fitted, not learnt by gradient: teacher-forced on the training clips, each frame's z
under its most responsible component; R is their correlation (unit diagonal, so each channel's
spread stays the network's), shrunk toward I by D / (n + D) for n frames and D channels so that a
small dataset still gives a well-conditioned R; lag is the lag-1 autocorrelation of the whitened
residuals of consecutive frames, in [0, MAX_LAG]. The trainer fits both at every checkpoint it
writes; the training loss stays the marginal (diagonal) NLL, while evaluation, `seqart eval` and
sampling use the copula. Stored as the Cholesky factor L of R (R = L L^T), the buffer
`copula_<i>` (D, D) of mixture block i, and the scalar buffer `copula_<i>_lag`.
"""

from __future__ import annotations

import numpy as np
import torch

from seqart.data import eval_batches, lengths_of
from seqart.errors import SeqartError
from seqart.mdn import residual, split_params, starts_of

MAX_FRAMES = 50_000  # frames a fit reads at most (evenly spread over the clips): R has D^2 / 2 entries
MAX_LAG = 0.95  # noise that hardly changes from frame to frame would freeze the sampled variation


@torch.no_grad()
def fit(model, codec, clips, batch_size: int = 64, max_frames: int = MAX_FRAMES) -> dict:
    """Fit every copula of `model` to `clips` (training data, model space via `codec`), in place.

    Returns {"frames": n, "shrink": D / (n + D) of the widest block, "lag": {block: lag}}; {} when
    the model has none.
    """
    blocks = model.copula_blocks
    if not blocks:
        return {}
    subset = [clips[i] for i in _spread(lengths_of(clips), max_frames)]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    cols, col = {}, 0
    for i, b in enumerate(model.layout.mixtures):
        cols[i] = (col, col + len(b.channels))
        col += len(b.channels)
    # per block: sums of z z^T over frames, and of z_t z_(t-1)^T and z_(t-1) z_(t-1)^T over consecutive pairs
    sums = {i: [0.0, 0.0, 0.0] for i in blocks}
    n = 0
    for x, mask in eval_batches(codec, subset, batch_size):
        x, mask = x.to(device), mask.to(device)
        raw, _ = model(x, mask, z_sample=False)  # (N, head_dim) of the N valid frames
        mixtures, _ = split_params(raw.float(), model.layout, model.cfg.mixtures)
        valid = x[mask].float()
        follows = ~starts_of(mask)[1:]  # (N - 1,): frame t + 1 continues frame t's sequence
        for i in blocks:
            z = residual(mixtures[i], valid[:, cols[i][0] : cols[i][1]]).double()
            now, before = z[1:][follows], z[:-1][follows]
            for k, part in enumerate((z.T @ z, now.T @ before, before.T @ before)):
                sums[i][k] = sums[i][k] + part
        n += len(valid)
    shrink, lags = 0.0, {}
    for i in blocks:
        zz, lagged, before = (t.cpu().numpy() if torch.is_tensor(t) else np.asarray(t) for t in sums[i])
        d = zz.shape[0]
        second = zz / max(n, 1)
        sd = np.sqrt(np.maximum(np.diag(second), 1e-12))
        shrink = d / (n + d)
        corr = (1 - shrink) * second / np.outer(sd, sd) + shrink * np.eye(d)
        chol = np.linalg.cholesky(corr)
        inv = np.linalg.inv(chol)
        # lag-1 autocorrelation of the whitened residuals w = L^-1 z, over every channel at once
        den = float(np.trace(inv @ before @ inv.T)) if before.ndim == 2 else 0.0
        lag = float(np.clip(np.trace(inv @ lagged @ inv.T) / den, 0.0, MAX_LAG)) if den > 0 else 0.0
        getattr(model, f"copula_{i}").copy_(torch.from_numpy(chol).float())
        getattr(model, f"copula_{i}_lag").fill_(lag)
        lags[i] = round(lag, 4)
    model.train(was_training)
    return {"frames": n, "shrink": round(shrink, 4), "lag": lags}


def _spread(lengths: np.ndarray, max_frames: int) -> list[int]:
    """Clip indices: all of them, or every k-th so that about max_frames frames are read."""
    total = int(np.sum(lengths))
    if total <= max_frames:
        return list(range(len(lengths)))
    step = total / max_frames
    return list(range(0, len(lengths), max(1, int(np.ceil(step)))))


def check(model) -> None:
    """Refuse stored copula buffers a fit cannot have made (a hostile or damaged file): a factor
    that is not finite, lower-triangular with a positive diagonal and rows of unit length (the
    Cholesky factor of a correlation matrix), or a lag outside [0, MAX_LAG]."""
    for i, (chol, lag) in model.copula_factors().items():
        L = chol.detach().double()
        if not (torch.isfinite(L).all() and torch.equal(L, torch.tril(L)) and (torch.diagonal(L) > 0).all()
                and torch.allclose((L * L).sum(1), torch.ones(len(L), dtype=L.dtype), atol=1e-3)):
            raise SeqartError(f"copula_{i}: not the Cholesky factor of a correlation matrix")
        if not 0.0 <= lag <= MAX_LAG:  # NaN fails too
            raise SeqartError(f"copula_{i}_lag: {lag!r} is not in [0, {MAX_LAG}]")
