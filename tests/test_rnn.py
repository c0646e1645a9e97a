"""The decoder's recurrent layers (seqart.rnn): shapes, state passing, gradients, dropout, old checkpoints."""

import json

import numpy as np
import pytest
import torch

from seqart import checkpoint
from seqart.codecs.strokes import StrokesCodec
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.model import MDNLSTM, ModelConfig
from seqart.modelio import load_model
from seqart.rnn import LayerNormLSTM, RecurrentDropoutLSTM, _Recurrence, make_decoder
from seqart.train import train

from tests.samples import SHEEP

CELLS = [("lstm", 0.0), ("layernorm", 0.0), ("lstm", 0.3), ("layernorm", 0.3)]


def decoder(cell: str, layers: int, rec: float = 0.0, inp: int = 5, hidden: int = 8, dropout: float = 0.0, seed: int = 0):
    torch.manual_seed(seed)
    return make_decoder(ModelConfig(cell=cell, layers=layers, hidden=hidden, recurrent_dropout=rec, dropout=dropout), inp)


@pytest.mark.parametrize("cell,rec", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_shapes_are_those_of_nn_lstm(cell, rec, layers):
    net = decoder(cell, layers, rec).train()
    out, (h, c) = net(torch.randn(3, 7, 5), None)
    assert out.shape == (3, 7, 8) and h.shape == c.shape == (layers, 3, 8)
    assert torch.equal(out[:, -1], h[-1])  # the top layer's last output is its final h


@pytest.mark.parametrize("cell,rec", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_spans_with_state_equal_one_long_call_values_and_gradients(cell, rec, layers):
    """An auto-conditioning loop calls the decoder span by span: that must be exact, gradients included."""
    net = decoder(cell, layers, rec).eval()  # eval: recurrent dropout off, so both runs see the same masks
    x = torch.randn(4, 12, 5)
    state0 = tuple(torch.randn(layers, 4, 8, requires_grad=True) for _ in range(2))
    whole, (h, c) = net(x, state0)
    (whole.sum() + h.sum() + c.square().sum()).backward()
    grads = [p.grad.clone() for p in net.parameters()] + [s.grad.clone() for s in state0]
    net.zero_grad()
    for s in state0:
        s.grad = None
    a, mid = net(x[:, :5], state0)
    b, (h2, c2) = net(x[:, 5:], mid)
    (torch.cat([a, b], 1).sum() + h2.sum() + c2.square().sum()).backward()
    assert torch.allclose(torch.cat([a, b], 1), whole, atol=1e-6) and torch.allclose(c2, c, atol=1e-6)
    for g, p in zip(grads, list(net.parameters()) + list(state0)):
        assert torch.allclose(p.grad, g, atol=1e-5)


def test_plain_cell_is_nn_lstm_and_its_loop_matches_the_fused_kernel():
    """The default is the fused nn.LSTM itself; the looped recurrence (used for recurrent dropout) computes the same."""
    plain = decoder("lstm", 2)
    assert type(plain) is torch.nn.LSTM
    looped = decoder("lstm", 2, rec=0.5)
    looped.load_state_dict(plain.state_dict())
    looped.recurrent_dropout = 1e-12  # the loop, with masks that keep every unit (x 1.0)
    x = torch.randn(3, 9, 5)
    ref, (h, c) = plain(x)
    out, (h2, c2) = looped.train()(x)
    ref.sum().backward()
    out.sum().backward()
    assert torch.allclose(out, ref, atol=1e-6) and torch.allclose(c2, c, atol=1e-6)
    for p, q in zip(plain.parameters(), looped.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5)


@pytest.mark.parametrize("layer_norm", [True, False])
@pytest.mark.parametrize("with_mask", [False, True])
def test_hand_written_backward_passes_gradcheck(layer_norm, with_mask):
    g = torch.Generator().manual_seed(1)
    T, B, H = 4, 3, 5

    def rand(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()

    ln = [rand(4 * H), rand(4 * H), rand(H), rand(H)] if layer_norm else [None] * 4
    mask = (torch.rand(T, B, H, generator=g, dtype=torch.float64) > 0.3) / 0.7 if with_mask else None
    args = (rand(T, B, 4 * H), rand(B, H), rand(B, H), (0.5 * rand(4 * H, H)).detach().requires_grad_(), *ln)
    assert torch.autograd.gradcheck(lambda *a: _Recurrence.apply(*a, mask.double() if with_mask else None, None, True), args)


def test_layer_norm_lstm_module_passes_gradcheck_with_two_layers_and_state():
    net = LayerNormLSTM(3, 4, num_layers=2).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(2, 2, 4, dtype=torch.float64, requires_grad=True) for _ in range(2))
    assert torch.autograd.gradcheck(lambda x, h, c, *p: net(x, (h, c))[0], (x, *state, *net.parameters()))


@pytest.mark.parametrize("cell", ["lstm", "layernorm"])
def test_recurrent_dropout_acts_in_training_only(cell):
    net = decoder(cell, 1, rec=0.4)
    x = torch.randn(4, 10, 5)
    net.train()
    a, b = net(x)[0], net(x)[0]
    assert not torch.allclose(a, b)  # a fresh mask each call
    net.eval()
    e1, e2 = net(x)[0], net(x)[0]
    assert torch.equal(e1, e2) and not torch.allclose(a, e1)
    free = decoder(cell, 1, rec=0.0)
    free.load_state_dict(net.state_dict())
    assert torch.allclose(free.eval()(x)[0], e1, atol=1e-6)  # at evaluation the dropout is simply absent


def test_recurrent_dropout_scales_so_the_cell_keeps_its_mean():
    """Inverted dropout: masked candidates are scaled by 1 / (1 - p), so E[c] in training equals c in eval."""
    torch.manual_seed(0)
    net = decoder("layernorm", 1, rec=0.5, hidden=16)
    x = torch.randn(1, 1, 5).expand(4000, 1, 5)  # one step, many masks; c_1 = i * g_masked
    with torch.no_grad():
        c_train = net.train()(x)[1][1].mean(1)
        c_eval = net.eval()(x[:1])[1][1]
    assert torch.allclose(c_train, c_eval[0], atol=0.02)


def test_between_layer_dropout_only_with_several_layers():
    assert decoder("lstm", 1, dropout=0.3).dropout == 0.0 and decoder("lstm", 2, dropout=0.3).dropout == 0.3
    assert decoder("layernorm", 1, dropout=0.3).dropout == 0.0 and decoder("layernorm", 2, dropout=0.3).dropout == 0.3


def test_bf16_autocast_keeps_norms_in_fp32_and_stays_close():
    net = decoder("layernorm", 2, hidden=16)
    x = torch.randn(3, 6, 5)
    ref = net(x)[0]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, (h, c) = net(x)
    out.sum().backward()
    assert out.dtype == c.dtype == torch.float32
    assert (out - ref).abs().max() < 0.05
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_old_checkpoint_without_the_new_fields_loads_as_the_plain_lstm(tmp_path):
    codec = StrokesCodec()
    torch.manual_seed(0)
    model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=16, mixtures=3))
    meta = {"model": model.cfg.to_json(), "codec": codec.config()}
    for key in ("cell", "recurrent_dropout"):  # what a checkpoint written before these settings holds
        del meta["model"][key]
    checkpoint.save(tmp_path / "old", {"model": model.state_dict()}, {"model": meta})
    assert "cell" not in json.loads((tmp_path / "old" / "model.json").read_text())["model"]
    loaded, _, _ = load_model(tmp_path / "old")
    assert type(loaded.decoder) is torch.nn.LSTM and loaded.cfg.cell == "lstm"
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


