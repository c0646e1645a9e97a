"""Quality figures can be computed on small real data, and they tell a bad model from real data.

Behaviour only: a real-vs-real control must look alike and an untrained model must not. The
issue's thresholds (>= 95% endings, >= 90% on the grid, speed ratio 0.8-1.2...) live in
benchmarks/quality_*.py, which the slow test at the end runs with --quick.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqart.clip import Clip
from seqart.codecs.notes import NotesCodec, notes_to_clip
from seqart.codecs.poses import PosesCodec
from seqart.codecs.strokes import StrokesCodec, stroke3_to_clip
from seqart.model import MDNLSTM, ModelConfig
from seqart.quality import distances as D
from seqart.codecs.notes import quality as QN
from seqart.codecs.poses import quality as QP
from seqart.codecs.strokes import quality as QS
from seqart.sample import Sampler
from seqart.splits import split_clips
from tests.samples import DATASETS, SHEEP

ROOT = DATASETS.parent


def untrained(codec, hidden: int = 16):
    torch.manual_seed(0)
    return MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=hidden, mixtures=2)).eval()


# --- distances ------------------------------------------------------------------------------------
def test_distances_are_zero_for_the_same_sample_and_in_units_otherwise():
    a = np.arange(100.0)
    assert D.wasserstein(a, a) == 0 and D.ks(a, a) == 0
    assert D.wasserstein(a, a + 7) == pytest.approx(7.0) and D.ks(a, a + 200) == 1.0
    assert D.total_variation([1, 0, 1], [2, 0, 2]) == 0 and D.total_variation([1, 0], [0, 1]) == 1


# --- strokes -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sheep():
    codec = StrokesCodec()
    return codec, split_clips(codec.read(SHEEP), codec)


def test_drawing_stats_count_points_strokes_and_inked_length():
    square = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [-10, 0, 0], [0, -10, 1], [30, 30, 0], [0, 5, 1]]
    stats = QS.drawing_stats([stroke3_to_clip(np.array(square, float))])
    assert stats["points"].tolist() == [7] and stats["strokes"].tolist() == [2]
    assert stats["stroke_length"].tolist() == [40.0, 5.0]  # the pen-up jump to (30, 30) is not ink


def test_a_knot_is_many_points_in_a_small_square():
    scribble = np.column_stack([np.tile([0.5, -0.5], 8), np.tile([0.3, -0.3], 8), np.zeros(16)])
    line = np.column_stack([np.full(16, 9.0), np.zeros(16), np.zeros(16)])
    assert QS.has_knot(stroke3_to_clip(scribble), side=4.0)
    assert not QS.has_knot(stroke3_to_clip(line), side=4.0)
    assert not QS.has_knot(stroke3_to_clip(scribble[:9]), side=4.0)  # nine points are not ten


def test_classifier_tells_an_untrained_model_from_real_drawings_but_not_real_from_real(sheep):
    codec, splits = sheep
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    codec.fit_norm(train)
    model = untrained(codec)
    fake, ended = QS.sample_drawings(model, codec, 150, 1.0, limit=200, seed=1)
    assert len(fake) == 150 and ended.dtype == bool
    real_test = QS.rasterise(test)
    bad = QS.classifier_test(QS.rasterise(train[:100]), QS.rasterise(fake[:100]), real_test,
                             QS.rasterise(fake[100:]), epochs=6)
    control = QS.classifier_test(QS.rasterise(train[:100]), QS.rasterise(train[100:200]), real_test,
                                 QS.rasterise(valid), epochs=6)
    assert bad["accuracy"] >= 0.8 and control["accuracy"] <= 0.7
    # Shape distributions: the untrained model is far off where the real control is close.
    gen, real, ctrl = QS.drawing_stats(fake), QS.drawing_stats(test), QS.drawing_stats(train)
    assert D.ks(gen["points"], real["points"]) > 2 * D.ks(ctrl["points"], real["points"])


def test_rasters_fit_the_drawing_and_hold_ink(sheep):
    _, splits = sheep
    img = QS.rasterise(splits["test"][:5], size=32)
    assert img.shape == (5, 1, 32, 32) and 0 <= img.min() and img.max() == 1.0
    assert all(im.sum() > 10 for im in img)


# --- notes ----------------------------------------------------------------------------------------
def tune(onsets_beats, durs=None, pitches=None, bpm=120.0) -> Clip:
    on = np.asarray(onsets_beats, float) * 60 / bpm
    n = len(on)
    notes = np.column_stack([on, np.full(n, 0.2) if durs is None else durs, pitches if pitches is not None else
                             np.full(n, 60), np.full(n, 80), np.zeros(n)])
    return notes_to_clip(notes, {"bpm": bpm, "time_signature": [4, 4]})


def test_the_grid_is_found_and_onsets_off_it_are_counted():
    eighths = tune(np.arange(64) / 2)
    grid = QN.infer_grid([eighths])
    assert grid["name"] == "eighth" and grid["train_on_grid"] == 1.0
    rng = np.random.default_rng(0)
    loose = tune(np.sort(rng.uniform(0, 32, 400)))
    share = QN.on_grid([loose], grid["beats"]).mean()
    assert 0.1 < share < 0.3  # about the chance rate, 2 x the tolerance
    assert QN.infer_grid([tune(np.arange(48) / 3)])["name"] == "eighth triplet"


def test_blips_key_and_bars():
    clip = tune(np.arange(10) / 2, durs=[0.005, 0.01] + [0.3] * 8, pitches=[60, 62, 64, 65, 67, 69, 71, 72, 61, 63])
    assert QN.blip_rate([clip]) == pytest.approx(0.2)
    assert QN.in_key_rate([clip]) == pytest.approx(0.8)  # C major holds 8 of the 10 notes
    assert QN.notes_per_bar([clip], 4.0).tolist() == [8, 2]


def test_an_untrained_music_model_is_off_grid_where_real_music_is_on_it():
    codec = NotesCodec()
    splits = split_clips(codec.read(DATASETS / "midi" / "nottingham"), codec)
    train, test = splits["train"], splits["test"]
    codec.fit_norm(train)
    grid = QN.infer_grid(train)
    sampler = Sampler(untrained(codec), codec, seed=0)
    fake = QN.through_midi([sampler.generate(10**6, seconds=8.0) for _ in range(3)], codec)
    assert fake and all(c.meta.get("bpm") for c in fake)  # real MIDI files, read back
    real, bad = QN.measure(test, grid["beats"]), QN.measure(fake, grid["beats"])
    assert real["on_grid"] >= 0.9 and bad["on_grid"] < real["on_grid"] - 0.3
    far = QN.distances(fake, test, train, QN.beats_per_bar(train))
    assert far["ioi_beats"]["ks"] > far["ioi_beats"]["control"]["ks"]


# --- poses ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dances():
    codec = PosesCodec({"fps": 25.0, "source_fps": 60.0, "trim_start": 1})
    clips = [c for f in ("salsa_12_excerpt.bvh", "salsa_27_excerpt.bvh")
             for c in codec.read(DATASETS / "mocap" / f)["all"]]
    codec.fit_norm(clips)
    return codec, clips


def test_joint_groups_and_feet_from_the_skeleton(dances):
    codec, clips = dances
    pos = QP.Positions(clips[0])
    names = pos.skeleton.names
    groups = {g: {names[j] for j in idx} for g, idx in QP.joint_groups(pos.skeleton).items()}
    assert {"rThigh", "lShin", "rFoot"} <= groups["legs"] and {"rHand", "lShldr", "lPinky2"} <= groups["arms"]
    assert {"head", "neck", "chest"} <= groups["spine_head"] and groups["root"] == {"hip"}
    assert sorted(names[j] for j in QP.feet(pos.skeleton)) == ["lFoot", "rFoot"]
    assert 60 < QP.leg_length(pos.skeleton) < 120  # centimetres


def test_real_dances_match_each_other_and_an_untrained_model_does_not(dances):
    codec, clips = dances
    a, b = QP.Positions(clips[0]), QP.Positions(clips[1])
    real_a, real_b = QP.group_motion([a]), QP.group_motion([b])
    gen = QP.Positions(Sampler(untrained(codec), codec, seed=0).generate(100))
    bad = QP.group_motion([gen])
    for g in real_a:
        assert 0.5 < real_b[g]["speed"] / real_a[g]["speed"] < 2.0  # two real dancers: alike
    assert max(abs(np.log(bad[g]["speed"] / real_a[g]["speed"])) for g in real_a) > np.log(3)
    ground, contact = QP.ground_level([a, b]), 0.05 * QP.leg_length(a.skeleton)
    feet = QP.foot_sliding([a, b], ground, contact)
    assert feet["contact_speed"] < 0.5 * feet["lifted_speed"] and 0 < feet["contact_share"] < 1


def test_a_frozen_dance_has_no_motion_per_second(dances):
    _, clips = dances
    frame = clips[0].frames[:1].copy()
    moving = [i for i, c in enumerate(clips[0].channels) if ".v" in c or c in ("root.dx", "root.dz", "root.dyaw")]
    frame[:, moving] = 0.0  # no velocity, no root motion: one pose held
    still = clips[0].with_frames(np.repeat(frame, 60, axis=0))
    secs = QP.per_second(QP.Positions(still))
    assert len(secs["speed"]) == 2 and np.allclose(secs["speed"], 0) and (secs["extent"] > 50).all()


# --- the benchmarks, end to end -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("script,data,keys", [
    ("quality_strokes.py", "sketches/aaron_sheep_small.npz", {"classifier", "shape", "endings", "checks"}),
    ("quality_notes.py", "midi/nottingham", {"real_test", "real_train", "generated", "checks"}),
    ("quality_poses.py", "mocap", {"speed_ratio", "foot_sliding", "long_run", "checks"}),
])
def test_quality_benchmarks_run_quick(tmp_path, script, data, keys):
    out = tmp_path / "q.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--data",
                           str(DATASETS / data), "--out", str(out)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert keys <= result.keys() and result["command"].count("--quick") == 1
    assert all(isinstance(v, bool) for v in result["checks"].values())


def test_joint_speed_benchmark_compares_every_turning_joint(tmp_path):
    """benchmarks/poses_joint_speed.py: per joint, generated over real angular and position speed;
    joints that never turn (fingers) are left out and the root has no body-frame position speed."""
    out = tmp_path / "j.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "poses_joint_speed.py"), "--quick", "--data",
                           str(DATASETS / "mocap"), "--out", str(out)], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    joints = json.loads(out.read_text())["joints"]
    assert {"head", "lFoot", "rHand"} <= joints.keys() and not any("Pinky" in n for n in joints)
    assert all(v["angular_speed_ratio"] > 0 and v["angular_speed_deg_s_real"] >= 1.0 for v in joints.values())
    roots = [n for n, v in joints.items() if v["group"] == "root"]
    assert roots and all(joints[n]["position_speed_ratio"] is None for n in roots)
    assert all(v["position_speed_ratio"] > 0 for n, v in joints.items() if n not in roots)
