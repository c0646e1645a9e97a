"""BVH reading (strict, line-numbered, never hangs), writing, rotations and forward kinematics."""

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seqart.errors import SeqartError
from seqart.formats.bvh import Motion, read_bvh, write_bvh
from seqart.codecs.poses.kinematics import (euler_to_matrix, joint_positions, matrix_to_6d, matrix_to_euler, sixd_to_matrix)
from tests.peers import peer

MOCAP = Path(__file__).resolve().parents[1] / "datasets" / "mocap"
SALSA = MOCAP / "salsa_12_excerpt.bvh"  # 360 real frames of CMU salsa (see datasets/SOURCES.md)

# A small branching skeleton with every Euler order and a 6-channel root (written for these tests).
SMALL = """HIERARCHY
ROOT hips
{
  OFFSET 0 90 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT lLeg
  {
    OFFSET 10 -5 0
    CHANNELS 3 XYZ_PLACEHOLDER
    End Site
    {
      OFFSET 0 -40 0
    }
  }
  JOINT rLeg
  {
    OFFSET -10 -5 0
    CHANNELS 3 Yrotation Xrotation Zrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
  JOINT spine
  {
    OFFSET 0 20 0
    CHANNELS 3 Xrotation Zrotation Yrotation
    JOINT head
    {
      OFFSET 0 25 5
      CHANNELS 3 Zrotation Yrotation Xrotation
      End Site
      {
        OFFSET 0 10 0
      }
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.0333333
1 2 3 10 20 30 5 -5 15 40 50 -60 70 -80 90 1 2 3
4 5 6 -10 0 5 0 0 0 -40 10 20 30 -20 10 4 5 6
7 8 9 170 -60 -170 45 45 45 0 0 0 0 0 0 -90 89 90
""".replace("XYZ_PLACEHOLDER", "Xrotation Yrotation Zrotation")


@pytest.fixture
def small(write_file):
    return write_file("small.bvh", SMALL)


def test_reads_the_real_salsa_excerpt():
    m = read_bvh(SALSA)
    sk = m.skeleton
    assert len(sk.names) == 43 and sk.n_channels == 132 and m.values.shape == (360, 132)
    assert sk.names[0] == "hip" and sk.parents[0] == -1 and len(sk.end_sites) == 14
    assert sk.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")
    assert m.frame_time == pytest.approx(1 / 120, rel=1e-4)
    pos = joint_positions(sk, m.values)
    assert 75 < pos[1:, 0, 1].mean() < 90  # hip height in cm, as the dataset README measures


def test_write_then_read_gives_the_same_motion(small, tmp_path):
    m = read_bvh(small)
    write_bvh(m, tmp_path / "again.bvh")
    again = read_bvh(tmp_path / "again.bvh")
    assert again.skeleton == m.skeleton
    assert np.allclose(again.values, m.values, atol=1e-6) and again.frame_time == pytest.approx(m.frame_time)
    real = read_bvh(SALSA)
    assert read_bvh(_write(real, tmp_path / "salsa.bvh")).skeleton == real.skeleton


def _write(m: Motion, path: Path) -> Path:
    write_bvh(m, path)
    return path


