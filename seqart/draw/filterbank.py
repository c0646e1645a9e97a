"""DRAW's selective attention: an N x N grid of Gaussian filters (Gregor et al. 2015, sec. 3.2).

Five numbers from the decoder state place the grid on an H x W image (eq. 21-24):

    (gx~, gy~, log sigma^2, log delta~, log gamma) = W h_dec + b
    gx = (W + 1) / 2 * (gx~ + 1)        grid centre, in 1-based pixel units (pixel a spans a - 1 .. a)
    gy = (H + 1) / 2 * (gy~ + 1)
    delta = (max(H, W) - 1) / (N - 1) * delta~        stride between filters, pixels
    mu_x(i) = gx + (i - N / 2 - 0.5) * delta,  i = 1..N    filter centres
    Fx[i, a] = exp(-(a - mu_x(i))^2 / (2 sigma^2)) / Z_x(i),  a = 1..W,  sum_a Fx[i, a] = 1

At gx~ = gy~ = 0 and delta~ = 1 the grid spans the whole image, its first and last
filters on the first and last pixels (the "full-image window").

`read` extracts gamma * Fy x Fx^T (an N x N glimpse); `write` places a patch w with
(1 / gamma) * Fy^T w Fx. Shapes: images (B, H, W), filterbanks (B, N, H) and (B, N, W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

@dataclass
class Window:
    """Where an attention grid sits, per batch row, all (B,) tensors in pixels (1-based centre)."""

    gx: torch.Tensor  # centre x, 1..W
    gy: torch.Tensor  # centre y, 1..H
    delta: torch.Tensor  # stride between neighbouring filters
    sigma2: torch.Tensor  # filter variance, pixels^2
    gamma: torch.Tensor  # intensity (read: multiplies the glimpse; write: divides the patch)


def window_from_params(p: torch.Tensor, height: int, width: int, n: int) -> Window:
    """(B, 5) linear outputs (gx~, gy~, log sigma^2, log delta~, log gamma) -> Window (eq. 21-23)."""
    gx_, gy_, log_s2, log_d, log_g = p.unbind(-1)
    gx = (width + 1) / 2 * (gx_ + 1)
    gy = (height + 1) / 2 * (gy_ + 1)
    delta = (max(height, width) - 1) / max(n - 1, 1) * torch.exp(log_d)
    return Window(gx, gy, delta, torch.exp(log_s2), torch.exp(log_g))


def full_window(batch: int, height: int, width: int, n: int, sigma2: float = 1e-4, gamma: float = 1.0) -> Window:
    """An N x N grid over the whole image: centre in the middle, delta~ = 1."""
    p = torch.zeros(batch, 5)
    p[:, 2], p[:, 4] = torch.log(torch.tensor(sigma2)), torch.log(torch.tensor(gamma))
    return window_from_params(p, height, width, n)


def tiling_params(height: int, width: int, n: int) -> torch.Tensor:
    """(5,) parameters of a grid that tiles the image: N x N equal cells, each filter centred on its
    cell with sigma half a cell, intensity 1. The paper's neutral point (all zeros) puts a 2 x 2 grid
    on the four corner pixels with sigma 1: on MNIST those are blank, so a read there sees nothing.
    DRAW starts its windows here (seqart.draw.model); training moves them from h_dec."""
    cell = (max(height, width) - 1) / n  # stride in pixels
    log_delta = math.log(max(n - 1, 1) / n)  # delta = (max(H, W) - 1) / (N - 1) * delta~ = cell
    return torch.tensor([0.0, 0.0, 2 * math.log(cell / 2), log_delta, 0.0])


def filters(win: Window, n: int, size: int, centre: torch.Tensor) -> torch.Tensor:
    """One axis' filterbank (B, N, size): rows are normalised Gaussians over pixels 1..size."""
    i = torch.arange(1, n + 1, dtype=centre.dtype, device=centre.device)  # (N,)
    mu = centre[:, None] + (i - n / 2 - 0.5) * win.delta[:, None]  # (B, N) filter centres
    a = torch.arange(1, size + 1, dtype=centre.dtype, device=centre.device)  # (size,) pixel positions
    # exp(-d^2 / 2 sigma^2) / Z as a softmax over pixels: the same numbers, but a filter far off
    # the image (or a tiny sigma) still sums to one instead of underflowing to an all-zero row.
    return torch.softmax(-((a[None, None, :] - mu[:, :, None]) ** 2) / (2 * win.sigma2[:, None, None]), -1)


def filterbanks(win: Window, n: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(Fx (B, N, W), Fy (B, N, H)) for a window."""
    return filters(win, n, width, win.gx), filters(win, n, height, win.gy)


def read(images: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """(B, H, W) images -> (B, N, N) glimpses gamma * Fy img Fx^T (eq. 27)."""
    return gamma[:, None, None] * (fy @ images @ fx.transpose(1, 2))


def write(patch: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """(B, N, N) patches -> (B, H, W) canvas updates (1 / gamma) * Fy^T w Fx (eq. 29)."""
    return (fy.transpose(1, 2) @ patch @ fx) / gamma[:, None, None]
