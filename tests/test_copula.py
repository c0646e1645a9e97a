"""The Gaussian copula over a diagonal mixture (seqart.copula): its density, its fit, its draws."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from seqart.codecs import codec_for_path
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.mdn import mixture_log_prob, previous_noise
from seqart.modelio import load_model
from seqart.sample import Sampler
from seqart.train import evaluate, train
from test_poses_model import CODEC, MOCAP, TINY


def _correlation(d: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal((d, d))
    cov = a @ a.T + d * np.eye(d)
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def test_each_component_is_a_full_gaussian_with_the_copula_correlation():
    torch.manual_seed(0)
    M, D = 3, 5
    R = torch.from_numpy(_correlation(D, 1))
    L = torch.linalg.cholesky(R).float()
    p = {"logit": torch.randn(M), "mu": torch.randn(M, D), "log_sigma": 0.3 * torch.randn(M, D)}
    x = torch.randn(D)
    got = mixture_log_prob({k: v[None] for k, v in p.items()}, x[None], L)[0]
    comps = []
    for k in range(M):
        S = torch.diag(torch.exp(p["log_sigma"][k])).double()
        mvn = torch.distributions.MultivariateNormal(p["mu"][k].double(), covariance_matrix=S @ R @ S)
        comps.append(torch.log_softmax(p["logit"], -1)[k].double() + mvn.log_prob(x.double()))
    assert float(got) == pytest.approx(float(torch.logsumexp(torch.stack(comps), 0)), rel=1e-5)
    identity = mixture_log_prob({k: v[None] for k, v in p.items()}, x[None], torch.eye(D))[0]
    assert float(identity) == pytest.approx(float(mixture_log_prob({k: v[None] for k, v in p.items()}, x[None])[0]), rel=1e-6)


def test_a_lagged_copula_scores_a_sequence_as_one_gaussian_over_its_frames():
    torch.manual_seed(1)
    D, lag = 4, 0.6
    R = torch.from_numpy(_correlation(D, 3))
    L = torch.linalg.cholesky(R).float()
    p = {"logit": torch.zeros(2, 1), "mu": torch.randn(2, 1, D), "log_sigma": 0.3 * torch.randn(2, 1, D)}
    x = torch.randn(2, D)  # two consecutive frames, one component each
    prev = previous_noise(p, x, L, None)
    assert torch.equal(prev[0], torch.zeros(D))  # the first frame is a fresh draw
    got = mixture_log_prob(p, x, L, lag, prev).sum()
    # the AR(1) copula makes (z_1, z_2) one Gaussian with covariance [[R, lag R], [lag R, R]]
    S = torch.diag(torch.exp(p["log_sigma"][:, 0]).reshape(-1)).double()
    joint = S @ torch.kron(torch.tensor([[1.0, lag], [lag, 1.0]], dtype=torch.float64), R) @ S
    mvn = torch.distributions.MultivariateNormal(p["mu"][:, 0].reshape(-1).double(), covariance_matrix=joint)
    assert float(got) == pytest.approx(float(mvn.log_prob(x.reshape(-1).double())), rel=1e-5)


@pytest.mark.parametrize("lag", [0.0, 0.8])
def test_the_sampler_draws_noise_with_the_copula_correlation_and_lag(run, lag):
    model, codec, _ = load_model(run / "best")
    s = Sampler(model, codec, seed=0)
    D = len(model.layout.mixtures[0].channels)
    R = _correlation(D, 2)
    s.copula = [(np.linalg.cholesky(R), lag)]
    p = {"logit": np.array([0.0, -50.0]), "mu": np.zeros((2, D)), "log_sigma": np.log(np.full((2, D), 2.0))}
    draws = np.stack([s._sample_mixture(p, False, 1.0, 0) for _ in range(20000)])
    tol = 0.05 if lag == 0 else 0.1  # carried-over noise: fewer independent draws in 20,000
    assert np.abs(np.corrcoef(draws.T) - R).max() < tol and np.allclose(draws.std(0), 2.0, rtol=0.06)
    a = draws - draws.mean(0)
    assert np.median((a[1:] * a[:-1]).sum(0) / (a * a).sum(0)) == pytest.approx(lag, abs=0.03)
    s.reset()
    assert s.noise == [None]  # a new sequence starts with fresh noise


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("copula") / "run"
    cfg = merge(defaults(codec_for_path(MOCAP).options), None, CODEC + TINY + ["model.copula=true"])
    train(MOCAP, out, cfg, progress=False)
    return out


def test_training_fits_a_correlation_that_scores_its_poses_better(run):
    model, codec, meta = load_model(run / "best")
    L = model.copula_0.double()
    R = L @ L.T
    assert torch.allclose(torch.diagonal(R), torch.ones(len(R), dtype=R.dtype), atol=1e-4)
    off = R - torch.diag(torch.diagonal(R))
    assert float(off.abs().max()) > 0.25  # channels that move together (shrunk toward 0 on this little data)
    assert 0.2 < float(model.copula_0_lag) <= 0.95  # and keep moving from one frame to the next
    from seqart.data import read_split

    split = read_split(codec, MOCAP).clips
    # fitted on the training clips, it must score them better than independent channels do (on the
    # shipped salsa it also scores held-out dancing better: 10 against 115 nats a frame, see its card)
    with_copula = evaluate(model, codec, split["train"], 4, 30)["nll"]
    valid = evaluate(model, codec, split["valid"], 4, 30)["nll"]
    model.copula_0.copy_(torch.eye(len(L)))
    model.copula_0_lag.fill_(0.0)
    without = evaluate(model, codec, split["train"], 4, 30)["nll"]
    assert with_copula < without - 1.0
    assert meta["metrics"]["valid"]["nll"] == pytest.approx(valid, rel=1e-4)  # training reported it with the copula


@pytest.mark.parametrize("damage", ["nan", "upper", "negative", "scaled", "lag 1.5", "lag nan"])
def test_a_damaged_copula_factor_is_refused_in_one_line(run, tmp_path, damage):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(run / "best", folder)
    w = load_file(str(folder / "model.safetensors"))
    L = w["copula_0"]
    if damage == "nan":
        L[3, 1] = float("nan")
    elif damage == "upper":
        L[0, 4] = 0.5
    elif damage == "negative":
        L[2] = -L[2]
    elif damage == "scaled":
        L *= 2.0
    else:
        w["copula_0_lag"] = torch.tensor(float(damage.split()[1]))
    save_file(w, str(folder / "model.safetensors"))
    with pytest.raises(SeqartError, match="copula_0_lag: .* not in" if "lag" in damage else "copula_0: not the Cholesky factor"):
        load_model(folder)


def test_a_model_json_that_claims_a_copula_its_weights_lack_is_refused(run, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(run / "best", folder)
    w = load_file(str(folder / "model.safetensors"))
    del w["copula_0"], w["copula_0_lag"]
    save_file(w, str(folder / "model.safetensors"))
    with pytest.raises(SeqartError, match="does not match its config"):
        load_model(folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["model"]["copula"] = False  # without the claim the same weights load as a diagonal model
    (folder / "model.json").write_text(json.dumps(meta))
    assert load_model(folder)[0].copula_factors() == {}
