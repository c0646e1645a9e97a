"""DRAW's filterbank, likelihoods, KL and a tiny model learning (seqart.draw)."""

from __future__ import annotations

import math

import pytest
import torch

from seqart.draw import filterbank as fb
from seqart.draw.model import DRAW, DRAWConfig, bernoulli_nll, gaussian_kl, logistic_nll
from seqart.errors import SeqartError


def test_filterbank_shapes_and_rows_sum_to_one():
    torch.manual_seed(0)
    win = fb.window_from_params(torch.randn(3, 5), height=20, width=28, n=5)
    fx, fy = fb.filterbanks(win, 5, 20, 28)
    assert fx.shape == (3, 5, 28) and fy.shape == (3, 5, 20)
    assert torch.allclose(fx.sum(-1), torch.ones(3, 5), atol=1e-5)
    assert torch.allclose(fy.sum(-1), torch.ones(3, 5), atol=1e-5)
    assert (fx >= 0).all() and (fy >= 0).all()
    img = torch.rand(3, 20, 28)
    assert fb.read(img, fx, fy, win.gamma).shape == (3, 5, 5)
    assert fb.write(torch.rand(3, 5, 5), fx, fy, win.gamma).shape == (3, 20, 28)


def test_full_image_window_spans_the_image_with_filters_on_pixels():
    win = fb.full_window(2, 28, 28, n=10)
    assert torch.allclose(win.gx, torch.tensor([14.5, 14.5])) and torch.allclose(win.delta, torch.tensor([3.0, 3.0]))
    fx, _ = fb.filterbanks(win, 10, 28, 28)
    assert fx[0].argmax(-1).tolist() == list(range(0, 28, 3))  # 1-based pixels 1, 4, ..., 28


def test_full_image_read_is_the_downsampled_image():
    torch.manual_seed(1)
    img = torch.rand(2, 28, 28)
    win = fb.full_window(2, 28, 28, n=10, sigma2=1e-3)
    fx, fy = fb.filterbanks(win, 10, 28, 28)
    assert torch.allclose(fb.read(img, fx, fy, win.gamma), img[:, ::3, ::3], atol=1e-5)
    win = fb.full_window(2, 28, 28, n=28, sigma2=1e-3, gamma=2.0)  # one filter per pixel, gamma scales
    fx, fy = fb.filterbanks(win, 28, 28, 28)
    assert torch.allclose(fb.read(img, fx, fy, win.gamma), 2 * img, atol=1e-5)


def test_a_wide_filter_averages_and_write_inverts_read_intensity():
    img = torch.full((1, 12, 12), 0.25)
    win = fb.full_window(1, 12, 12, n=3, sigma2=4.0, gamma=0.5)
    fx, fy = fb.filterbanks(win, 3, 12, 12)
    assert torch.allclose(fb.read(img, fx, fy, win.gamma), torch.full((1, 3, 3), 0.125), atol=1e-6)
    # write spreads each patch value over the image; every filter's weights sum to 1, so ink is conserved
    out = fb.write(torch.ones(1, 3, 3), fx, fy, win.gamma)
    assert out.sum().item() == pytest.approx(9 / 0.5, rel=1e-5)


