"""The one model family: an LSTM whose outputs parameterise a mixture-density head.

Unconditional (decoder only, Graves 2013) or, with `z_dim > 0`, a sketch-rnn
VAE (Ha & Eck 2017): a bidirectional LSTM encoder reads the whole sequence,
its final states give mu and log-variance of a latent z, and z sets the
decoder's initial state and is fed beside every input frame.

Sequences are padded, never packed (packed backward is ~10x slower on CPU):
the loss is masked and the encoder's backward pass reads a reversed copy of
each sequence so that its state at `len - 1` is the true final one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from seqart.errors import SeqartError
from seqart.layout import Layout
from seqart.mdn import head_nll, starts_of
from seqart.precision import full_precision
from seqart.rnn import make_decoder


@dataclass
class ModelConfig:
    layout: dict = field(default_factory=dict)  # Layout.to_json() of the codec
    hidden: int = 512  # decoder LSTM units
    layers: int = 1
    mixtures: int = 20  # M Gaussians per mixture block
    dropout: float = 0.0  # on the decoder's output (and between its layers)
    cell: str = "lstm"  # "lstm" (fused nn.LSTM) or "layernorm" (layer-normalised, sketch-rnn's advice for < 10k drawings)
    recurrent_dropout: float = 0.0  # dropout on the cell candidate at every step, in training only
    z_dim: int = 0  # 0: unconditional; > 0: VAE latent size
    enc_hidden: int = 256  # per direction
    window_mixtures: int = 0  # > 0: Graves' synthesis network, K Gaussians of a soft window over the text (seqart.window)
    copula: bool = False  # a Gaussian copula over each diagonal mixture's channels, fitted to the data (seqart.copula)

    def to_json(self) -> dict:
        return asdict(self)


class MDNLSTM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.layout = Layout.from_json(cfg.layout)
        lay = self.layout
        self.n_cont = len(lay.continuous)
        self.in_dim = lay.feature_dim + 1  # + a start-of-sequence flag
        dec_in = self.in_dim + cfg.z_dim
        if cfg.window_mixtures:
            self.decoder = _synthesis_net(cfg, lay, self.in_dim)
        else:
            self.decoder = make_decoder(cfg, dec_in)  # nn.LSTM's interface, whatever the cell (seqart.rnn)
        head_in = cfg.hidden * cfg.layers if cfg.window_mixtures else cfg.hidden
        self.head = nn.Linear(head_in, lay.head_dim(cfg.mixtures))
        self.drop = nn.Dropout(cfg.dropout)
        self.autocond = None  # an AutoCond (seqart/autocond.py) while training with train.autocond_own > 0
        # copula_<i>: Cholesky factor (D, D) of block i's copula correlation, identity until fitted;
        # copula_<i>_lag: how much of its noise carries over to the next frame, 0 until fitted
        self.copula_blocks = [i for i, b in enumerate(lay.mixtures) if b.kind == "diagonal"] if cfg.copula else []
        for i in self.copula_blocks:
            self.register_buffer(f"copula_{i}", torch.eye(len(lay.mixtures[i].channels)))
            self.register_buffer(f"copula_{i}_lag", torch.zeros(()))
        if cfg.z_dim:
            self.enc_fwd = nn.LSTM(self.in_dim, cfg.enc_hidden, batch_first=True)
            self.enc_bwd = nn.LSTM(self.in_dim, cfg.enc_hidden, batch_first=True)
            self.to_latent = nn.Linear(2 * cfg.enc_hidden, 2 * cfg.z_dim)
            self.z_to_state = nn.Linear(cfg.z_dim, 2 * cfg.hidden * cfg.layers)

    # --- inputs -----------------------------------------------------------------------
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, F) model-space frames -> (B, T, in_dim): continuous, one-hots, start flag 0."""
        parts = [x[..., : self.n_cont]]
        for i, c in enumerate(self.layout.categoricals):
            cls = x[..., self.n_cont + i].long().clamp(0, c.classes - 1)
            parts.append(F.one_hot(cls, c.classes).to(x.dtype))
        parts.append(torch.zeros_like(x[..., :1]))
        return torch.cat(parts, -1)

    def start_token(self, batch: int, device=None) -> torch.Tensor:
        s = torch.zeros(batch, 1, self.in_dim, device=device)
        s[..., -1] = 1.0
        return s

    # --- VAE ----------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F), (B,) -> mu, logvar, each (B, z_dim)."""
        e = self.embed(x)
        B, T, _ = e.shape
        idx = torch.arange(T, device=x.device).expand(B, T)
        last = (lengths - 1).clamp(min=0)
        rev = (last.unsqueeze(1) - idx).clamp(min=0)  # reversed within each length
        e_rev = torch.gather(e, 1, rev.unsqueeze(-1).expand_as(e))
        hf, _ = self.enc_fwd(e)
        hb, _ = self.enc_bwd(e_rev)
        pick = last.view(B, 1, 1).expand(B, 1, hf.shape[-1])
        h = torch.cat([hf.gather(1, pick), hb.gather(1, pick)], -1).squeeze(1)
        with full_precision(x.device.type):  # the latent and its KL in fp32
            mu, logvar = self.to_latent(h.float()).chunk(2, -1)
        return mu, logvar

    def initial_state(self, z: torch.Tensor | None, batch: int, device=None):
        if z is None:
            return None
        hc = torch.tanh(self.z_to_state(z)).view(batch, 2, self.cfg.layers, self.cfg.hidden)
        return hc[:, 0].transpose(0, 1).contiguous(), hc[:, 1].transpose(0, 1).contiguous()

    # --- training forward ----------------------------------------------------------------
    def forward(self, x: torch.Tensor, mask: torch.Tensor, z_sample: bool = True):
        """x (B, T, F) model-space frames, mask (B, T) valid frames.

        Returns (raw head params (N, head_dim) of the N valid frames in row-major
        order, losses dict of scalars). The
        losses are NLL in nats per valid frame, by block, and "kl" for a VAE.
        """
        B, T, _ = x.shape
        inp = torch.cat([self.start_token(B, x.device), self.embed(x[:, :-1])], 1)
        losses, z, state = {}, None, None
        if self.cfg.z_dim:
            mu, logvar = self.encode(x, mask.sum(1))
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if z_sample else mu
            with full_precision(x.device.type):
                losses["kl"] = -0.5 * torch.mean(torch.sum(1 + logvar - mu * mu - logvar.exp(), -1)) / self.cfg.z_dim
            state = self.initial_state(z, B, x.device)
            inp = torch.cat([inp, z.unsqueeze(1).expand(B, T, -1)], -1)
        if self.cfg.window_mixtures:  # the text travels as the column after the layout's (codecs.handwriting)
            out, _ = self.decoder(inp, x[..., len(self.layout.continuous) + len(self.layout.categoricals)])
        elif self.training and self.autocond is not None:  # some inputs are the model's own frames
            out = self.autocond.decode(self, inp, state)
        else:
            out, _ = self.decoder(inp, state)
        # Head, dropout and loss run on real frames only: (N, H) with N = mask.sum(); always
        # in fp32, also under bf16 autocast (seqart.precision says why).
        with full_precision(x.device.type):
            valid = x[mask]
            raw = self.head(self.drop(out[mask].float()))
            losses.update(self.nll(raw, valid, torch.ones(len(valid), dtype=torch.bool, device=x.device),
                                   starts_of(mask)))
        return raw, losses

    def copula_factors(self) -> dict[int, tuple[torch.Tensor, float]]:
        """{mixture block index: (Cholesky factor of its copula correlation, lag)}; empty without a copula."""
        return {i: (getattr(self, f"copula_{i}"), float(getattr(self, f"copula_{i}_lag"))) for i in self.copula_blocks}

    def nll(self, raw: torch.Tensor, x: torch.Tensor, mask: torch.Tensor,
            starts: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Masked NLL per block and in total ("nll"), nats per valid frame.

        raw (..., head_dim), x (..., F) and mask (...) share their leading shape; starts (N,) marks
        the rows that begin a sequence when rows are consecutive frames (a copula's lag reads the
        row before). In training the loss is the marginal (diagonal) NLL: the copula is fitted,
        not learnt (seqart.copula).
        """
        copula = None if self.training else self.copula_factors()
        per = head_nll(raw, x, self.layout, self.cfg.mixtures, copula, starts)
        m = mask.to(raw.dtype)
        n = m.sum().clamp(min=1)
        cont_m = m
        if self.layout.end is not None:  # the end frame has no meaningful continuous values
            cont_m = m * (x[..., self.layout.end_column] != self.layout.end[1]).to(m.dtype)
        mix_names = {b.name for b in self.layout.mixtures}
        out = {k: (v * (cont_m if k in mix_names else m)).sum() / n for k, v in per.items()}
        out["nll"] = sum(out.values())
        return out


def _synthesis_net(cfg: ModelConfig, layout: Layout, in_dim: int) -> nn.Module:
    """Graves 2013 sec. 5: the decoder reads the text through a soft window (needs a codec with an alphabet)."""
    from seqart.window import SynthesisNet

    alphabet = layout.extra.get("alphabet")
    if not alphabet:
        raise SeqartError(f"model.window_mixtures = {cfg.window_mixtures}: needs data with text (handwriting), "
                          "whose codec has an alphabet")
    if cfg.z_dim:
        raise SeqartError("model.window_mixtures and model.z_dim: a text-conditioned model is not a VAE; set one to 0")
    if cfg.cell != "lstm" or cfg.recurrent_dropout:
        raise SeqartError("model.window_mixtures: the synthesis network has plain LSTM cells; "
                          "leave model.cell and model.recurrent_dropout at their defaults")
    return SynthesisNet(in_dim, cfg.hidden, cfg.layers, cfg.window_mixtures, len(alphabet))
