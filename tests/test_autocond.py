"""Auto-conditioning: what the decoder is fed, for any layout, and training with it."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from seqart.autocond import AutoCond, feedback_frame
from seqart.codecs import codec_for_path
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.layout import Categorical, Layout, Mixture
from seqart.model import MDNLSTM, ModelConfig
from seqart.train import train

MOCAP = Path(__file__).resolve().parents[1] / "datasets" / "mocap"

STROKES = Layout(("dx", "dy", "pen"), (Mixture(("dx", "dy"), "bivariate"),), (Categorical("pen", 3),), ("pen", 2))
POSES = Layout(tuple(f"c{i}" for i in range(6)) + ("foot",), (Mixture(tuple(f"c{i}" for i in range(6))),),
               (Categorical("foot", 2),))


class Recorder(nn.Module):
    """A decoder that notes every input it is given, then runs the real one."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, x, state=None):
        self.seen.append(x.detach().clone())
        return self.inner(x, state)


def _model(layout: Layout, seed: int = 0) -> MDNLSTM:
    torch.manual_seed(seed)
    return MDNLSTM(ModelConfig(layout=layout.to_json(), hidden=16, mixtures=3)).train()


def _frames(layout: Layout, B: int = 3, T: int = 23) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    cont = torch.randn(B, T, len(layout.continuous), generator=g)
    cats = [torch.randint(0, c.classes, (B, T, 1), generator=g).float() for c in layout.categoricals]
    return torch.cat([cont] + cats, -1), torch.ones(B, T, dtype=torch.bool)


@pytest.mark.parametrize("layout", [STROKES, POSES], ids=["strokes", "poses"])
def test_zero_own_frames_is_exactly_teacher_forcing(layout):
    model = _model(layout)
    x, mask = _frames(layout)
    raw, losses = model(x, mask)
    model.autocond = AutoCond(gt=5, own=0)
    raw0, losses0 = model(x, mask)
    assert torch.equal(raw, raw0) and all(torch.equal(losses[k], losses0[k]) for k in losses)


@pytest.mark.parametrize("layout", [STROKES, POSES], ids=["strokes", "poses"])
def test_own_spans_feed_the_frames_the_model_generated(layout):
    model = _model(layout)
    x, mask = _frames(layout)
    teacher = torch.cat([model.start_token(len(x)), model.embed(x[:, :-1])], 1)
    _, forced = model(x, mask)
    model.decoder = Recorder(model.decoder)
    model.autocond = AutoCond(gt=4, own=3, feed="mean")
    torch.manual_seed(7)
    phase = int(torch.randint(0, 7, (1,)))
    torch.manual_seed(7)
    _, losses = model(x, mask)
    fed = torch.cat(model.decoder.seen, 1)  # (B, T, in): what the decoder actually read
    own = model.autocond.own_positions(x.shape[1], 3, phase)
    assert sum(own) >= 6 and not own[0]
    with torch.no_grad():
        out, _ = model.decoder.inner(fed)  # the same inputs at once give the same outputs
        for t in range(x.shape[1]):
            if own[t]:  # the model's own frame, generated from its previous output
                expect = model.embed(feedback_frame(model, out[:, t - 1], "mean").unsqueeze(1))[:, 0]
                assert torch.allclose(fed[:, t], expect, atol=1e-6)
                assert not torch.allclose(fed[:, t], teacher[:, t])
            else:
                assert torch.equal(fed[:, t], teacher[:, t])
    assert not torch.isclose(losses["nll"], forced["nll"])


def test_own_span_grows_over_the_ramp():
    ac = AutoCond(gt=5, own=5, ramp=100)
    spans = []
    for step in (0, 19, 49, 99, 500):
        ac.step = step
        spans.append(ac.own_now())
    assert spans == [1, 1, 2, 5, 5]
    with pytest.raises(ValueError):
        AutoCond(gt=0, own=5)


def test_sampled_feedback_is_a_valid_frame_of_the_layout():
    model = _model(STROKES)
    torch.manual_seed(0)
    h = torch.randn(500, 16)
    frames = feedback_frame(model, h, "sample")
    assert frames.shape == (500, 3) and torch.isfinite(frames).all()
    assert set(frames[:, 2].tolist()) <= {0.0, 1.0, 2.0} and len(set(frames[:, 2].tolist())) > 1
    means = feedback_frame(model, h, "mean")
    assert not torch.equal(frames[:, :2], means[:, :2])  # a draw, not the mean


def test_training_with_auto_conditioning_and_a_bad_feed(tmp_path):
    codec = ["codec.fps=25.0", "codec.source_fps=60.0", "codec.trim_start=1", "codec.chunk_seconds=2.0",
             'codec.valid=["salsa_27_excerpt"]']
    tiny = ["model.hidden=24", "model.mixtures=2", "train.steps=4", "train.batch_size=4", "train.max_len=30",
            "train.valid_every=2", "train.autocond_own=3", "train.autocond_gt=3", "train.autocond_ramp=2"]
    cfg = merge(defaults(codec_for_path(MOCAP).options), None, codec + tiny)
    result = train(MOCAP, tmp_path / "run", cfg, progress=False)
    assert result["step"] == 4 and np.isfinite(result["best_valid_nll"]) and np.isfinite(result["train"]["nll"])
    with pytest.raises(SeqartError, match="autocond_feed"):
        merge(defaults(codec_for_path(MOCAP).options), None, codec + tiny + ['train.autocond_feed="best"'])
