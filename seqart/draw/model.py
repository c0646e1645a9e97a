"""DRAW: a recurrent variational autoencoder that builds an image on a canvas (Gregor et al. 2015).

At each of T steps (eq. 3-8 of the paper):

    x^_t   = x - sigmoid(c_{t-1})                       the error image
    r_t    = read(x, x^_t, h_dec_{t-1})                 what the encoder looks at
    h_enc  = LSTM_enc(h_enc, [r_t, h_dec_{t-1}])
    z_t    ~ Q(z_t | h_enc) = N(mu_t, sigma_t)          per-step latent, (B, z_dim)
    h_dec  = LSTM_dec(h_dec, z_t)
    c_t    = c_{t-1} + write(h_dec)                     the canvas, in logit space (B, H, W)

With attention, read takes two N_r x N_r glimpses (of x and x^) through a grid of
Gaussian filters placed by h_dec (seqart.draw.filterbank), and write adds an
N_w x N_w patch through another grid; without it, read is [x, x^] and write a full
H x W update. The loss is the negative evidence lower bound in nats per image:

    -ELBO = -log D(x | sigmoid(c_T)) + sum_t KL(N(mu_t, sigma_t) || N(0, I))

with D a Bernoulli per pixel (binary images) or, for 8-bit grey, a discretised
logistic over the 256 levels (mean sigmoid(c_T), a learned scale per pixel).
Generation runs the decoder alone with z_t from the prior (seqart.draw.sampler).

The recurrent cells may run under bf16 autocast; attention, latents, canvas and
loss are computed in fp32 (see seqart.precision).

Inspection hook: set `DRAW.watch` to a function and `forward` calls it after every
glimpse with `(read_box, write_box, canvas, h_dec, s_dec)` for the first image of the
batch: each box (x, y, size, sigma) in pixels from the top-left (None without attention),
the canvas so far as shown (sigmoid(c_t), (P,)), and the decoder's states (H_dec,). The
studio's Inside views read DRAW through it (no loop of their own); None costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from seqart.draw import filterbank as fb
from seqart.precision import full_precision

LEVELS = 256  # grey levels of an 8-bit image, for the discretised logistic


@dataclass
class DRAWConfig:
    height: int = 28  # image size in pixels: set from the codec, like the MDN's layout
    width: int = 28
    glimpses: int = 64  # T, read/write steps per image (the paper's MNIST setting)
    enc_hidden: int = 256  # encoder LSTM units
    dec_hidden: int = 256  # decoder LSTM units
    z_dim: int = 100  # latent units per step
    attention: bool = True  # False: read the whole image, write the whole canvas
    read_n: int = 2  # N x N read grid
    write_n: int = 5  # N x N write grid
    likelihood: str = "bernoulli"  # "bernoulli" (binary pixels) or "logistic" (8-bit grey, discretised)

    def __post_init__(self):  # the settings against the spec; the image size as the canvas codec allows
        from seqart import spec

        spec.check(spec.DRAW, asdict(self), section="model")
        for key in ("height", "width"):
            spec.Setting(f"model.{key}", int, None, 1, 65536, unit="px").check(getattr(self, key))

    def to_json(self) -> dict:
        return asdict(self)


def weight_count(settings: dict) -> int:
    """How many weights (biases aside) a model of these stored settings has: checked against a
    checkpoint's tensors before anything is allocated (seqart.modelio.check_meta)."""
    c = DRAWConfig.__dataclass_fields__
    get = lambda k: int(settings.get(k, c[k].default))  # noqa: E731
    pixels, e, d, z = get("height") * get("width"), get("enc_hidden"), get("dec_hidden"), get("z_dim")
    attention = bool(settings.get("attention", True))
    read_dim = 2 * get("read_n") ** 2 if attention else 2 * pixels
    write = d * (get("write_n") ** 2 + 10 if attention else pixels)
    starts = pixels + e + d  # the learned c_0, h_0^enc and h_0^dec
    return 4 * e * (read_dim + d + e) + 4 * d * (z + d) + e * 2 * z + write + starts


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B, P) canvas logits, (B, P) pixels in {0, 1} -> (B,) nats per image."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def logistic_nll(mean: torch.Tensor, log_scale: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Discretised logistic: (B, P) means in [0, 1], (P,) log scales, (B, P) pixels k / 255 -> (B,) nats.

    Each level k / 255 owns the interval of width 1/255 around it; the first and last
    levels take the tails, so the 256 probabilities sum to one. sigmoid(a) - sigmoid(b)
    equals sigmoid(-b) - sigmoid(-a): the side where both terms are small is taken, so a
    level far from the mean does not cancel to zero in fp32; a bin too narrow for that
    difference takes density x width.
    """
    half = 0.5 / (LEVELS - 1)
    inv_s = torch.exp(-log_scale)
    a, b = (x + half - mean) * inv_s, (x - half - mean) * inv_s  # standardised bin edges
    flip = a + b > 0
    hi, lo = torch.where(flip, -b, a), torch.where(flip, -a, b)
    diff = torch.sigmoid(hi) - torch.sigmoid(lo)
    centre = (x - mean) * inv_s
    log_density = centre - log_scale - 2 * F.softplus(centre) + math.log(2 * half)
    log_p = torch.where(diff > 1e-6, torch.log(diff.clamp(min=1e-12)), log_density)
    log_p = torch.where(x <= half, -F.softplus(-a), log_p)  # level 0: everything below its upper edge
    log_p = torch.where(x >= 1 - half, -F.softplus(b), log_p)  # level 255: everything above its lower edge
    return -log_p.sum(-1)


def gaussian_kl(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma) || N(0, 1)) summed over the last axis: (B, Z) -> (B,) nats (eq. 10)."""
    return 0.5 * (mu * mu + torch.exp(2 * log_sigma) - 2 * log_sigma - 1).sum(-1)


