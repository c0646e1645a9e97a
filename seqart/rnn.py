"""The decoder's recurrent layers: the fused `nn.LSTM`, or a layer-normalised LSTM; optional recurrent dropout.

Every decoder has `nn.LSTM`'s interface, so the model (and anything that runs
it span by span) need not care which one it has:

    decoder(inp (B, T, I), state (h0, c0) each (L, B, H) or None) -> (out (B, T, H), (h_n, c_n))

* `cell = "lstm"`: `nn.LSTM` (oneDNN's fused kernel), exactly today's model.
* `cell = "layernorm"`: the layer-normalised LSTM of sketch-rnn's
  LayerNormLSTMCell (Ba et al. 2016, sec. 3.1, in its "joint" form): each of
  the four gate pre-activations W [x; h] is normalised over its H units with
  its own gain and bias (the bias replaces the LSTM's; the forget gate's starts
  at 1), and the cell is normalised before its tanh:
      i, f, g, o = LN_k(W_ih x + W_hh h)       (k: one gain and bias per gate)
      c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
      h' = sigmoid(o) * tanh(LN_c(c'))         (c' itself is carried unnormalised)
* `recurrent_dropout = p` (either cell): dropout on the cell candidate tanh(g)
  (Semeniuta et al. 2016), a fresh mask every step, scaled by 1 / (1 - p) in
  training so that nothing changes at evaluation or sampling time.
* `layers > 1`: each layer's output feeds the next, with `dropout` between layers.

A Python loop over time steps is slow under autograd, so the recurrence is one
autograd Function with a hand-written backward: the input projection of every
step is one matrix product before the loop, each step does one (B, H) x (H, 4H)
product and a few fused element-wise ops, and the backward pass leaves the
weight gradient to one product over all steps. Under CPU or CUDA autocast the
matrix products run in the autocast type while the layer norms, gates and cell
stay in fp32.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

CELLS = ("lstm", "layernorm")
EPS = 1e-3  # layer-norm epsilon (sketch-rnn's): keeps the first steps, whose pre-activations barely vary, sane
# Per-gate scale (i, f, g, o): the g gate's tanh is computed as 2 sigmoid(2 z) - 1, so one sigmoid serves all four.
_GATE_SCALE = (1.0, 1.0, 2.0, 1.0)


def make_decoder(cfg, input_size: int) -> nn.Module:
    """The decoder a ModelConfig asks for (cell, hidden, layers, dropout between layers, recurrent_dropout)."""
    if cfg.cell not in CELLS:
        raise ValueError(f"model.cell must be one of {', '.join(CELLS)}, not {cfg.cell!r}")
    between = cfg.dropout if cfg.layers > 1 else 0.0
    if cfg.cell == "layernorm":
        return LayerNormLSTM(input_size, cfg.hidden, cfg.layers, cfg.recurrent_dropout, between)
    if cfg.recurrent_dropout > 0:
        return RecurrentDropoutLSTM(input_size, cfg.hidden, cfg.layers, batch_first=True, dropout=between,
                                    recurrent_dropout=cfg.recurrent_dropout)
    return nn.LSTM(input_size, cfg.hidden, cfg.layers, batch_first=True, dropout=between)


class LayerNormLSTM(nn.Module):
    """A stack of layer-normalised LSTM layers (see the module docstring), batch first.

    Per layer k: weight_ih_lk (4H, I), weight_hh_lk (4H, H), gate_gain_lk / gate_bias_lk (4H,)
    in torch's gate order i, f, g, o, and cell_gain_lk / cell_bias_lk (H,).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 recurrent_dropout: float = 0.0, dropout: float = 0.0):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.recurrent_dropout, self.dropout = recurrent_dropout, dropout
        H, k = hidden_size, hidden_size**-0.5
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else H
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(4 * H, fan_in).uniform_(-k, k)))
            self.register_parameter(f"weight_hh_l{layer}", nn.Parameter(torch.empty(4 * H, H).uniform_(-k, k)))
            self.register_parameter(f"gate_gain_l{layer}", nn.Parameter(torch.ones(4 * H)))
            bias = torch.zeros(4 * H)
            bias[H : 2 * H] = 1.0  # forget gate open at the start (sketch-rnn's forget bias)
            self.register_parameter(f"gate_bias_l{layer}", nn.Parameter(bias))
            self.register_parameter(f"cell_gain_l{layer}", nn.Parameter(torch.ones(H)))
            self.register_parameter(f"cell_bias_l{layer}", nn.Parameter(torch.zeros(H)))

    def layer_params(self, layer: int) -> dict:
        names = ("weight_ih", "weight_hh", "gate_gain", "gate_bias", "cell_gain", "cell_bias")
        return {n: getattr(self, f"{n}_l{layer}") for n in names}

    def forward(self, inp: torch.Tensor, state=None):
        return run_layers(self, inp, state)


