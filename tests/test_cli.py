"""The command line end to end in a temp folder, and its answers to bad input."""

import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tests.samples import SHEEP

TINY = ["--hidden", "32", "--mixtures", "4", "--batch-size", "16",
        "--set", "train.max_len=120", "--set", "train.valid_every=10"]


def seqart(*args, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "seqart.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    done = seqart("train", SHEEP, "--out", out, "--steps", "20", "--quiet", *TINY)
    assert done.returncode == 0, done.stderr
    return out


def test_train_sample_eval(run, tmp_path):
    for ext in (".svg", ".png", ".gif"):
        done = seqart("sample", run, "--out", tmp_path / f"s{ext}", "-n", "4", "--temperature", "0.6", "--seed", "3")
        assert done.returncode == 0, done.stderr
        assert (tmp_path / f"s{ext}").stat().st_size > 100
    done = seqart("eval", run, SHEEP, "--split", "test")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["frames"] > 1000 and result["split"] == "test"
    assert np.isclose(result["nll"], result["dx+dy"] + result["pen"])


def test_same_seed_gives_byte_identical_files(run, tmp_path):
    for ext, seeds in ((".svg", (11, 11, 12)), (".png", (11, 11))):  # another seed, other bytes: once is enough
        paths = [tmp_path / f"{name}{ext}" for name in "abc"[: len(seeds)]]
        for path, seed in zip(paths, seeds):
            assert seqart("sample", run, "--out", path, "-n", "3", "--seed", seed).returncode == 0
        files = [p.read_bytes() for p in paths]
        assert files[0] == files[1] and all(f != files[0] for f in files[2:])


def test_prime_continues_a_drawing(run, tmp_path):
    done = seqart("sample", run, "--out", tmp_path / "p.svg", "--prime", SHEEP, "--seed", "1")
    assert done.returncode == 0, done.stderr


def test_training_again_resumes(run):
    done = seqart("train", SHEEP, "--out", run, "--steps", "30", "--quiet", *TINY)
    assert done.returncode == 0, done.stderr
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30]


def test_vae_interpolates(tmp_path):
    vae = tmp_path / "vae"
    done = seqart("train", SHEEP, "--out", vae, "--steps", "10", "--quiet", *TINY,
                  "--set", "model.z_dim=8", "--set", "model.enc_hidden=16")
    assert done.returncode == 0, done.stderr
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    np.savez(a, test=np.array([[5, 0, 0], [0, 5, 0], [-5, 0, 1]], np.int16))
    np.savez(b, test=np.array([[0, -9, 0], [9, 0, 1]], np.int16))
    done = seqart("interpolate", vae, a, b, "--out", tmp_path / "morph.svg", "--steps", "5")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "morph.svg").read_text().count("<g") >= 5


def _one_line_error(done, *words):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_bad_input_gets_one_line_and_status_2(run, tmp_path):
    _one_line_error(seqart("train", tmp_path / "nope.npz", "--out", tmp_path / "r"), "nope.npz")
    _one_line_error(seqart("train", SHEEP, "--out", tmp_path / "r", "--set", "train.stpes=3"), "train.stpes")
    _one_line_error(seqart("train", SHEEP, "--out", tmp_path / "r", "--set", "model.hidden=big"), "model.hidden")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[model]\nhiden = 3\n")
    _one_line_error(seqart("train", SHEEP, "--out", tmp_path / "r", "--config", bad_toml), "model.hiden")
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(SHEEP.read_bytes()[:500])
    _one_line_error(seqart("train", truncated, "--out", tmp_path / "r"), "cut.npz")
    _one_line_error(seqart("train", SHEEP, "--out", tmp_path / "r", "--init", tmp_path / "nomodel"), "nomodel")
    _one_line_error(seqart("sample", run, "--out", tmp_path / "x.doc"), "x.doc")
    _one_line_error(seqart("sample", tmp_path / "norun", "--out", tmp_path / "x.svg"), "norun")
    _one_line_error(seqart("sample", run, "--out", tmp_path / "x.svg", "--temperature", "-1"), "temperature")
    assert not (tmp_path / "r" / "latest").exists()


def test_impossible_settings_fail_before_anything_is_made(tmp_path):
    _one_line_error(seqart("train", SHEEP, "--out", tmp_path / "r", "--steps", "-1"), "train.steps = -1 is out of range")
    _one_line_error(seqart("train", SHEEP, "--out", tmp_path / "r", "--set", "train.lr=-1"), "train.lr")
    assert not (tmp_path / "r").exists()
    _one_line_error(seqart("sample", "sheep", "--out", tmp_path / "s.svg", "--temperature", "nan"), "--temperature")
    _one_line_error(seqart("sample", "sheep", "--out", tmp_path / "s.svg", "--frames", "-1"), "--frames")
    assert not (tmp_path / "s.svg").exists()
    (tmp_path / "file").write_text("not a folder")
    _one_line_error(seqart("demo", "--out", tmp_path / "file" / "demo"), "file/demo: cannot create this folder")


def test_pickled_payload_in_npz_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(evil, "w") as zf:
        header = b"\x93NUMPY\x01\x00" + b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".ljust(117) + b"\n"
        zf.writestr("train.npy", header + pickle.dumps(np.array([Payload()], dtype=object)))
    _one_line_error(seqart("train", evil, "--out", tmp_path / "r"), "evil.npz")
    assert not marker.exists()


def test_corrupt_checkpoint_is_a_clear_error(run, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run / "best", broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 40)
    _one_line_error(seqart("sample", broken, "--out", tmp_path / "x.svg"), "model.safetensors")
