"""Text-conditioned decoder: the synthesis network of Graves 2013, section 5.

A soft window slides along the one-hot transcript c (U, A) as the pen moves.
From the first layer's output h1_t come K Gaussians (eqs. 46-51):

    (a, b, k)_t = exp(W h1_t + bias)               each (K,)
    kappa_t     = kappa_{t-1} + k_t                 positions only move forward
    phi(t, u)   = sum_k a_k exp(-b_k (kappa_k - u)^2),   u = 1..U (characters)
    w_t         = sum_u phi(t, u) c_u               (A,) the window's soft letter

Layer 1 reads [x_t, w_{t-1}]; every layer n > 1 reads [x_t, w_t, h^{n-1}_t]
(skip connections from the input and the window to every layer); the head
reads every layer's h (skips to the output). Layer 1 and the window run as a
loop over time (each step needs the last window); the upper layers then run
whole, fused (`nn.LSTM`). Graves' stopping rule for sampling: the line is
written when phi(t, U + 1) exceeds phi(t, u) for every character u.

`WindowStepper` is the same network in numpy for the one sampler: one step
per call, batch 1, no torch overhead (PERFORMANCE.md).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RAW_MIN, RAW_MAX = -20.0, 10.0  # window pre-activations are clamped before exp, so a bad step cannot overflow
KAPPA_STEP0 = 0.05  # characters per point at the start (the bias of k): ~20 points a letter, near real pens


class SynthesisNet(nn.Module):
    """(B, T, I) inputs and (B, T) character column -> (B, T, layers * H) features for the head."""

    def __init__(self, input_size: int, hidden: int, layers: int, mixtures: int, alphabet: int):
        super().__init__()
        self.input_size, self.hidden, self.layers = input_size, hidden, layers
        self.K, self.A = mixtures, alphabet
        self.cell1 = nn.LSTMCell(input_size + alphabet, hidden)
        self.window = nn.Linear(hidden, 3 * mixtures)
        with torch.no_grad():
            self.window.bias[2 * mixtures :].fill_(math.log(KAPPA_STEP0))
        self.upper = nn.ModuleList(nn.LSTM(input_size + alphabet + hidden, hidden, batch_first=True)
                                   for _ in range(layers - 1))
        self.out_dim = layers * hidden

    def text(self, chars: torch.Tensor) -> torch.Tensor:
        """(B, T) char column (1-based codes in its first U rows, 0 = none) -> one-hots (B, U, A)."""
        codes = chars.long()
        U = max(int((codes > 0).sum(1).max()), 1)
        codes = codes[:, :U]
        return F.one_hot((codes - 1).clamp(min=0), self.A).to(torch.float32) * (codes > 0).unsqueeze(-1)

    def window_step(self, h1: torch.Tensor, kappa: torch.Tensor, c: torch.Tensor):
        """h1 (B, H), kappa (B, K), c (B, U, A) -> w (B, A), kappa (B, K), phi (B, U)."""
        a, b, k = torch.exp(self.window(h1).clamp(RAW_MIN, RAW_MAX)).chunk(3, -1)  # (B, K) each
        kappa = kappa + k
        u = torch.arange(1, c.shape[1] + 1, device=c.device, dtype=h1.dtype)  # (U,)
        phi = (a.unsqueeze(-1) * torch.exp(-b.unsqueeze(-1) * (kappa.unsqueeze(-1) - u) ** 2)).sum(1)  # (B, U)
        return torch.bmm(phi.unsqueeze(1), c).squeeze(1), kappa, phi

    def forward(self, inp: torch.Tensor, chars: torch.Tensor, return_kappa: bool = False):
        """inp (B, T, I), chars (B, T) -> (out (B, T, layers * H), kappa (B, T, K) if asked, else None)."""
        B, T, _ = inp.shape
        c = self.text(chars).to(inp.dtype)  # (B, U, A)
        h = cell = inp.new_zeros(B, self.hidden)
        kappa, w = inp.new_zeros(B, self.K), inp.new_zeros(B, self.A)
        hs, ws, ks = [], [], []
        for t in range(T):
            h, cell = self.cell1(torch.cat([inp[:, t], w], -1), (h, cell))
            w, kappa, _ = self.window_step(h, kappa, c)
            hs.append(h)
            ws.append(w)
            ks.append(kappa)
        below, win = torch.stack(hs, 1), torch.stack(ws, 1)  # (B, T, H), (B, T, A)
        outs = [below]
        for lstm in self.upper:
            below, _ = lstm(torch.cat([inp, win, below], -1))
            outs.append(below)
        return torch.cat(outs, -1), (torch.stack(ks, 1) if return_kappa else None)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class WindowStepper:
    """SynthesisNet in numpy, one step at a time, batch 1 (the sampler's)."""

    def __init__(self, net: SynthesisNet):
        def np_(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().float().numpy().copy()

        cell = net.cell1
        self.cells = [(np.concatenate([np_(cell.weight_ih), np_(cell.weight_hh)], 1), np_(cell.bias_ih) + np_(cell.bias_hh))]
        for lstm in net.upper:  # per layer: W (4H, in + H) in torch's gate order i, f, g, o; b (4H,)
            self.cells.append((np.concatenate([np_(lstm.weight_ih_l0), np_(lstm.weight_hh_l0)], 1),
                               np_(lstm.bias_ih_l0) + np_(lstm.bias_hh_l0)))
        self.win_w, self.win_b = np_(net.window.weight), np_(net.window.bias)
        self.H, self.K, self.A = net.hidden, net.K, net.A
        self.set_text(np.array([1]))

    def set_text(self, codes: np.ndarray) -> None:
        """codes (U,) 1-based character indices; resets the state."""
        codes = np.asarray(codes, np.int64)
        self.c = np.eye(self.A, dtype=np.float32)[codes - 1]  # (U, A)
        self.u = np.arange(1, len(codes) + 2, dtype=np.float32)  # 1..U+1: U+1 is "past the last character"
        self.reset()

    def reset(self) -> None:
        n = len(self.cells)
        self.h = [np.zeros(self.H, np.float32) for _ in range(n)]
        self.cst = [np.zeros(self.H, np.float32) for _ in range(n)]
        self.kappa, self.w = np.zeros(self.K, np.float32), np.zeros(self.A, np.float32)
        self.phi = np.zeros(len(self.u), np.float32)

    def _cell(self, i: int, x: np.ndarray) -> np.ndarray:
        w, b = self.cells[i]
        g, H = w @ np.concatenate([x, self.h[i]]) + b, self.H
        i_, f_, o_ = (_sigmoid(g[s : s + H]) for s in (0, H, 3 * H))
        self.cst[i] = f_ * self.cst[i] + i_ * np.tanh(g[2 * H : 3 * H])
        self.h[i] = o_ * np.tanh(self.cst[i])
        return self.h[i]

    def advance(self, x: np.ndarray) -> np.ndarray:
        """One input frame x (I,) -> the head's input (layers * H,)."""
        h1 = self._cell(0, np.concatenate([x, self.w]))
        a, b, k = np.split(np.exp(np.clip(self.win_w @ h1 + self.win_b, RAW_MIN, RAW_MAX)), 3)
        self.kappa = self.kappa + k
        self.phi = (a[:, None] * np.exp(-b[:, None] * (self.kappa[:, None] - self.u) ** 2)).sum(0)  # (U + 1,)
        self.w = (self.phi[:-1] @ self.c).astype(np.float32)
        below = h1
        for i in range(1, len(self.cells)):
            below = self._cell(i, np.concatenate([x, self.w, below]))
        return np.concatenate(self.h)

    @property
    def on_last(self) -> bool:
        """The window weighs the last character (or past it) most: only then may a line end."""
        return int(np.argmax(self.phi)) >= len(self.u) - 2

    @property
    def finished(self) -> bool:
        """Graves' stopping rule: the window weighs past the last character more than any character."""
        return bool(self.phi[-1] > self.phi[:-1].max())