def test_shipped_models_keep_the_fused_lstm():
    for name in ("sheep", "nottingham"):
        model, _, meta = load_model(name)
        assert type(model.decoder) is torch.nn.LSTM and meta["model"].get("cell", "lstm") == "lstm"


def test_bad_cell_or_recurrent_dropout_is_a_one_line_error():
    base = defaults(StrokesCodec().options)
    with pytest.raises(SeqartError, match="model.cell = 'gru' is not one of lstm, layernorm"):
        merge(base, None, ["model.cell=gru"])
    with pytest.raises(SeqartError, match="model.recurrent_dropout = 1.0 is out of range"):
        merge(defaults(StrokesCodec().options), None, ["model.recurrent_dropout=1.0"])
    with pytest.raises(SeqartError, match="must be str"):
        merge(defaults(StrokesCodec().options), None, ["model.cell=3"])


def test_layer_norm_training_on_real_sheep_lowers_the_loss(tmp_path):
    sets = ["model.hidden=32", "model.mixtures=4", "model.cell=layernorm", "model.recurrent_dropout=0.1",
            "model.layers=2", "train.batch_size=16", "train.max_len=100", "train.threads=1",
            "train.steps=40", "train.valid_every=20", "train.lr=3e-3"]
    train(SHEEP, tmp_path, merge(defaults(StrokesCodec().options), None, sets), progress=False)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    model, codec, meta = load_model(tmp_path)
    assert isinstance(model.decoder, LayerNormLSTM) and model.decoder.num_layers == 2
    from seqart.splits import split_clips
    from seqart.train import evaluate

    torch.manual_seed(0)
    fresh = MDNLSTM(ModelConfig(**meta["model"]))
    untrained = evaluate(fresh, codec, split_clips(codec.read(SHEEP))["valid"], 16, 100)["nll"]
    assert np.isfinite(log[-1]["valid"]["nll"]) and log[-1]["valid"]["nll"] < untrained - 0.5


def test_recurrent_dropout_lstm_keeps_nn_lstm_parameters():
    net = decoder("lstm", 2, rec=0.2)
    assert isinstance(net, RecurrentDropoutLSTM) and isinstance(net, torch.nn.LSTM)
    assert set(net.state_dict()) == set(torch.nn.LSTM(5, 8, 2).state_dict())