class RecurrentDropoutLSTM(nn.LSTM):
    """`nn.LSTM` (same parameters, same fused kernel at evaluation) with recurrent dropout in training."""

    def __init__(self, *args, recurrent_dropout: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.recurrent_dropout = recurrent_dropout

    def layer_params(self, layer: int) -> dict:
        return {"weight_ih": getattr(self, f"weight_ih_l{layer}"), "weight_hh": getattr(self, f"weight_hh_l{layer}"),
                "bias": getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")}

    def forward(self, inp: torch.Tensor, state=None):
        if self.training and self.recurrent_dropout > 0:
            return run_layers(self, inp, state)
        return super().forward(inp, state)


def run_layers(net: nn.Module, inp: torch.Tensor, state):
    """Every layer of `net` over inp (B, T, I) from state ((L, B, H) x 2 or None): nn.LSTM's outputs."""
    B, T, _ = inp.shape
    H, L = net.hidden_size, net.num_layers
    dev = inp.device.type
    low = torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else None
    fdt = torch.float32 if low else inp.dtype  # the state's type
    p_rec = net.recurrent_dropout if net.training else 0.0
    x = inp.transpose(0, 1)  # (T, B, I): one step is one contiguous slice
    hs, cs = [], []
    for layer in range(L):
        prm = net.layer_params(layer)
        xw = F.linear(x, prm["weight_ih"], prm.get("bias"))  # (T, B, 4H), in the autocast type if any
        if state is None:
            h0 = c0 = torch.zeros(B, H, dtype=fdt, device=inp.device)
        else:
            h0, c0 = state[0][layer].to(fdt), state[1][layer].to(fdt)
        mask = None
        if p_rec > 0:  # inverted dropout: E[mask] = 1, so evaluation uses no mask at all
            mask = torch.empty(T, B, H, dtype=fdt, device=inp.device).bernoulli_(1 - p_rec).div_(1 - p_rec)
        ln = [prm[n] for n in ("gate_gain", "gate_bias", "cell_gain", "cell_bias")] if "gate_gain" in prm else [None] * 4
        out, h_n, c_n = _Recurrence.apply(xw, h0, c0, prm["weight_hh"], *ln, mask, low, torch.is_grad_enabled())
        hs.append(h_n)
        cs.append(c_n)
        x = out
        if layer < L - 1 and net.dropout > 0:
            x = F.dropout(x, net.dropout, net.training)
    return x.transpose(0, 1), (torch.stack(hs), torch.stack(cs))


def _gate_scale(dtype: torch.dtype, device, H: int) -> torch.Tensor:
    return torch.tensor(_GATE_SCALE, dtype=dtype, device=device).repeat_interleave(H)  # (4H,)


class _Recurrence(torch.autograd.Function):
    """One layer's recurrence over time, given every step's input projection.

    xw (T, B, 4H) = W_ih x (+ b for the plain cell); h0, c0 (B, H); w_hh (4H, H); the four layer-norm
    parameters, or None for the plain cell; mask (T, B, H) recurrent-dropout multipliers or None;
    low: the autocast dtype for the matrix products, or None; keep: whether a backward pass may follow
    (grad mode was on). Returns out (T, B, H), h_n, c_n (B, H).

    Gates are z' = z * scale with scale 2 for g (_GATE_SCALE), so s = sigmoid(z') gives i, f, o and
    tanh(z_g) = 2 s_g - 1. The plain cell folds the scale into xw and w_hh; the normalised one into its
    gate gains and biases. Per step the forward keeps s, g (masked), tanh(LN(c)) and the norms' statistics.
    """

    @staticmethod
    def forward(ctx, xw, h0, c0, w_hh, gate_gain, gate_bias, cell_gain, cell_bias, mask, low, keep):
        T, B, G = xw.shape
        H = G // 4
        fdt = torch.float32 if low else xw.dtype  # the gates, norms and cell: fp32 under autocast
        ln = gate_gain is not None
        with torch.autocast(xw.device.type, enabled=False):
            scale = _gate_scale(fdt, xw.device, H)
            if ln:  # (4, H) per gate
                gain, bias = (gate_gain * scale).view(4, H), (gate_bias * scale).view(4, H)
                w = w_hh
            else:
                xw, w = xw * scale.to(xw.dtype), w_hh * scale[:, None]
            w = (w.to(low) if low else w).t()  # (H, 4H)
            # g = 2 s_g - 1, times the dropout mask m: m (2 s_g - 1) = 2 m s_g - m
            m2, neg_m = (2 * mask, -mask) if mask is not None else (None, torch.full((B, H), -1.0, dtype=fdt, device=xw.device))
            hs = xw.new_empty(T + 1, B, H, dtype=fdt)  # h_0 .. h_T
            cs = torch.empty_like(hs)
            hs[0], cs[0] = h0, c0
            h_mm = hs[0].to(low) if low else hs[0]
            keep = keep and any(ctx.needs_input_grad)  # nothing is kept for backward at evaluation
            saved = []
            for t in range(T):
                a = torch.addmm(xw[t], h_mm, w)  # (B, 4H)
                if ln:
                    n, _, rstd = torch.native_layer_norm(a.view(B, 4, H).to(fdt), (H,), None, None, EPS)
                    s = torch.sigmoid(torch.addcmul(bias, n, gain))  # (B, 4, H): i, f, (g + 1) / 2, o
                else:
                    n = rstd = None
                    s = torch.sigmoid(a.view(B, 4, H).to(fdt))
                g = torch.addcmul(neg_m[t], s[:, 2], m2[t]) if mask is not None else torch.add(neg_m, s[:, 2], alpha=2)
                c = torch.addcmul(s[:, 1] * cs[t], s[:, 0], g, out=cs[t + 1])
                cn, cmu, crstd = torch.native_layer_norm(c, (H,), cell_gain, cell_bias, EPS) if ln else (c, None, None)
                tc = torch.tanh(cn)
                h = torch.mul(s[:, 3], tc, out=hs[t + 1])
                h_mm = h.to(low) if low else h
                if keep:
                    saved.append((s, g, tc, n, rstd, cmu, crstd))
        if keep:
            ctx.save_for_backward(w_hh, gate_gain, gate_bias, cell_gain, cell_bias, mask)
            ctx.hs, ctx.cs, ctx.saved, ctx.low, ctx.xw_dtype = hs, cs, saved, low, xw.dtype
        return hs[1:], hs[T].clone(), cs[T].clone()

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn):
        w_hh, gate_gain, gate_bias, cell_gain, cell_bias, mask = ctx.saved_tensors
        hs, cs, low = ctx.hs, ctx.cs, ctx.low
        T, B, H = d_out.shape
        ln = gate_gain is not None
        fdt, dev = hs.dtype, hs.device
        with torch.autocast(dev.type, enabled=False):
            scale = _gate_scale(fdt, dev, H)
            w = w_hh if ln else w_hh * scale[:, None]
            w = w.to(low) if low else w  # (4H, H)
            if ln:
                gain = (gate_gain * scale).view(4, H)
                acc_gain, acc_bias = torch.zeros(B, 4, H, dtype=fdt, device=dev), torch.zeros(B, 4, H, dtype=fdt, device=dev)
                d_cgain, d_cbias = torch.zeros(H, dtype=fdt, device=dev), torch.zeros(H, dtype=fdt, device=dev)
                zeros, ones = torch.zeros(B, 4, 1, dtype=fdt, device=dev), torch.ones(B, 4, 1, dtype=fdt, device=dev)
            m2 = 2 * mask if mask is not None else None
            da_all = torch.empty(T, B, 4 * H, dtype=low or fdt, device=dev)  # d z' (plain) or d a (normalised)
            dh_mm, dc = d_hn.to(fdt), d_cn.to(fdt)
            dz = torch.empty(B, 4, H, dtype=fdt, device=dev)
            for t in range(T - 1, -1, -1):
                s, g, tc, n, rstd, cmu, crstd = ctx.saved[t]
                dh = torch.add(d_out[t], dh_mm)
                torch.mul(dh, tc, out=dz[:, 3])  # d o
                dcn = dh * s[:, 3]
                dcn = torch.addcmul(dcn, dcn * tc, tc, value=-1)  # through tanh: (1 - tc^2)
                if ln:
                    dcn, dgc, dbc = torch.ops.aten.native_layer_norm_backward(
                        dcn, cs[t + 1], (H,), cmu, crstd, cell_gain, cell_bias, [True, True, True])
                    d_cgain += dgc
                    d_cbias += dbc
                dc = dc + dcn
                torch.mul(dc, g, out=dz[:, 0])  # d i
                torch.mul(dc, cs[t], out=dz[:, 1])  # d f
                torch.mul(dc, s[:, 0], out=dz[:, 2])  # d g ...
                dz[:, 2] *= m2[t] if mask is not None else 2.0  # ... times d g / d s_g = 2 m
                dc = dc * s[:, 1]
                dsz = torch.addcmul(s, s, s, value=-1).mul_(dz)  # through the sigmoids: d z' (B, 4, H)
                if ln:
                    acc_gain.addcmul_(dsz, n)
                    acc_bias += dsz
                    # LN backward with unit statistics on the normalised n, then the true 1 / std
                    dn = torch.ops.aten.native_layer_norm_backward(
                        dsz * gain, n, (H,), zeros, ones, None, None, [True, False, False])[0]
                    torch.mul(dn, rstd, out=da_all[t].view(B, 4, H))
                else:
                    da_all[t] = dsz.view(B, 4 * H)
                dh_mm = torch.mm(da_all[t], w)
            hprev = hs[:-1].reshape(T * B, H)
            d_whh = torch.mm(da_all.view(T * B, 4 * H).t(), hprev.to(low) if low else hprev)  # one product, all steps
            grads = [None] * 4
            if ln:
                grads = [(acc_gain.sum(0) * scale.view(4, H)).view(-1), (acc_bias.sum(0) * scale.view(4, H)).view(-1),
                         d_cgain, d_cbias]
            else:  # undo the folded gate scale
                d_whh = d_whh.to(fdt) * scale[:, None]
                da_all = da_all * scale.to(da_all.dtype)
        d_xw = da_all.to(ctx.xw_dtype)
        return d_xw, dh_mm.to(fdt), dc, d_whh.to(w_hh.dtype), *grads, None, None, None
