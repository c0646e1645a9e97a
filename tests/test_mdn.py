"""The mixture-density head: exact log-likelihoods, stability at extremes, no NaN in long runs."""

import math

import numpy as np
import torch

from seqart.layout import Categorical, Layout, Mixture
from seqart.mdn import LOG_SIGMA_MAX, LOG_SIGMA_MIN, bound_log_sigma, head_nll, mixture_log_prob, split_params
from seqart.model import MDNLSTM, ModelConfig

BIV = Layout(("dx", "dy", "pen"), (Mixture(("dx", "dy"), "bivariate"),), (Categorical("pen", 3),), end=("pen", 2))
DIAG = Layout(("a", "b", "c"), (Mixture(("a", "b", "c"), "diagonal"),))


def test_bivariate_single_component_matches_torch_distribution():
    torch.manual_seed(0)
    mu, ls, rho = torch.randn(2), torch.randn(2) * 0.3, torch.tensor(0.6)
    p = {"logit": torch.zeros(1), "mu": mu[None], "log_sigma": ls[None], "rho": rho[None]}
    s = ls.exp()
    cov = torch.tensor([[s[0] ** 2, rho * s[0] * s[1]], [rho * s[0] * s[1], s[1] ** 2]])
    ref = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    x = torch.randn(5, 2)
    got = mixture_log_prob({k: v.expand(5, *v.shape) for k, v in p.items()}, x)
    assert torch.allclose(got, ref.log_prob(x), atol=1e-5)


def test_diagonal_mixture_matches_naive_sum():
    torch.manual_seed(1)
    m, d = 4, 3
    p = {"logit": torch.randn(m), "mu": torch.randn(m, d), "log_sigma": torch.randn(m, d) * 0.2}
    x = torch.randn(d)
    w = torch.softmax(p["logit"], 0)
    dens = torch.distributions.Normal(p["mu"], p["log_sigma"].exp()).log_prob(x).sum(-1).exp()
    assert math.isclose(float(mixture_log_prob(p, x)), float(torch.log((w * dens).sum())), rel_tol=1e-5)


def test_log_sigma_is_bounded_and_smooth():
    raw = torch.linspace(-1e4, 1e4, 2001, requires_grad=True)
    out = bound_log_sigma(raw)
    assert float(out.min()) >= LOG_SIGMA_MIN - 1e-6 and float(out.max()) <= LOG_SIGMA_MAX + 1e-4
    out.sum().backward()
    assert torch.isfinite(raw.grad).all()
    assert abs(float(bound_log_sigma(torch.tensor(0.0)))) < 0.05  # about the identity near zero


def test_extreme_outputs_give_finite_loss_and_gradients():
    m = 5
    for scale in (1e-3, 1.0, 1e3, 1e5):
        raw = (torch.randn(2, 7, BIV.head_dim(m)) * scale).requires_grad_()
        x = torch.randn(2, 7, 3) * scale
        x[..., 2] = torch.randint(0, 3, (2, 7)).float()
        nll = sum(v.mean() for v in head_nll(raw, x, BIV, m).values())
        nll.backward()
        assert torch.isfinite(nll) and torch.isfinite(raw.grad).all(), scale


def test_split_params_same_on_numpy_and_torch():
    raw = torch.randn(DIAG.head_dim(3))
    (pt,), _ = split_params(raw, DIAG, 3)
    (pn,), _ = split_params(raw.numpy().astype(np.float64), DIAG, 3)
    for k in pt:
        assert np.allclose(pt[k].numpy(), pn[k], atol=1e-6), k


def test_no_nan_in_a_long_run_with_outliers():
    torch.manual_seed(2)
    model = MDNLSTM(ModelConfig(layout=BIV.to_json(), hidden=32, mixtures=5))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(300):
        x = torch.randn(8, 30, 3) * 0.5
        x[:, ::7, :2] *= 40  # heavy-tailed jumps, as between strokes
        x[..., 2] = (torch.rand(8, 30) < 0.1).float()
        mask = torch.ones(8, 30, dtype=torch.bool)
        _, losses = model(x, mask)
        opt.zero_grad()
        losses["nll"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        assert torch.isfinite(losses["nll"]), step


def test_masked_frames_do_not_change_the_loss():
    torch.manual_seed(3)
    model = MDNLSTM(ModelConfig(layout=BIV.to_json(), hidden=16, mixtures=3)).eval()
    x = torch.randn(1, 10, 3)
    x[..., 2] = 0
    mask = torch.ones(1, 10, dtype=torch.bool)
    mask[0, 6:] = False
    _, a = model(x, mask)
    x2 = x.clone()
    x2[0, 6:] = 99.0
    _, b = model(x2, mask)
    assert torch.allclose(a["nll"], b["nll"])