BROKEN = {
    "missing MOTION": (lambda t: t.split("MOTION")[0], r"small.bvh:\d+: no MOTION section"),
    "frame count > rows": (lambda t: t.replace("Frames: 3", "Frames: 5"), r"small.bvh:\d+: declares Frames: 5 but has only 3"),
    "short row": (lambda t: t.replace("4 5 6 -10 0 5 ", "4 5 6 -10 "), r"small.bvh:43: frame 1 has 16 values, the hierarchy declares 18"),
    "non-number": (lambda t: t.replace("-40 10 20", "-40 1O 20"), r"small.bvh:43: frame 1: '1O' is not a number"),
    "unbalanced braces": (lambda t: t.replace("      OFFSET 0 10 0\n      }\n", "      OFFSET 0 10 0\n"),
                          r"small.bvh:\d+: file ends where '}' closing joint 'hips' \(opened on line 3\)"),
    "extra brace": (lambda t: t.replace("MOTION", "}\nMOTION"), r"small.bvh:\d+: unexpected '}' after the root joint closed"),
    "truncated in the hierarchy": (lambda t: t[: t.index("JOINT spine")], r"small.bvh:\d+: file ends where .* \(truncated\?\)"),
    "truncated in a row": (lambda t: t[: t.rindex(" 0 0 0 ")], r"small.bvh:44: frame 2 has \d+ values.*\(truncated\?\)"),
    "unknown channel": (lambda t: t.replace("Yrotation Xrotation Zrotation", "Yrotation Xrotaton Zrotation"),
                        r"small.bvh:\d+: unknown channel name 'Xrotaton' in joint 'rLeg'"),
    "nan value": (lambda t: t.replace("70 -80", "nan -80"), r"small.bvh:42: frame 0 holds NaN"),
    "bad frame time": (lambda t: t.replace("0.0333333", "-1"), r"small.bvh:\d+: Frame Time must be a positive"),
    "more rows than declared": (lambda t: t.replace("Frames: 3", "Frames: 2"), r"small.bvh:44: more motion rows than the 2"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_files_get_one_line_naming_the_line(case, write_file):
    edit, message = BROKEN[case]
    path = write_file("small.bvh", edit(SMALL))
    start = time.monotonic()
    with pytest.raises(SeqartError, match=message) as err:
        read_bvh(path)
    assert "\n" not in str(err.value) and time.monotonic() - start < 2


def test_cli_says_one_line_and_exits_2_on_a_broken_bvh(write_file):
    bad = write_file("data/broken.bvh", SMALL.replace("Frames: 3", "Frames: 400"))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "seqart.cli", "train", str(bad.parent), "--out", str(bad.parent / "run"),
                           "--steps", "1", "--quiet"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "broken.bvh:" in done.stderr and "Frames: 400" in done.stderr


def test_garbage_and_binary_files_fail_fast(write_file):
    for name, content in (("empty.bvh", ""), ("bin.bvh", bytes(range(256)) * 50), ("x.bvh", "HIERARCHY\nROOT {")):
        with pytest.raises(SeqartError, match=name):
            read_bvh(write_file(name, content))


@pytest.mark.parametrize("order", ["".join(p) for p in itertools.permutations("XYZ")])
def test_euler_matrix_round_trip_in_every_order(order):
    rng = np.random.default_rng(0)
    angles = rng.uniform([-180, -89, -180], [180, 89, 180], (200, 3))
    R = euler_to_matrix(angles, order)
    assert np.allclose(matrix_to_euler(R, order), angles, atol=1e-7)
    assert np.allclose(R @ np.swapaxes(R, -1, -2), np.eye(3), atol=1e-12)
    lock = euler_to_matrix(np.array([[30.0, 90.0, 20.0], [-50.0, -90.0, 10.0]]), order)  # gimbal lock
    assert np.allclose(euler_to_matrix(matrix_to_euler(lock, order), order), lock, atol=1e-7)


def test_euler_order_means_listed_axes_left_to_right():
    R = euler_to_matrix(np.array([90.0, 90.0, 0.0]), "ZX")
    assert np.allclose(R @ [0, 1, 0], [0, 0, 1], atol=1e-12)  # Rz(90) @ Rx(90) @ y = Rz(90) @ z = z


def test_6d_round_trip_and_any_six_numbers_give_a_rotation():
    rng = np.random.default_rng(1)
    R = euler_to_matrix(rng.uniform(-180, 180, (100, 3)), "ZXY")
    assert np.allclose(sixd_to_matrix(matrix_to_6d(R)), R, atol=1e-12)
    Q = sixd_to_matrix(rng.normal(size=(100, 6)))
    assert np.allclose(Q @ np.swapaxes(Q, -1, -2), np.eye(3), atol=1e-9) and np.allclose(np.linalg.det(Q), 1)


def _pybvh_positions(path: Path) -> tuple[list[str], np.ndarray]:
    python = peer("python")  # the peers venv's interpreter, which has pybvh installed
    code = ("import json,sys,warnings; warnings.filterwarnings('ignore'); import pybvh; "
            "b=pybvh.read_bvh_file(sys.argv[1]); print(json.dumps([list(b.joint_names), b.joint_positions().tolist()]))")
    done = subprocess.run([python, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    if "No module named 'pybvh'" in done.stderr:
        pytest.skip("pybvh is not installed in the peers venv")
    assert done.returncode == 0, done.stderr[-500:]
    names, pos = json.loads(done.stdout)
    return names, np.asarray(pos)


@pytest.mark.peer
def test_forward_kinematics_agrees_with_pybvh(small, tmp_path):
    for path in (small, _write(Motion(read_bvh(SALSA).skeleton, 1 / 120, read_bvh(SALSA).values[:40]), tmp_path / "s.bvh")):
        m = read_bvh(path)
        names, theirs = _pybvh_positions(path)
        ours = joint_positions(m.skeleton, m.values)
        assert names == list(m.skeleton.names)
        assert np.abs(ours - theirs).max() < 1e-4


@pytest.mark.peer
def test_written_bvh_passes_the_independent_readers(small, tmp_path):
    python = peer("python")
    script = Path(__file__).resolve().parents[2] / "shared" / "peers" / "check_bvh.py"
    if not script.exists():
        pytest.skip(f"{script} is not on this machine")
    path = _write(read_bvh(small), tmp_path / "out.bvh")
    done = subprocess.run([python, str(script), str(path), "--frames", "3", "--joints", "5", "--no-blender"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("PASS"), done.stdout + done.stderr
