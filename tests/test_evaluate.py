"""`seqart eval` scores every model of the same data in the same units, whatever its normalisation."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqart.codecs.base import Norm
from seqart.codecs.strokes import StrokesCodec
from seqart.evaluate import in_data_units
from seqart.formats.safe_npz import load_npz
from seqart.model import MDNLSTM, ModelConfig
from seqart.train import evaluate
from tests.samples import SHEEP


def test_the_log_jacobian_moves_the_nll_by_exactly_the_change_of_units():
    # The same model-space inputs, read as data k times larger with a scale k times larger:
    # the model's NLL is the same, and in data units each scored point is k^2 times less dense.
    codec = StrokesCodec({"dequantise": 0.0})
    clips = codec.read(SHEEP)["test"][:20]
    codec.fit_norm(clips)
    torch.manual_seed(0)
    model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=16, mixtures=2))
    k = 10.0
    big = StrokesCodec({"dequantise": 0.0}, Norm(codec.norm.shift, codec.norm.scale * k))
    big_clips = [c.with_frames(c.frames * np.array([k, k, 1], np.float32)) for c in clips]
    a, b = evaluate(model, codec, clips, 8), evaluate(model, big, big_clips, 8)
    assert a["nll"] == pytest.approx(b["nll"], abs=1e-5)
    da, db = in_data_units(a, codec, clips), in_data_units(b, big, big_clips)
    points = sum(len(c) - 1 for c in clips)  # the end frames carry no offsets
    assert db["nll"] - da["nll"] == pytest.approx(2 * np.log(k) * points / a["frames"], rel=1e-4)
    assert db["pen"] == da["pen"]


def seqart(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "seqart.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_a_model_and_a_fine_tune_normalised_differently_compare_in_data_units(tmp_path):
    # C learns drawings 10x smaller (its scale is ~10x smaller); B fine-tunes C on the real sheep and
    # keeps C's normalisation; A learns the real sheep from scratch. Both score the same test drawings.
    small = tmp_path / "small.npz"
    data = load_npz(SHEEP)
    scaled = {k: (v * np.array([0.1, 0.1, 1.0]) if v.ndim == 2 else v) for k, v in data.items()}  # (N, 3) points
    np.savez(small, **scaled)
    tiny = ["--hidden", "32", "--mixtures", "3", "--batch-size", "32", "--quiet", "--set", "train.valid_every=100"]
    seqart("train", SHEEP, "--out", tmp_path / "A", "--steps", "150", *tiny)
    seqart("train", small, "--out", tmp_path / "C", "--steps", "100", *tiny)
    seqart("train", SHEEP, "--out", tmp_path / "B", "--steps", "150", "--init", tmp_path / "C", *tiny[4:])
    a, b = (json.loads(seqart("eval", tmp_path / m, SHEEP)) for m in ("A", "B"))
    scale = {m: json.loads((tmp_path / m / "best" / "model.json").read_text())["codec"]["norm"]["scale"][0]
             for m in ("A", "B")}
    assert scale["A"] / scale["B"] > 5  # normalised differently
    model_gap, data_gap = abs(a["model_space"]["nll"] - b["model_space"]["nll"]), abs(a["nll"] - b["nll"])
    assert model_gap > 3 and data_gap < model_gap / 2  # units, not models, made most of the gap
