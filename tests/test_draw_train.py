"""DRAW through the one trainer, loader, sampler and exporters: train, resume, eval, sample, files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seqart import checkpoint
from seqart.codecs.canvas import CanvasCodec
from seqart.config import defaults, merge
from seqart.draw.model import DRAW, DRAWConfig
from seqart.draw.sampler import CanvasSampler
from seqart.export import export_clips
from seqart.generate import sample_clips
from seqart.modelio import load_model
from seqart.train import train

from tests.samples import DATASETS, bar_images

TINY = ["codec.size=8", "model.glimpses=4", "model.enc_hidden=16", "model.dec_hidden=16", "model.z_dim=4",
        "model.write_n=3", "train.batch_size=10", "train.threads=1", "train.lr=3e-3"]


def cfg(*sets: str) -> dict:
    return merge(defaults(CanvasCodec().options, "draw"), None, TINY + list(sets))


@pytest.fixture(scope="module")
def idx(tmp_path_factory) -> Path:
    """80 8 x 8 images of two kinds (a bar at the top or at the left), as an MNIST-style IDX file."""
    return bar_images(tmp_path_factory.mktemp("idx") / "bars-idx3-ubyte", 80)


@pytest.fixture(scope="module")
def run(idx, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(idx, out, cfg("train.steps=40", "train.valid_every=20"), progress=False)
    return out


def test_the_trainer_trains_draw_and_checkpoints_say_so(run, idx):
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    model, codec, meta = load_model(run)
    assert isinstance(model, DRAW) and meta["family"] == "draw" and codec.modality == "canvas"
    assert meta["model"]["height"] == 8 and meta["codec"]["options"]["binarize"] == "stochastic"
    torch.manual_seed(0)
    fresh = DRAW(model.cfg)
    from seqart.splits import split_clips
    from seqart.train import evaluate

    valid = split_clips(codec.read(idx), codec)["valid"]
    assert log[-1]["valid"]["nll"] < evaluate(fresh, codec, valid, 10)["nll"] - 5  # nats per image
    assert set(log[-1]["valid"]) >= {"nll", "recon", "latent"}


def test_resume_continues_exactly(idx, tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(idx, whole, cfg("train.steps=8", "train.valid_every=4"), progress=False)
    train(idx, split, cfg("train.steps=4", "train.valid_every=4"), progress=False)
    train(idx, split, cfg("train.steps=8", "train.valid_every=4"), progress=False)
    a, b = (checkpoint.load(r / "latest", "model")[0] for r in (whole, split))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_the_sampler_gives_t_canvases_and_windows_then_none(run):
    model, codec, meta = load_model(run)
    s = CanvasSampler(model, codec, temperature=1.0, seed=3)
    frames = [s.step() for _ in range(4)]
    assert s.step() is None and s.step() is None
    assert all(f.shape == (4 + 64,) for f in frames)
    canvas = np.stack(frames)[:, 4:]
    assert canvas.min() >= 0 and canvas.max() <= 1
    assert not np.allclose(canvas[0], canvas[-1])  # each write changes the canvas
    assert (np.stack(frames)[:, 2:4] > 0).all()  # stride and sigma in pixels
    s.reset()
    again = [s.step() for _ in range(4)]
    assert not np.allclose(again[-1], frames[-1])  # a new image, not a replay
    same = CanvasSampler(model, codec, seed=3)
    assert np.array_equal(same.step(), frames[0])
    g1, g2 = CanvasSampler(model, codec, greedy=True, seed=1), CanvasSampler(model, codec, greedy=True, seed=2)
    assert np.array_equal(g1.generate(10).frames, g2.generate(10).frames)


def test_exports_gif_png_and_a_plotter_path_per_sample(run, tmp_path):
    clips = sample_clips(run, n=3, seed=1)
    assert [len(c) for c in clips] == [4, 4, 4]
    for ext in ("gif", "png", "svg"):
        export_clips(clips, tmp_path / f"a.{ext}")
        export_clips(clips, tmp_path / f"b.{ext}")
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == 4 + 1  # each step, then the finished canvases held
    frame = np.asarray(gif.convert("RGB"))
    assert ((frame[..., 0] > 200) & (frame[..., 1] < 80)).any()  # the red write window is drawn
    png = Image.open(tmp_path / "a.png")
    assert png.size == (3 * 9 * 4 + 4, 9 * 4 + 4)  # 3 cells of 8 px + 1 gap, 4 px per pixel
    root = ET.parse(tmp_path / "a.svg").getroot()
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert len(paths) == 3 and root.get("width").endswith("mm")
    pts = [np.array(re.findall(r"-?[\d.]+", p.get("d")), float).reshape(-1, 2) for p in paths]
    assert all(len(p) == 4 for p in pts)  # one vertex per step: the window's centre


def test_cli_trains_evaluates_and_samples_drawings_as_canvases(tmp_path):
    svgs = DATASETS / "sketches" / "svg"
    seqart = [sys.executable, "-m", "seqart.cli"]
    sets = [a for s in TINY + ["train.steps=3", "train.valid_every=3", "codec.binarize=\"threshold\""]
            for a in ("--set", s)]
    subprocess.run([*seqart, "train", svgs, "--out", tmp_path / "r", "--modality", "canvas", "--quiet", *sets],
                   check=True, capture_output=True, timeout=300)
    out = subprocess.run([*seqart, "eval", tmp_path / "r", svgs, "--split", "all"], check=True,
                         capture_output=True, text=True, timeout=300).stdout
    score = json.loads(out)
    assert score["nll"] == pytest.approx(score["recon"] + score["latent"], rel=1e-5) and "per image" in score["units"]
    subprocess.run([*seqart, "sample", tmp_path / "r", "--out", tmp_path / "s.gif", "-n", "2"], check=True,
                   capture_output=True, timeout=300)
    assert Image.open(tmp_path / "s.gif").n_frames == 5
    bad = subprocess.run([*seqart, "train", svgs, "--out", tmp_path / "x", "--modality", "canvas",
                          "--set", "model.hidden=3"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "unknown setting model.hidden" in bad.stderr and "Traceback" not in bad.stderr


def test_speed_benchmark_runs_and_reports_both_variants(tmp_path):
    root = Path(__file__).resolve().parents[1]
    sheep = root / "datasets" / "sketches" / "aaron_sheep_small.npz"
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "draw_speed.py"), "--quick", "--data", str(sheep),
                           "--out", str(tmp_path / "s.json")], capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout)
    assert r == json.loads((tmp_path / "s.json").read_text()) and "draw_speed.py" in r["command"]
    for key in ("train_step_ms", "sample_canvas_ms", "train_images_per_s"):
        assert set(r[key]) == {"attention", "no_attention"}
    assert r["machine"]["torch_threads"] == 1 and r["config"]["data"] == str(sheep)


def test_the_public_api_gives_draws_stepwise_generator(run):
    import seqart

    m = seqart.load(run)
    assert "DRAW T 4" in repr(m) and m.modality == "canvas"
    s = m.sampler(temperature=0.5, seed=1)
    frames = []
    while (f := s.step()) is not None:
        frames.append(f)
    assert len(frames) == 4 and isinstance(s, CanvasSampler)
    with pytest.raises(seqart.SeqartError, match="cannot be primed"):
        m.sample(1, prime=m.sample(1)[0])


def test_vpype_reads_one_path_per_sample(run, tmp_path):
    from tests.peers import peer

    vpype = peer("vpype")
    export_clips(sample_clips(run, n=5, seed=2), tmp_path / "w.svg")
    out = subprocess.run([vpype, "read", "--no-crop", str(tmp_path / "w.svg"), "stat"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert int(re.search(r"Path count: (\d+)", out.split("Totals")[-1])[1]) == 5


def test_what_draw_cannot_do_yet_is_one_line(run, tmp_path):
    from seqart.generate import interpolate_clips
    from seqart.handwrite import write_line
    from seqart.errors import SeqartError

    png = tmp_path / "a.png"
    Image.new("L", (8, 8)).save(png)
    with pytest.raises(SeqartError, match="interpolation is for sketch-rnn VAEs"):
        interpolate_clips(run, png, png)
    with pytest.raises(SeqartError, match="does not write text"):
        write_line(run, "hi")


@pytest.mark.parametrize("recipe", ["draw_mnist.toml", "draw_mnist_cpu.toml", "draw_sheep_cpu.toml"])
def test_the_recipes_are_valid_settings_for_draw(recipe):
    root = Path(__file__).resolve().parents[1]
    c = merge(defaults(CanvasCodec().options, "draw"), root / "recipes" / recipe, [])
    assert c["model"]["attention"] is True and (c["model"]["read_n"], c["model"]["write_n"]) == (2, 5)
    model = DRAW(DRAWConfig(**c["model"]))  # the settings build a model of the recipe's shape
    assert model.cfg.glimpses == c["model"]["glimpses"]


def test_a_model_json_that_claims_more_than_its_weights_is_refused_before_building(run, tmp_path):
    import shutil

    from seqart.draw.model import weight_count
    from seqart.errors import SeqartError

    model, _, meta = load_model(run)
    assert weight_count(meta["model"]) == sum(p.numel() for n, p in model.named_parameters() if "bias" not in n)
    bad = tmp_path / "bad"
    shutil.copytree(run / "best", bad)
    meta = json.loads((bad / "model.json").read_text())
    meta["model"]["dec_hidden"] = 60000  # 4 * 60000^2 recurrent weights: gigabytes, were it built
    (bad / "model.json").write_text(json.dumps(meta))
    with pytest.raises(SeqartError, match="needs more than the"):
        load_model(bad)
