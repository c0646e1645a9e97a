"""The shared sampler: seeds, temperature, bias, greedy, priming, stopping, and latents."""

import numpy as np
import pytest
import torch

from seqart.codecs.strokes import StrokesCodec, stroke3_to_clip
from seqart.model import MDNLSTM, ModelConfig
from seqart.sample import Sampler, encode, slerp


@pytest.fixture(scope="module")
def model_codec():
    torch.manual_seed(0)
    codec = StrokesCodec()
    model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=24, mixtures=3, z_dim=4, enc_hidden=8)).eval()
    with torch.no_grad():  # make the end token unlikely so sequences run long
        model.head.bias[-1] = -8.0
    return model, codec


def test_step_matches_the_training_forward(model_codec):
    """The numpy cell must compute exactly what the torch LSTM computes."""
    model, codec = model_codec
    s = Sampler(model, codec, greedy=True, z=np.zeros(4, np.float32))
    clip = s.generate(12)
    x = torch.from_numpy(codec.to_model(clip))[None]
    z = torch.zeros(1, 4)
    inp = torch.cat([model.start_token(1), model.embed(x[:, :-1])], 1)
    inp = torch.cat([inp, z.unsqueeze(1).expand(1, x.shape[1], 4)], -1)
    out, _ = model.decoder(inp, model.initial_state(z, 1))
    raw = model.head(out)[0].detach().numpy()
    s.reset()
    for t in range(len(clip) - 1):
        h = s._advance()
        assert np.allclose(s.head_w @ h + s.head_b, raw[t], atol=1e-4)
        s._input = s._embed(codec.to_model(clip)[t])


def test_same_seed_same_sequence_and_different_seed_differs(model_codec):
    model, codec = model_codec
    a = Sampler(model, codec, seed=5).generate(40)
    b = Sampler(model, codec, seed=5).generate(40)
    c = Sampler(model, codec, seed=6).generate(40)
    assert np.array_equal(a.frames, b.frames) and not np.array_equal(a.frames, c.frames)


def test_low_temperature_shrinks_the_spread(model_codec):
    model, codec = model_codec
    z = np.zeros(4, np.float32)
    spread = {}
    for t in (0.05, 1.0):
        clips = [Sampler(model, codec, temperature=t, seed=i, z=z).generate(30) for i in range(6)]
        first = np.array([c.frames[0, :2] for c in clips])
        spread[t] = first.std(0).sum()
    assert spread[0.05] < spread[1.0] / 3


def test_greedy_and_zero_temperature_are_deterministic(model_codec):
    model, codec = model_codec
    z = np.zeros(4, np.float32)
    g = [Sampler(model, codec, greedy=True, seed=i, z=z).generate(20).frames for i in range(3)]
    t0 = Sampler(model, codec, temperature=0.0, seed=9, z=z).generate(20).frames
    assert all(np.array_equal(g[0], x) for x in g[1:]) and np.array_equal(g[0], t0)


def test_stops_at_max_length_and_ends_with_the_end_frame(model_codec):
    model, codec = model_codec
    clip = Sampler(model, codec, seed=1).generate(17)
    assert len(clip) <= 18 and clip.frames[-1, 2] == 2 and (clip.frames[:-1, 2] != 2).all()


def test_stops_at_the_end_token(model_codec):
    model, codec = model_codec
    with torch.no_grad():
        saved = model.head.bias[-1].item()
        model.head.bias[-1] = 30.0  # the end class always wins
        s = Sampler(model, codec, seed=1)
        model.head.bias[-1] = saved
    assert s.step() is None and s.done and len(s.generate(50)) == 1


def test_priming_changes_the_continuation(model_codec):
    model, codec = model_codec
    z = np.zeros(4, np.float32)
    prime = stroke3_to_clip(np.array([[10, 0, 0], [10, 0, 0], [0, 10, 1], [-5, -5, 0]]))
    plain = Sampler(model, codec, greedy=True, z=z).generate(10)
    primed = Sampler(model, codec, greedy=True, z=z).generate(10, prime=prime)
    assert not np.allclose(plain.frames[:5], primed.frames[:5])


def test_bias_sharpens_like_low_temperature(model_codec):
    model, codec = model_codec
    z = np.zeros(4, np.float32)
    firsts = lambda b: np.array([Sampler(model, codec, bias=b, seed=i, z=z).generate(3).frames[0, :2] for i in range(8)])
    assert firsts(3.0).std(0).sum() < firsts(0.0).std(0).sum()


def test_latent_encode_and_slerp(model_codec):
    model, codec = model_codec
    clip = stroke3_to_clip(np.array([[3, 4, 0], [1, 1, 1], [2, 0, 0]]))
    z = encode(model, codec, clip)
    assert z.shape == (4,) and np.isfinite(z).all()
    a, b = np.array([1.0, 0, 0, 0]), np.array([0, 1.0, 0, 0])
    mid = slerp(a, b, 0.5)
    assert np.isclose(np.linalg.norm(mid), 1.0) and np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)


@pytest.mark.parametrize("cell", ["lstm", "layernorm"])
@pytest.mark.parametrize("layers", [1, 2])
def test_numpy_cells_match_the_torch_decoder_state_by_state(cell, layers):
    """Every layer's h and c after every step, numpy sampler against the torch module (training's code)."""
    torch.manual_seed(1)
    codec = StrokesCodec()
    cfg = ModelConfig(layout=codec.layout.to_json(), hidden=20, mixtures=3, layers=layers, cell=cell,
                      recurrent_dropout=0.3, dropout=0.2, z_dim=3, enc_hidden=6)
    model = MDNLSTM(cfg).eval()
    with torch.no_grad():  # trained-looking layer norms, not the initial ones and zeros
        for name, p in model.decoder.named_parameters():
            if "gain" in name or "bias" in name:
                p.add_(0.3 * torch.randn_like(p))
    z = np.random.default_rng(0).standard_normal(3).astype(np.float32)
    s = Sampler(model, codec, seed=2, z=z)
    frames = codec.to_model(s.generate(15))[:-1]
    s.reset()
    inp = torch.cat([model.start_token(1), model.embed(torch.from_numpy(frames)[None])], 1)
    inp = torch.cat([inp, torch.from_numpy(z)[None, None].expand(1, inp.shape[1], 3)], -1)
    state = model.initial_state(torch.from_numpy(z)[None], 1)
    with torch.no_grad():
        for t in range(inp.shape[1]):
            _, state = model.decoder(inp[:, t : t + 1], state)  # one step at a time, the state handed on
            s._advance()
            for k in range(layers):
                assert np.allclose(s.h[k], state[0][k, 0].numpy(), atol=1e-5)
                assert np.allclose(s.c[k], state[1][k, 0].numpy(), atol=1e-5)
            if t < len(frames):
                s._input = s._embed(frames[t])
