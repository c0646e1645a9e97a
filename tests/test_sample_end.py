"""How sequences end: the end token at the model's own odds whatever the temperature, and a length limit."""

import numpy as np
import pytest
import torch

from seqart.codecs.strokes import StrokesCodec
from seqart.model import MDNLSTM, ModelConfig
from seqart.sample import Sampler, frame_limit


def pen_model(p_pen: tuple[float, float, float]) -> tuple[MDNLSTM, StrokesCodec]:
    """A tiny strokes model whose every step has pen probabilities p_pen (down, up, end)."""
    codec = StrokesCodec()
    model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=8, mixtures=2))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[-3:] = torch.log(torch.tensor(p_pen))  # the pen block is the head's last 3 outputs
    return model.eval(), codec


def lengths(model, codec, temperature: float, runs: int = 40, limit: int = 400, greedy: bool = False) -> list[int]:
    out = []
    for seed in range(runs):
        s = Sampler(model, codec, temperature=temperature, seed=seed, greedy=greedy, max_frames=limit)
        out.append(len(s.generate(limit)) - 1)  # less the end frame
    return out


@pytest.mark.parametrize("temperature", [0.1, 0.2, 0.5, 1.0])
def test_a_model_that_ends_ends_at_its_own_odds_at_any_temperature(temperature):
    """p_end = 0.2 a step: about 5 steps a drawing (a geometric law), at tau = 0.1 as at tau = 1."""
    model, codec = pen_model((0.7, 0.1, 0.2))
    got = lengths(model, codec, temperature)
    assert max(got) < 400  # every one ended on its own
    assert 2.5 < np.mean(got) < 8.0


def test_the_pen_is_drawn_at_the_models_odds_and_offsets_are_tempered():
    """Pen up (0.1 a step) as often at tau = 0.1 as the model says; offsets shrink towards the mean."""
    model, codec = pen_model((0.7, 0.1, 0.2))
    cold = [Sampler(model, codec, temperature=0.1, seed=s).generate(50).frames[:-1] for s in range(60)]
    warm = [Sampler(model, codec, temperature=1.0, seed=s).generate(50).frames[:-1] for s in range(60)]
    pens = np.concatenate([c[:, -1] for c in cold])
    assert 0.05 < (pens == 1).mean() < 0.2  # 0.1 / (0.7 + 0.1) = 0.125 of the frames that did not end
    spread = [np.concatenate([c[:, :2] for c in clips]).std() for clips in (cold, warm)]
    assert spread[0] < 0.5 * spread[1]


def test_greedy_ends_where_ending_is_more_likely_than_not():
    rarely, mostly = pen_model((0.7, 0.1, 0.2)), pen_model((0.3, 0.1, 0.6))
    assert lengths(*rarely, 0.0, runs=2, limit=30, greedy=True) == [30, 30]  # stopped by the limit
    assert lengths(*mostly, 0.0, runs=2, greedy=True) == [0, 0]


def test_the_limit_ends_a_sequence_for_export_and_for_stepping():
    model, codec = pen_model((0.9, 0.1, 1e-9))  # never ends by itself
    s = Sampler(model, codec, temperature=0.5, seed=0, max_frames=25)
    assert len(s.generate(1000)) == 26  # 25 frames and the end frame
    s.reset()
    steps = [s.step() for _ in range(30)]
    assert all(f is not None for f in steps[:25]) and steps[25:] == [None] * 5


def test_default_limit_is_the_training_window_for_models_that_end():
    model, _ = pen_model((0.7, 0.1, 0.2))
    assert frame_limit({"train": {"max_len": 250}}, model) == 250
    assert frame_limit({"train": {"max_len": 0}}, model) == 1000


def test_models_that_stream_have_no_default_limit():
    from seqart.codecs.notes import NotesCodec

    model = MDNLSTM(ModelConfig(layout=NotesCodec().layout.to_json(), hidden=8, mixtures=2))
    assert frame_limit({"train": {"max_len": 200}}, model) is None
