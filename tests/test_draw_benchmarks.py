"""The DRAW comparison benchmarks (benchmarks/draw_sheep.py, sharing draw_mnist.py's scoring) on two tiny runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from seqart.codecs.canvas import CanvasCodec
from seqart.config import defaults, merge
from seqart.train import train

ROOT = Path(__file__).resolve().parents[1]
SHEEP = ROOT / "datasets" / "sketches" / "aaron_sheep_small.npz"  # 200 / 50 / 50 real sheep
TINY = ["codec.size=8", "codec.binarize=\"threshold\"", "model.glimpses=3", "model.enc_hidden=8", "model.dec_hidden=8",
        "model.z_dim=2", "model.write_n=3", "train.batch_size=25", "train.threads=1", "train.steps=4",
        "train.valid_every=2"]


def test_draw_sheep_scores_both_runs_on_the_test_split_and_draws_the_figure(tmp_path):
    for name, att in (("att", "true"), ("none", "false")):
        cfg = merge(defaults(CanvasCodec().options, "draw"), None, TINY + [f"model.attention={att}"])
        train(SHEEP, tmp_path / name, cfg, progress=False, modality="canvas")
    png, out = tmp_path / "fig.png", tmp_path / "r.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "draw_sheep.py"), "--score", str(tmp_path / "none"),
                           str(tmp_path / "att"), "--data", str(SHEEP), "--png", str(png), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout)
    assert r == json.loads(out.read_text()) and "draw_sheep.py" in r["command"]
    s = r["scores"]
    assert s["attention"]["run"] == str(tmp_path / "att") and s["no_attention"]["model"]["attention"] is False
    for key in ("attention", "no_attention"):
        assert s[key]["images"] == 50 and s[key]["held_out"]["clips"] == 50  # the .npz's own test split
        assert s[key]["nll"] == pytest.approx(s[key]["recon"] + s[key]["latent"], rel=1e-5)
        assert s[key]["trained_steps"] == 4 and s[key]["step"] in (2, 4) and s[key]["codec"]["binarize"] == "threshold"
    assert s["attention_better"] == (s["attention"]["nll"] < s["no_attention"]["nll"])
    # 4 rows of test images over 4 rows of samples, 8 columns of 8 x 8 cells at 3 output pixels a pixel
    assert Image.open(png).size == (8 * 9 * 3 + 3, 8 * 9 * 3 + 3) and r["figure"]["png"] == str(png)