def test_kl_and_likelihoods_match_torch_distributions():
    torch.manual_seed(2)
    mu, log_sigma = torch.randn(4, 7), 0.3 * torch.randn(4, 7)
    D = torch.distributions
    ref = D.kl_divergence(D.Normal(mu, log_sigma.exp()), D.Normal(0.0, 1.0)).sum(-1)
    assert torch.allclose(gaussian_kl(mu, log_sigma), ref, atol=1e-5)

    logits, x = torch.randn(4, 30), (torch.rand(4, 30) > 0.5).float()
    assert torch.allclose(bernoulli_nll(logits, x), -D.Bernoulli(logits=logits).log_prob(x).sum(-1), atol=1e-5)

    mean, log_scale = torch.rand(4, 30), torch.full((30,), math.log(0.05))
    x = torch.randint(0, 256, (4, 30)).float() / 255
    x[0, :3] = torch.tensor([0.0, 1.0, 0.0])  # the edge levels take the tails
    m, s, xd = mean.double(), log_scale.double().exp(), x.double()  # the reference in float64
    logistic = D.TransformedDistribution(D.Uniform(torch.zeros_like(m), torch.ones_like(m)),
                                         [D.transforms.SigmoidTransform().inv, D.transforms.AffineTransform(m, s)])
    h = 0.5 / 255
    up = torch.where(xd >= 1 - h, torch.ones_like(xd), logistic.cdf((xd + h).clamp(max=1.0)))
    lo = torch.where(xd <= h, torch.zeros_like(xd), logistic.cdf((xd - h).clamp(min=0.0)))
    ref = -torch.log(up - lo).sum(-1)
    assert torch.allclose(logistic_nll(mean, log_scale, x).double(), ref, rtol=1e-4)


def test_discretised_logistic_sums_to_one_over_the_levels():
    levels = torch.arange(256).float()[:, None] / 255  # (256, 1): every level of one pixel
    nll = logistic_nll(torch.full((256, 1), 0.3), torch.tensor([math.log(0.07)]), levels)
    assert torch.exp(-nll).sum().item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("attention", [True, False])
def test_tiny_model_learns_and_its_loss_is_the_elbo(attention):
    torch.manual_seed(3)
    cfg = DRAWConfig(height=8, width=8, glimpses=4, enc_hidden=16, dec_hidden=16, z_dim=4,
                     attention=attention, read_n=2, write_n=3)
    model = DRAW(cfg)
    x = torch.zeros(16, 1, 64)
    x[:8, 0, :32] = 1.0  # two kinds of image: top half on, or blank
    canvas, first = model(x)
    assert canvas.shape == (16, 64)
    assert first["nll"].item() == pytest.approx(first["recon"].item() + first["latent"].item(), rel=1e-6)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        _, losses = model(x)
        opt.zero_grad()
        losses["nll"].backward()
        opt.step()
    assert losses["nll"].item() < 0.5 * first["nll"].item()
    # evaluation is repeatable (a fixed noise generator) and leaves the global RNG alone
    state = torch.get_rng_state()
    a, b = model(x, z_sample=False)[1]["nll"], model(x, z_sample=False)[1]["nll"]
    assert a.item() == b.item() and torch.equal(state, torch.get_rng_state())


def test_grey_model_scores_in_nats_per_image():
    torch.manual_seed(4)
    model = DRAW(DRAWConfig(height=6, width=6, glimpses=2, enc_hidden=8, dec_hidden=8, z_dim=2, likelihood="logistic"))
    _, losses = model(torch.randint(0, 256, (5, 36)).float() / 255)
    assert math.isfinite(losses["nll"].item()) and losses["recon"].item() > 0


def test_bad_settings_are_one_line_errors():
    with pytest.raises(SeqartError, match="model.likelihood"):
        DRAWConfig(likelihood="gauss")
    with pytest.raises(SeqartError, match="model.read_n = 0"):
        DRAWConfig(read_n=0)


