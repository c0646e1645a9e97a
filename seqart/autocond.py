"""Auto-conditioning: training on the model's own outputs (Zhou et al. 2018, acLSTM).

Teacher forcing feeds the true previous frame at every step, so the model never
sees its own output during training; sampled for minutes it meets frames it has
never been fed, and a dancer damps itself still or drifts. Auto-conditioning
alternates spans along each training window: `gt` frames fed from the data, then
`own` frames fed from what the model itself just generated, and so on. The loss
stays the NLL of the true frames, so the model learns to come back to the data
from wherever its own frames led it.

Modality-agnostic: the frame fed back is built from the head's parameters alone
(`feedback_frame`): per mixture block a sample (or the most likely component's
mean), per categorical a sampled (or most likely) class; the model embeds it as
it embeds data. Nothing flows back through the fed frame (it is detached, as in
scheduled sampling). `own = 0` is exactly teacher forcing (the usual one call).

The own span can grow: from 1 frame to `own` over the first `ramp` steps, so the
model first learns the data and then, gradually, its own mistakes. The cycle's
phase is drawn per batch so every position is sometimes fed from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from seqart.errors import SeqartError
from seqart.mdn import split_params

FEEDS = ("sample", "mean")


@dataclass
class AutoCond:
    gt: int  # frames fed from the data per cycle (>= 1)
    own: int  # frames fed from the model per cycle (0 = teacher forcing)
    ramp: int = 0  # training steps over which the own span grows from 1 to `own`
    feed: str = "sample"  # "sample": a draw from the head; "mean": most likely component and class
    step: int = 0  # the trainer's step, set before each training step

    def __post_init__(self):
        if self.gt < 1 or self.own < 0 or self.ramp < 0 or self.feed not in FEEDS:
            raise ValueError(f"auto-conditioning needs gt >= 1, own >= 0, ramp >= 0 and feed in {FEEDS}")

    def own_now(self) -> int:
        """Own frames per cycle at the current step (grows linearly over `ramp` steps)."""
        if self.own == 0 or self.ramp == 0 or self.step >= self.ramp:
            return self.own
        return max(1, int(round(self.own * (self.step + 1) / self.ramp)))

    def own_positions(self, T: int, own: int, phase: int) -> list[bool]:
        """Which of T input positions are fed from the model. Position 0 (the start token) never is."""
        cycle = self.gt + own
        return [t > 0 and (t + phase) % cycle >= self.gt for t in range(T)]

    def decode(self, model, inp: torch.Tensor, state=None) -> torch.Tensor:
        """Decoder outputs (B, T, H) for teacher-forced inputs inp (B, T, in [+ z]), own spans swapped in.

        Data spans run as one decoder call; each own frame is one call on the frame
        generated from the previous output. `model.decoder(x, state) -> (out, state)`.
        """
        own = self.own_now()
        if own == 0:
            return model.decoder(inp, state)[0]
        T = inp.shape[1]
        phase = int(torch.randint(0, self.gt + own, (1,)))
        fed = self.own_positions(T, own, phase)
        outs, t = [], 0
        while t < T:
            if fed[t]:
                frame = feedback_frame(model, outs[-1][:, -1], self.feed)
                x = torch.cat([model.embed(frame.unsqueeze(1)), inp[:, t : t + 1, model.in_dim :]], -1)
                end = t + 1
            else:
                end = next((u for u in range(t + 1, T) if fed[u]), T)
                x = inp[:, t:end]
            out, state = model.decoder(x, state)
            outs.append(out)
            t = end
        return torch.cat(outs, 1)


@torch.no_grad()
def feedback_frame(model, h: torch.Tensor, feed: str = "sample") -> torch.Tensor:
    """Decoder outputs h (B, H) -> the model-space frames (B, F) the head generates from them."""
    lay, m = model.layout, model.cfg.mixtures
    mixtures, cats = split_params(model.head(h).float(), lay, m)
    parts = []
    for p in mixtures:
        B = p["logit"].shape[0]
        if feed == "mean":
            k = p["logit"].argmax(-1)
        else:
            k = torch.multinomial(F.softmax(p["logit"], -1), 1).squeeze(-1)
        pick = torch.arange(B, device=h.device)
        mu, sigma = p["mu"][pick, k], torch.exp(p["log_sigma"][pick, k])  # (B, D)
        if feed == "mean":
            parts.append(mu)
            continue
        n = torch.randn_like(mu)
        if "rho" in p:  # a bivariate pair: the second draw shares rho with the first
            rho = p["rho"][pick, k]
            n = torch.stack([n[:, 0], rho * n[:, 0] + torch.sqrt(1 - rho * rho) * n[:, 1]], -1)
        parts.append(mu + sigma * n)
    for logits in cats:
        cls = logits.argmax(-1) if feed == "mean" else torch.multinomial(F.softmax(logits, -1), 1).squeeze(-1)
        parts.append(cls.unsqueeze(-1).to(h.dtype))
    return torch.cat(parts, -1).to(h.dtype)


def from_config(tc) -> AutoCond | None:
    """The AutoCond a TrainConfig asks for (train.autocond_*), or None for teacher forcing."""
    if tc.autocond_own == 0:
        return None
    if tc.autocond_feed not in FEEDS:
        raise SeqartError(f"train.autocond_feed = {tc.autocond_feed!r}: expected one of {', '.join(FEEDS)}")
    return AutoCond(tc.autocond_gt, tc.autocond_own, tc.autocond_ramp, tc.autocond_feed)


def supports(model) -> bool:
    """Whether a model feeds its decoder frame by frame as `autocond.decode` does (MDN-LSTMs without a window)."""
    cfg = getattr(model, "cfg", None)
    return hasattr(model, "head") and hasattr(model, "embed") and not getattr(cfg, "window_mixtures", 0)
