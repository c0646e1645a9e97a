"""benchmarks/poses_motion.py computes its figures for any poses model, and a bad model scores badly."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from seqart.codecs import codec_for_path
from seqart.config import defaults, merge
from seqart.formats.bvh import read_bvh
from seqart.train import train

ROOT = Path(__file__).resolve().parents[1]
MOCAP = ROOT / "datasets" / "mocap"
SETS = ["codec.fps=25.0", "codec.source_fps=60.0", "codec.trim_start=1", "codec.chunk_seconds=2.0",
        'codec.valid=["salsa_27_excerpt"]', "codec.pin_feet=true", "model.hidden=16", "model.mixtures=2",
        "train.steps=2", "train.batch_size=4", "train.max_len=30", "train.valid_every=2"]


def test_motion_figures_of_an_untrained_model_fail_the_targets(tmp_path):
    cfg = merge(defaults(codec_for_path(MOCAP).options), None, SETS)
    train(MOCAP, tmp_path / "run", cfg, progress=False)
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "poses_motion.py"), str(tmp_path / "run"),
                           str(MOCAP), "--minutes", "0.25", "--out", str(tmp_path / "m.json")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result == json.loads((tmp_path / "m.json").read_text())
    names = read_bvh(MOCAP / "salsa_27_excerpt.bvh").skeleton.names
    groups = result["groups"]
    assert set(groups) == {"abdomen", "neck", "lCollar", "rCollar", "lButtock", "rButtock"}
    assert sorted(j for g in groups.values() for j in g) == sorted(names[1:])  # every joint but the root, once
    assert result["pinned_feet"] and result["feet"] == ["lFoot", "rFoot"] and result["real"] == ["salsa_27_excerpt"]
    ratios = list(result["speed_ratio"].values())
    assert np.isfinite(ratios).all() and result["stability"]["seconds"] == 15
    assert not all(0.8 <= r <= 1.2 for r in ratios)  # two steps of training do not dance like the data
    assert 0 < result["contact_fraction"]["real"] < 1 and result["foot_slide_cm_s"]["real"] > 0