def test_under_bf16_autocast_the_canvas_and_loss_stay_fp32():
    torch.manual_seed(5)
    model = DRAW(DRAWConfig(height=8, width=8, glimpses=3, enc_hidden=16, dec_hidden=16, z_dim=4, write_n=3))
    x = (torch.rand(6, 64) > 0.5).float()
    ref = model(x, z_sample=False)[1]["nll"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        canvas, losses = model(x, z_sample=False)
    assert canvas.dtype == torch.float32 and losses["nll"].dtype == torch.float32
    assert losses["nll"].item() == pytest.approx(ref.item(), rel=0.02)  # bf16 cells, fp32 canvas and loss
    losses["nll"].backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def _centred_ink(n: int = 4) -> torch.Tensor:
    """(n, 28, 28) images with ink only inside the middle 20 x 20 pixels, as MNIST digits have."""
    torch.manual_seed(6)
    img = torch.zeros(n, 28, 28)
    img[:, 4:24, 4:24] = (torch.rand(n, 20, 20) > 0.7).float()
    return img


def test_the_first_read_sees_the_digit_not_the_blank_corners():
    # The paper's neutral point (all five parameters 0) puts a 2 x 2 read on the four corner pixels
    # with sigma 1: on MNIST they are blank, the encoder reads nothing and its latents collapse.
    img = _centred_ink()
    corners = fb.window_from_params(torch.zeros(4, 5), 28, 28, 2)
    fx, fy = fb.filterbanks(corners, 2, 28, 28)
    assert fb.read(img, fx, fy, corners.gamma).abs().max() < 1e-3
    # DRAW's windows start tiling the image instead: each filter averages its quarter of it
    model = DRAW(DRAWConfig(read_n=2, write_n=5, dec_hidden=16, enc_hidden=16, z_dim=4))
    assert torch.allclose(model.read_where.bias, fb.tiling_params(28, 28, 2))
    win = fb.window_from_params(model.read_where.bias.expand(4, 5), 28, 28, 2)
    fx, fy = fb.filterbanks(win, 2, 28, 28)
    glimpse = fb.read(img, fx, fy, win.gamma)
    assert (glimpse > 0.1).all()
    assert torch.allclose(glimpse.sum((1, 2)), img.mean((1, 2)) * 4, rtol=0.35)  # ~ the mean ink per quarter
    # and the first write reaches every pixel (a 5 x 5 grid of filters half a cell wide), where the
    # neutral point's 25 narrow filters leave most pixels out of reach
    def reach(p):
        win = fb.window_from_params(p[None], 28, 28, 5)
        fx, fy = fb.filterbanks(win, 5, 28, 28)
        out = fb.write(torch.ones(1, 5, 5), fx, fy, win.gamma)
        return out / out.max()

    assert reach(model.write_where.bias).min() > 0.25
    assert (reach(torch.zeros(5)) < 0.05).float().mean() > 0.5


def test_the_canvas_starts_from_the_training_images_mean():
    model = DRAW(DRAWConfig(height=28, width=28, glimpses=2, enc_hidden=8, dec_hidden=8, z_dim=2))
    mean = _centred_ink().reshape(4, -1).mean(0)
    model.start_from_data(mean)
    assert torch.allclose(torch.sigmoid(model.canvas0), mean.clamp(1e-3, 1 - 1e-3), atol=1e-5)


def test_the_loss_is_the_elbo_of_torch_distributions_summed_per_image():
    """-ELBO = -log Bernoulli(x | sigmoid(c_T)) summed over pixels + KL(q || N(0, 1)) summed over
    steps and latent units, per image, then averaged over the batch."""
    torch.manual_seed(7)
    model = DRAW(DRAWConfig(height=8, width=8, glimpses=3, enc_hidden=16, dec_hidden=16, z_dim=4, write_n=3))
    x = (torch.rand(5, 64) > 0.6).float()
    seen = []
    model.to_latent.register_forward_hook(lambda mod, inp, out: seen.append(out.detach()))
    canvas, losses = model(x, z_sample=False)
    D = torch.distributions
    kl = sum(D.kl_divergence(D.Normal(mu, ls.exp()), D.Normal(0.0, 1.0)).sum(-1)
             for mu, ls in (o.chunk(2, -1) for o in seen))  # (B,) over T steps and z units
    recon = -D.Bernoulli(logits=canvas).log_prob(x).sum(-1)  # (B,) over pixels
    assert len(seen) == 3
    assert losses["latent"].item() == pytest.approx(kl.mean().item(), rel=1e-5)
    assert losses["recon"].item() == pytest.approx(recon.mean().item(), rel=1e-5)
    assert losses["nll"].item() == pytest.approx((kl + recon).mean().item(), rel=1e-5)
