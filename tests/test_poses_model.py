"""A tiny poses model end to end on the shipped salsa excerpts: train, prime, sample seconds, write BVH."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqart.codecs import codec_for_path
from seqart.config import defaults, merge
from seqart.formats.bvh import read_bvh
from seqart.generate import sample_clips
from seqart.modelio import load_model
from seqart.train import train

MOCAP = Path(__file__).resolve().parents[1] / "datasets" / "mocap"
PRIME = MOCAP / "salsa_12_excerpt.bvh"
CODEC = ["codec.fps=25.0", "codec.source_fps=60.0", "codec.trim_start=1", "codec.chunk_seconds=2.0",
         'codec.valid=["salsa_27_excerpt"]']
TINY = ["model.hidden=24", "model.mixtures=2", "train.steps=6", "train.batch_size=4", "train.max_len=30",
        "train.valid_every=3"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("poses") / "run"
    cfg = merge(defaults(codec_for_path(MOCAP).options), None, CODEC + TINY)
    result = train(MOCAP, out, cfg, progress=False)
    assert result["step"] == 6 and np.isfinite(result["best_valid_nll"])
    return out


def test_checkpoint_holds_the_skeleton_and_sampling_needs_no_data(run, tmp_path):
    import json

    meta = json.loads((run / "best" / "model.json").read_text())
    opts = meta["codec"]["options"]
    assert opts["skeleton"]["names"][0] == "hip" and len(opts["kept"]) == 17 and "rThumb1" in opts["static"]
    clips = sample_clips(run, n=2, temperature=0.7, seed=3, seconds=1.0, max_frames=1000)
    assert [len(c) for c in clips] == [25, 25] and all(c.fps == 25.0 for c in clips)
    again = sample_clips(run, n=2, temperature=0.7, seed=3, seconds=1.0, max_frames=1000)
    assert np.array_equal(clips[0].frames, again[0].frames) and not np.array_equal(clips[0].frames, clips[1].frames)


def test_primed_sample_continues_the_seed_clip(run):
    (clip,) = sample_clips(run, temperature=0.0, prime=PRIME, prime_seconds=2.0, seconds=3.0, max_frames=1000)
    assert len(clip) == 50 + 75
    from seqart.codecs.poses import clip_to_motion

    ours = clip_to_motion(clip).values[:50]
    src = read_bvh(PRIME)
    codec_clip = load_model(run)[1].prime_clip(PRIME, 2.0)
    assert np.allclose(clip_to_motion(codec_clip).values, ours, atol=1e-3)  # the primer comes first, unchanged
    assert ours.shape[1] == src.skeleton.n_channels


def _seqart(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "seqart.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_sample_writes_bvh_others_can_read(run, tmp_path):
    out = tmp_path / "dance.bvh"
    done = _seqart("sample", run, "--out", out, "--prime", PRIME, "--prime-seconds", "1", "--seconds", "2",
                   "--frames", "500", "-t", "0.5", "--set", "drift=0.2")
    assert done.returncode == 0, done.stderr
    m = read_bvh(out)
    assert m.values.shape == (75, 132) and m.frame_time == pytest.approx(0.04)
    bad = _seqart("sample", run, "--out", tmp_path / "x.bvh", "--set", "drift=7")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "drift" in bad.stderr
    from tests.peers import peer

    python = peer("python")
    script = Path(__file__).resolve().parents[2] / "shared" / "peers" / "check_bvh.py"
    if not script.exists():
        pytest.skip(f"{script} is not on this machine")
    check = subprocess.run([python, str(script), str(out), "--frames", "75", "--joints", "43", "--no-blender"],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0 and check.stdout.startswith("PASS"), check.stdout + check.stderr


SHIPPED = Path(__file__).resolve().parents[1] / "seqart" / "models" / "salsa"


@pytest.mark.skipif(not (SHIPPED / "model.json").exists(), reason="the salsa model is not shipped in this checkout")
def test_shipped_salsa_model_dances_from_its_demo_settings(tmp_path):
    import json

    from seqart.export import export_clips

    spec = json.loads((SHIPPED / "model.json").read_text())["demo"]
    assert set(spec["outputs"]) >= {".bvh", ".gif"}
    (clip,) = sample_clips(SHIPPED, temperature=spec["temperature"], seed=0, seconds=2.0, max_frames=spec["frames"])
    assert len(clip) == 50 and clip.is_finite()
    export_clips([clip], tmp_path / "d.bvh")
    assert read_bvh(tmp_path / "d.bvh").values.shape == (50, 132)