class DRAW(nn.Module):
    def __init__(self, cfg: DRAWConfig):
        super().__init__()
        self.cfg = cfg
        self.watch = None  # inspection hook (module docstring)
        h, w = cfg.height, cfg.width
        self.pixels = h * w
        read_dim = 2 * cfg.read_n**2 if cfg.attention else 2 * self.pixels
        self.encoder = nn.LSTMCell(read_dim + cfg.dec_hidden, cfg.enc_hidden)
        self.decoder = nn.LSTMCell(cfg.z_dim, cfg.dec_hidden)
        self.to_latent = nn.Linear(cfg.enc_hidden, 2 * cfg.z_dim)  # mu, log sigma
        if cfg.attention:
            self.read_where = nn.Linear(cfg.dec_hidden, 5)  # gx~, gy~, log sigma^2, log delta~, log gamma
            self.write_where = nn.Linear(cfg.dec_hidden, 5)
            self.write_patch = nn.Linear(cfg.dec_hidden, cfg.write_n**2)
            with torch.no_grad():  # windows start tiling the image, not on its corners (fb.tiling_params)
                self.read_where.bias.copy_(fb.tiling_params(h, w, cfg.read_n))
                self.write_where.bias.copy_(fb.tiling_params(h, w, cfg.write_n))
        else:
            self.write_patch = nn.Linear(cfg.dec_hidden, self.pixels)
        # The paper's learned starts (sec. 2.1: c_0, h_0^enc and h_0^dec are learned biases). c_0 is
        # set from the training images before training (start_from_data), so the T writes add ink
        # from the first step instead of spending it painting the blank background.
        self.canvas0 = nn.Parameter(torch.zeros(self.pixels))  # logits (P,)
        self.h_enc0 = nn.Parameter(torch.zeros(cfg.enc_hidden))
        self.h_dec0 = nn.Parameter(torch.zeros(cfg.dec_hidden))
        if cfg.likelihood == "logistic":
            self.log_scale = nn.Parameter(torch.full((self.pixels,), math.log(0.1)))

    @torch.no_grad()
    def start_from_data(self, mean_image: torch.Tensor) -> None:
        """c_0 = the logits of the training images' mean (P,) in [0, 1] (a Bernoulli VAE's usual
        output-bias start); for grey images the same mean in the logistic's sigmoid space."""
        m = mean_image.reshape(-1).to(self.canvas0).clamp(1e-3, 1 - 1e-3)
        self.canvas0.copy_(torch.log(m) - torch.log1p(-m))

    # --- attention ------------------------------------------------------------------------
    def read(self, x: torch.Tensor, x_err: torch.Tensor, h_dec: torch.Tensor) -> torch.Tensor:
        """(B, P) image and error image, (B, H_dec) -> (B, read_dim) glimpses."""
        if not self.cfg.attention:
            return torch.cat([x, x_err], -1)
        cfg, B = self.cfg, x.shape[0]
        win = fb.window_from_params(self.read_where(h_dec), cfg.height, cfg.width, cfg.read_n)
        fx, fy = fb.filterbanks(win, cfg.read_n, cfg.height, cfg.width)
        both = torch.stack([x, x_err], 1).view(B * 2, cfg.height, cfg.width)
        g = fb.read(both, fx.repeat_interleave(2, 0), fy.repeat_interleave(2, 0), win.gamma.repeat_interleave(2, 0))
        return g.reshape(B, 2 * cfg.read_n**2)

    def write(self, h_dec: torch.Tensor) -> tuple[torch.Tensor, fb.Window | None]:
        """(B, H_dec) -> ((B, P) canvas update, the write window or None without attention)."""
        cfg = self.cfg
        patch = self.write_patch(h_dec)
        if not cfg.attention:
            return patch, None
        win = fb.window_from_params(self.write_where(h_dec), cfg.height, cfg.width, cfg.write_n)
        fx, fy = fb.filterbanks(win, cfg.write_n, cfg.height, cfg.width)
        update = fb.write(patch.view(-1, cfg.write_n, cfg.write_n), fx, fy, win.gamma)
        return update.reshape(-1, self.pixels), win

    # --- training forward -------------------------------------------------------------------
    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, z_sample: bool = True):
        """x (B, 1, P) or (B, P) pixels in [0, 1] (the trainer's batches have one frame per image).

        Returns (canvas logits c_T (B, P), losses in nats per image: "nll" = -ELBO, its parts
        "recon" and "latent"). z_sample=False (evaluation) draws the latents' noise from a
        fixed generator, so a score is repeatable and leaves the global RNG alone.
        """
        x = x.reshape(x.shape[0], -1).float()
        B, dev, cfg = x.shape[0], x.device, self.cfg
        gen = None if z_sample else torch.Generator(device=dev).manual_seed(0)
        h_enc, s_enc = self.h_enc0.expand(B, -1), x.new_zeros(B, cfg.enc_hidden)
        h_dec, s_dec = self.h_dec0.expand(B, -1), x.new_zeros(B, cfg.dec_hidden)
        canvas, kl = self.canvas0.expand(B, -1), x.new_zeros(B)
        for _ in range(cfg.glimpses):
            h_read = h_dec
            with full_precision(dev.type):
                r = self.read(x, x - torch.sigmoid(canvas), h_dec.float())
            h_enc, s_enc = self.encoder(torch.cat([r, h_dec.to(r.dtype)], -1), (h_enc, s_enc))
            with full_precision(dev.type):
                mu, log_sigma = self.to_latent(h_enc.float()).chunk(2, -1)
                eps = torch.randn(mu.shape, device=dev, generator=gen)
                z = mu + torch.exp(log_sigma) * eps
                kl = kl + gaussian_kl(mu, log_sigma)
            h_dec, s_dec = self.decoder(z, (h_dec, s_dec))
            with full_precision(dev.type):
                canvas = canvas + self.write(h_dec.float())[0]
            if self.watch is not None:
                self._observe(h_read, h_dec, s_dec, canvas)
        with full_precision(dev.type):
            recon = self.reconstruction_nll(canvas, x)
            losses = {"recon": recon.mean(), "latent": kl.mean()}
            losses["nll"] = losses["recon"] + losses["latent"]
        return canvas, losses

    def box(self, where: nn.Module, h_dec: torch.Tensor, n: int) -> tuple[float, float, float, float]:
        """The first image's window placed by `where` from h_dec: (x, y, size, sigma) in pixels."""
        cfg = self.cfg
        win = fb.window_from_params(where(h_dec[:1].float()), cfg.height, cfg.width, n)
        return (float(win.gx[0]) - 0.5, float(win.gy[0]) - 0.5, float(win.delta[0]) * n, float(win.sigma2[0]) ** 0.5)

    @torch.no_grad()
    def _observe(self, h_read, h_dec, s_dec, canvas) -> None:
        att = self.cfg.attention
        read = self.box(self.read_where, h_read, self.cfg.read_n) if att else None
        write = self.box(self.write_where, h_dec, self.cfg.write_n) if att else None
        self.watch(read, write, self.mean_image(canvas[:1].float())[0].numpy().copy(),
                   h_dec[0].float().numpy().copy(), s_dec[0].float().numpy().copy())

    def reconstruction_nll(self, canvas: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B, P) canvas logits and pixels -> (B,) -log D(x | c_T) in nats."""
        if self.cfg.likelihood == "bernoulli":
            return bernoulli_nll(canvas, x)
        return logistic_nll(torch.sigmoid(canvas), self.log_scale, x)

    def mean_image(self, canvas: torch.Tensor) -> torch.Tensor:
        """(B, P) canvas logits -> (B, P) the likelihood's mean in [0, 1]: what is shown."""
        return torch.sigmoid(canvas)
