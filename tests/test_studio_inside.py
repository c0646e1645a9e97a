"""Inside views: states and predictions through the Sampler's watch hook, LSTMVis select/match,
and `seqart inspect` files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import seqart
from seqart.errors import SeqartError
from seqart.studio.inside import inspect_clip
from seqart.studio.lstmvis import match, runs, select

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
SHEEP = ROOT / "datasets" / "sketches" / "aaron_sheep_small.npz"
TUNE = ROOT / "datasets" / "midi" / "nottingham" / "jigs1.mid"


def test_select_finds_the_cells_on_over_the_span_and_match_finds_them_again():
    T, H = 40, 6
    states = np.full((T, H), -0.5)
    states[10:15, [1, 4]] = 0.9  # cells 1 and 4 switch on over frames 10-14 ...
    states[30:35, [1, 4]] = 0.8  # ... and again over 30-34
    states[5:20, 2] = 0.9  # cell 2 is on before the span starts: not the span's pattern
    cells = select(states, (10, 14), 0.3)
    assert cells.tolist() == [1, 4]
    assert match(states, cells, 0.3, (10, 14)) == [(0, 30, 34, 2)]
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 2), (4, 4)]


def test_watched_states_and_nll_are_the_models_own():
    """The hook sees what the trained network computes: the same hidden states as nn.LSTM on the
    clip and the same NLL as the training loss (teacher forcing)."""
    model = seqart.load("sheep")
    clip = seqart.read(SHEEP)[0]
    ins = inspect_clip(model, clip)
    x = torch.from_numpy(model.codec.to_model(clip)[:-1])[None]  # without the end frame
    with torch.no_grad():
        inp = torch.cat([model.model.start_token(1, x.device), model.model.embed(x[:, :-1])], 1)
        out, _ = model.model.decoder(inp)
        _, losses = model.model(x, torch.ones(x.shape[:2], dtype=torch.bool))
    assert ins.h.shape == (len(clip) - 1, 1, 512)
    np.testing.assert_allclose(ins.h[:, -1], out[0].numpy(), atol=2e-4)
    assert ins.nll.mean() == pytest.approx(float(losses["nll"]), rel=1e-3)


@pytest.fixture(scope="module")
def sheep():
    return inspect_clip(seqart.load("sheep"), seqart.read(SHEEP)[0])


@pytest.fixture(scope="module")
def tune():
    model = seqart.load("nottingham")
    return inspect_clip(model, model.codec.prime_clip(TUNE))


def live_events(name: str, ins) -> list:
    """What the live engine plays of the clip looked into: [seconds, address, args] per event, the
    independent reference for the marks the codec puts on the views."""
    from seqart.live.events import renderer_for
    from seqart.studio.primers import render_options

    codec = seqart.load(name).codec
    renderer = renderer_for(codec, {k: v for k, v in render_options(codec).items() if k != "scale"})
    out, t = [], 0.0
    for f in ins.frames:
        t += renderer.seconds(f)
        out += [[t, e.address, [float(a) for a in e.args]] for e in renderer.events(f, t, 1.0)]
    return out


def test_density_pen_and_pitch_views(sheep, tune):
    d = sheep.views["density"]
    assert d["image"].max() == pytest.approx(1.0) and d["image"].min() >= 0
    pen = sheep.views["classes pen"]["probs"]
    np.testing.assert_allclose(pen.sum(1), 1.0, rtol=1e-6)
    lifted = sheep.frames[:, 2] == 1
    assert pen[lifted, 1].mean() > pen[~lifted, 1].mean()  # it expects the lifts where they happen
    pitch = tune.views["classes pitch"]["probs"]
    played = tune.frames[:, tune.channels.index("pitch")].astype(int)
    assert pitch.shape == (len(tune.frames), 128)
    assert pitch[np.arange(len(played)), played].mean() > 1 / 128 * 5  # far above chance on the tune itself
    assert [e[1] for e in live_events("nottingham", tune)] == ["/seqart/note"] * len(tune.frames)


def test_the_codec_marks_its_views(sheep, tune):
    """Codec.inside_marks: the strokes codec puts the drawing's pen-down segments on the density and
    names the pen's classes, the notes codec puts the tune on its pitch distribution; both agree
    with what the live engine plays of the clip, and survive the trip to the browser as JSON."""
    import json

    pen = [args for _, address, args in live_events("sheep", sheep)]  # /seqart/pen x y down: down draws from the last point
    drawn = [(*a[:2], *b[:2]) for a, b in zip(pen, pen[1:]) if b[2] == 1]
    segments = sheep.views["density"]["segments"]  # (N, 4) x0, y0, x1, y1
    assert 0 < len(drawn) < len(sheep.frames) - 1  # pen-down segments, and some lifts between them
    np.testing.assert_allclose(segments, drawn, atol=1e-3)
    points = {tuple(p) for p in np.round(sheep.views["density"]["path"], 3)}  # the density's own plane
    assert all(tuple(p) in points for p in np.round(segments.reshape(-1, 2), 3))
    assert sheep.views["classes pen"]["labels"] == ["down", "lift", "end"]
    notes = tune.views["classes pitch"]["spans"]  # (T, 3) onset s, pitch, duration s
    played = [(t, args[0], args[2]) for t, _, args in live_events("nottingham", tune)]  # /seqart/note pitch velocity duration
    assert notes.shape == (len(tune.frames), 3)
    np.testing.assert_allclose(notes, played, atol=1e-3)
    sent = json.loads(json.dumps(sheep.to_json()["views"] | tune.to_json()["views"]))
    assert len(sent["density"]["segments"]) == len(drawn) and sent["classes pen"]["labels"][2] == "end"
    assert len(sent["classes pitch"]["spans"]) == len(tune.frames) and "path" in sent["density"]


def test_the_figure_draws_every_modality_without_asking_which(sheep, tune):
    """figure_png draws strokes, notes and poses (DRAW: test_draw_is_looked_into_as_it_draws) from the
    views alone: figure.py names no modality's channels or addresses."""
    from seqart.studio import figure

    source = __import__("inspect").getsource(figure)
    assert not any(word in source for word in ('"pen"', "/note", "strokes", '"pitch"', "ins.events"))
    salsa = seqart.load("salsa")  # poses: the spread per joint, no marks
    width = len(salsa.codec.layout.continuous) + len(salsa.codec.layout.categoricals)
    dance = inspect_clip(salsa, salsa.codec.from_model(np.zeros((12, width), np.float32)))  # the mean pose
    assert not any({"segments", "spans", "labels"} & set(v) for v in dance.views.values())
    for ins in (sheep, tune, dance):
        assert figure.figure_png(ins)[:8] == b"\x89PNG\r\n\x1a\n"


