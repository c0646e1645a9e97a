"""The text-conditioned model (Graves 2013 sec. 5): window, stopping rule, numpy sampler = torch, training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.handwriting.synthetic import write_set
from seqart.config import defaults
from seqart.errors import SeqartError
from seqart.model import MDNLSTM, ModelConfig
from seqart.sample import Sampler

ALPHA = "abcdefghijklmnopqrstuvwxyz ."


def _model(layers=2, hidden=12, k=3, seed=0):
    torch.manual_seed(seed)
    codec = HandwritingCodec({"alphabet": ALPHA})
    cfg = ModelConfig(layout=codec.layout.to_json(), hidden=hidden, layers=layers, mixtures=4, window_mixtures=k)
    return MDNLSTM(cfg).eval(), codec


def _frames(T, text, codec, seed=0):
    """A (T, 4) model-space line: random offsets, pen classes, the text column."""
    rng = np.random.default_rng(seed)
    x = np.zeros((T, 4), np.float32)
    x[:, :2] = rng.normal(0, 1, (T, 2))
    x[:, 2] = rng.integers(0, 2, T)
    x[-1] = (0, 0, 2, 0)
    x[: len(text), 3] = codec.encode_text(text)
    return x


def test_window_only_moves_forward():
    model, codec = _model()
    with torch.no_grad():
        model.decoder.window.weight.normal_(0, 2.0)  # large swings in k: still never backwards
        x = torch.from_numpy(np.stack([_frames(40, "hello there", codec, s) for s in (0, 1)]))
        inp = torch.cat([model.start_token(2), model.embed(x[:, :-1])], 1)
        _, kappa = model.decoder(inp, x[..., 3], return_kappa=True)
    assert kappa.shape == (2, 40, 3)
    assert (torch.diff(kappa, dim=1) > 0).all() and (kappa[:, 0] > 0).all()


def _fixed_window(model, step: float):
    """Window weights zero, biases fixed: a = b = 1 and kappa grows by `step` characters per point."""
    K = model.cfg.window_mixtures
    with torch.no_grad():
        model.decoder.window.weight.zero_()
        model.decoder.window.bias.zero_()
        model.decoder.window.bias[2 * K :] = math.log(step)
        model.head.weight[-3:] = 0.0  # the pen's logits: down or up, never "end", so only the window stops
        model.head.bias[-3:] = torch.tensor([0.0, 0.0, -40.0])


def test_stop_rule_ends_when_the_window_is_past_the_last_character():
    model, codec = _model()
    _fixed_window(model, 0.4)
    s = Sampler(model, codec, seed=0, max_frames=None)
    s.set_text("abc")  # U = 3: phi(U + 1) wins once kappa = 0.4 t > 3.5, i.e. from step t = 9
    frames = []
    while (f := s.step()) is not None and len(frames) < 100:
        frames.append(f)
    assert len(frames) == 8
    assert s.window.kappa[0] == pytest.approx(3.6) and s.window.finished


def test_stop_rule_scales_with_the_text():
    model, codec = _model()
    _fixed_window(model, 0.3)
    lengths = []
    for text in ("ab", "abcdef"):
        s = Sampler(model, codec, seed=1)
        s.set_text(text)
        n = 0
        while s.step() is not None and n < 200:
            n += 1
        lengths.append(n)
    assert lengths == [8, 21]  # the last step before 0.3 t > U + 0.5


def test_sampler_step_equals_torch_forward():
    model, codec = _model(layers=3, hidden=10, k=4, seed=3)
    text = "a quick note."
    x = torch.from_numpy(_frames(50, text, codec, seed=2))[None]
    mask = torch.ones(1, 50, dtype=torch.bool)
    with torch.no_grad():
        raw, _ = model(x, mask)  # (50, head_dim): the head's parameters for every frame, teacher forced
    s = Sampler(model, codec, seed=0)
    s.set_text(text)
    out = []
    for t in range(50):
        out.append(s.head_w @ s._advance() + s.head_b)
        s._input = s._embed(x[0, t].numpy())
    np.testing.assert_allclose(np.stack(out), raw.numpy(), atol=1e-5)


def test_sampler_needs_text_and_refuses_foreign_characters():
    model, codec = _model()
    s = Sampler(model, codec, seed=0)
    with pytest.raises(SeqartError, match="writes text: give it some"):
        s.step()
    with pytest.raises(SeqartError, match="'Z'.*not in the model's alphabet"):
        s.set_text("aZ")
    codec.configure_sampler(s, {"text": "a  cab\n"})  # seqart sample --set text=...: whitespace runs are one space
    assert s.text == "a cab" and s.step() is not None
    with pytest.raises(SeqartError, match="unknown handwriting generation option"):
        codec.configure_sampler(s, {"scale": "C:major"})


def test_window_needs_an_alphabet_and_no_vae():
    from seqart.codecs.strokes import LAYOUT

    with pytest.raises(SeqartError, match="needs data with text"):
        MDNLSTM(ModelConfig(layout=LAYOUT.to_json(), hidden=8, window_mixtures=2))
    codec = HandwritingCodec({"alphabet": ALPHA})
    with pytest.raises(SeqartError, match="not a VAE"):
        MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=8, window_mixtures=2, z_dim=4))


@pytest.mark.slow
def test_tiny_training_learns_resumes_and_keeps_the_alphabet(tmp_path):
    from seqart.modelio import load_model
    from seqart.train import train

    write_set(tmp_path / "data", 40, seed=0, heldout=0, phrases=["an", "no", "on", "in", "a"])
    cfg = defaults(HandwritingCodec().options)
    cfg["model"] |= {"hidden": 24, "layers": 2, "mixtures": 3, "window_mixtures": 2}
    cfg["train"] |= {"steps": 60, "batch_size": 8, "max_len": 0, "valid_every": 20, "lr": 5e-3, "augment": False}
    train(tmp_path / "data", tmp_path / "run", cfg, progress=False)
    log = [json.loads(line) for line in (tmp_path / "run/log.jsonl").read_text().splitlines()]
    assert log[-1]["valid"]["nll"] < log[0]["valid"]["nll"] - 0.3
    cfg["train"]["steps"] = 80
    result = train(tmp_path / "data", tmp_path / "run", cfg, progress=False)  # resumes
    assert result["step"] == 80
    model, codec, meta = load_model(tmp_path / "run")
    assert meta["model"]["layout"]["extra"]["alphabet"] == codec.alphabet == meta["codec"]["options"]["alphabet"]
    assert model.cfg.window_mixtures == 2
    s = Sampler(model, codec, seed=0, max_frames=300)
    s.set_text("no")
    clip = s.generate(300)
    assert clip.modality == "handwriting" and len(clip) > 3 and clip.is_finite()

    # fine-tune on an artist's own lines (SVG px, a .txt beside each): the offsets are rescaled to the model's
    for i in range(4):
        pts = " ".join(f"L {3 * j} {20 + 8 * ((i + j) % 3)}" for j in range(1, 40))
        (tmp_path / "mine").mkdir(exist_ok=True)
        (tmp_path / f"mine/l{i}.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
                                                 f'<path d="M 0 20 {pts}"/></svg>')
        (tmp_path / f"mine/l{i}.txt").write_text("no on\n")
    tune = defaults(HandwritingCodec().options)
    tune["train"] |= {"steps": 4, "batch_size": 2, "max_len": 0, "valid_every": 2, "init": str(tmp_path / "run")}
    train(tmp_path / "mine", tmp_path / "tuned", tune, progress=False)
    _, tuned, meta = load_model(tmp_path / "tuned")
    assert meta["model"]["window_mixtures"] == 2 and tuned.norm.scale[0] == codec.norm.scale[0]
    assert abs(tuned.options["rescale"] - 1.0) > 0.1  # px are not the synthetic set's tablet units


def test_a_text_model_ends_only_once_its_window_is_on_the_last_character():
    model, codec = _model()
    _fixed_window(model, 0.4)
    with torch.no_grad():
        model.head.bias[-1] = 40.0  # the end class is by far the most likely at every step
    s = Sampler(model, codec, seed=0)
    s.set_text("abc")  # kappa = 0.4 t weighs "c" most from t = 7 (kappa 2.8 > 2.5); the stop rule would wait to t = 9
    frames = []
    while (f := s.step()) is not None and len(frames) < 100:
        frames.append(f)
    assert len(frames) == 6 and s.window.on_last and not s.window.finished  # ended by the end token at t = 7