def test_inspect_writes_a_picture_and_a_page(tmp_path):
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    for out in ("view.png", "view.html"):
        r = subprocess.run([sys.executable, "-m", "seqart.cli", "inspect", "sheep", str(SHEEP), "--out",
                            str(tmp_path / out)], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "view.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "view.html").read_text()
    assert "data:image/png;base64," in page and "Select (LSTMVis)" in page and not any(f'{a}="http' in page for a in ("src", "href"))
    r = subprocess.run([sys.executable, "-m", "seqart.cli", "inspect", "sheep", str(SHEEP), "--out",
                        str(tmp_path / "view.svg")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "seqart: error:" in r.stderr and ".png or .html" in r.stderr
    assert not (tmp_path / "view.svg").exists()


def test_draw_is_looked_into_as_it_draws(tmp_path):
    """A DRAW model: the canvas and write box of each step from its one sampler, and its decoder states."""
    from seqart.api import Model
    from seqart.codecs import codec_class
    from seqart.draw.model import DRAW, DRAWConfig
    from seqart.studio.figure import figure_png

    torch.manual_seed(0)
    codec = codec_class("canvas")({"size": 8})
    model = Model(DRAW(DRAWConfig(height=8, width=8, glimpses=5, enc_hidden=16, dec_hidden=16, z_dim=4, write_n=3)),
                  codec, {"train": {}}, "tiny-draw")
    from seqart.draw.inside import inspect_canvas

    ins = inspect_canvas(model)
    d = ins.views["draw"]
    assert d["canvases"].shape == (5, 8, 8) and d["boxes"].shape == (5, 4) and ins.h.shape == (5, 1, 16)
    again = model.sampler(temperature=1.0, seed=0)
    steps = []
    while (frame := again.step()) is not None:
        steps.append(frame)
    last = steps[-1]
    np.testing.assert_allclose(d["canvases"][-1].ravel(), last[4:], atol=1e-6)  # the sampler's own canvas
    assert (d["boxes"][:, 2] > 0).all()
    assert figure_png(ins)[:4] == b"\x89PNG"


def test_draw_reading_an_image_shows_its_read_and_write_boxes():
    """DRAW.watch: each glimpse's read and write box, the canvas, the decoder's states, and the
    canvas it ends on is the forward pass's own."""
    from seqart.api import Model
    from seqart.codecs import codec_class
    from seqart.draw.model import DRAW, DRAWConfig
    from seqart.draw.inside import inspect_image

    torch.manual_seed(0)
    codec = codec_class("canvas")({"size": 8, "binarize": "threshold"})
    net = DRAW(DRAWConfig(height=8, width=8, glimpses=4, enc_hidden=16, dec_hidden=16, z_dim=4, read_n=2, write_n=3))
    model = Model(net, codec, {"train": {}}, "tiny-draw")
    image = np.zeros((8, 8), np.float32)
    image[2:6, 3] = 1.0
    clip = codec.image_clip(image)
    ins = inspect_image(model, clip)
    d = ins.views["draw"]
    assert d["read"].shape == d["boxes"].shape == (4, 4) and d["canvases"].shape == (4, 8, 8)
    assert (d["read"][:, 2] > 0).all() and ins.h.shape == (4, 1, 16) and net.watch is None
    with torch.no_grad():
        canvas, _ = net(torch.from_numpy(codec.to_model(clip)), z_sample=False)
    np.testing.assert_allclose(d["canvases"][-1].ravel(), torch.sigmoid(canvas)[0].numpy(), atol=1e-6)


def test_tabs_reading_images_through_one_draw_model_at_once_each_get_their_own_steps():
    """The studio keeps one model for every tab, and DRAW's watch hook is the model's: four threads
    reading an image each at once must each see their own 16 glimpses."""
    import threading

    from seqart.api import Model
    from seqart.codecs import codec_class
    from seqart.draw.model import DRAW, DRAWConfig
    from seqart.draw.inside import inspect_image

    torch.manual_seed(0)
    codec = codec_class("canvas")({"size": 8, "binarize": "threshold"})
    net = DRAW(DRAWConfig(height=8, width=8, glimpses=16, enc_hidden=16, dec_hidden=16, z_dim=4, read_n=2, write_n=3))
    model = Model(net, codec, {"train": {}}, "tiny-draw")
    clip = codec.image_clip(np.eye(8, dtype=np.float32))
    got = []

    def tab():
        for _ in range(10):
            try:
                got.append(len(inspect_image(model, clip).views["draw"]["boxes"]))
            except ValueError as e:  # no steps at all: another tab unset the hook
                got.append(str(e))

    tabs = [threading.Thread(target=tab) for _ in range(4)]
    for t in tabs:
        t.start()
    for t in tabs:
        t.join()
    assert got == [16] * 40 and net.watch is None


def test_a_handwriting_models_window_over_its_characters(tmp_path):
    """A text-conditioned model (tiny, untrained): the window's weight on each character per step,
    from the same watch hook; its centre only moves forward along the text."""
    from seqart.api import Model
    from seqart.codecs.handwriting import HandwritingCodec
    from seqart.codecs.handwriting.synthetic import write_set
    from seqart.model import MDNLSTM, ModelConfig

    torch.manual_seed(0)
    codec = HandwritingCodec({"alphabet": "abcdefghijklmnopqrstuvwxyz ."})
    cfg = ModelConfig(layout=codec.layout.to_json(), hidden=12, layers=2, mixtures=4, window_mixtures=3)
    write_set(tmp_path / "hand", 1, seed=0, heldout=0, phrases=["hello there"])
    clip = [c for s in codec.read(tmp_path / "hand").values() for c in s][0]
    ins = inspect_clip(Model(MDNLSTM(cfg).eval(), codec, {"train": {}}, "tiny-hand"), clip)
    w = ins.views["window"]["weights"]  # (T, characters + 1)
    assert w.shape == (len(ins.frames), len("hello there") + 1) and ins.h.shape[1] == 2
    centre = (w * np.arange(w.shape[1])).sum(1) / np.maximum(w.sum(1), 1e-12)
    assert centre[-1] >= centre[0]


def test_each_family_says_how_it_is_looked_inside(tmp_path):
    """family.inside: DRAW draws from nothing or rewrites an image; an MDN-LSTM needs a clip;
    `seqart inspect` on the shipped DRAW model reads a PNG and draws its glimpses."""
    from PIL import Image

    from seqart import family
    from seqart.api import Model
    from seqart.codecs import codec_class
    from seqart.draw.model import DRAW, DRAWConfig

    torch.manual_seed(0)
    codec = codec_class("canvas")({"size": 8, "binarize": "threshold"})
    net = DRAW(DRAWConfig(height=8, width=8, glimpses=3, enc_hidden=16, dec_hidden=16, z_dim=4, read_n=2, write_n=3))
    model = Model(net, codec, {"train": {}}, "tiny-draw")
    drawn = family.of_model(net).inside(model, None, [])
    read = family.of_model(net).inside(model, codec.image_clip(np.eye(8, dtype=np.float32)), [])
    assert drawn.views["draw"]["canvases"].shape == (3, 8, 8) and "read" not in drawn.views["draw"]
    assert read.views["draw"]["read"].shape == (3, 4)
    sheep = seqart.load("sheep")
    with pytest.raises(SeqartError, match="give a clip"):
        family.of_model(sheep.model).inside(sheep, None, [])
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 13:15] = 255
    Image.fromarray(digit).save(tmp_path / "one.png")
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "seqart.cli", "inspect", "draw_mnist", str(tmp_path / "one.png"), "--out",
                        str(tmp_path / "draw.png")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "draw.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
