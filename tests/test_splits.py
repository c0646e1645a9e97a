"""Splits hold data out for any size of data set: by file when there are files enough, in time when not."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np

from seqart.clip import Clip
from seqart.codecs.poses import PosesCodec
from seqart.codecs.strokes import StrokesCodec, stroke3_to_clip
from seqart.splits import describe_split, group_split, make_split, split_clips
from tests.samples import DATASETS, SHEEP


def clip(group: str, n: int = 30, **meta) -> Clip:
    frames = np.column_stack([np.arange(n), np.ones(n), np.zeros(n), np.zeros(n)])
    return Clip(frames, ("dt", "dur", "pitch", "velocity"), "notes", time_channel="dt", meta={"group": group} | meta)


def groups_of(clips) -> set[str]:
    return {c.meta["group"] for c in clips}


def test_big_folders_keep_the_hash_split():
    clips = [clip(f"tune{i}") for i in range(300)]
    out = split_clips({"all": clips})
    for name in ("train", "valid", "test"):
        assert out[name] and all(group_split(c.meta["group"]) == name for c in out[name])


def test_a_small_folder_always_holds_out_valid_and_test_by_file():
    for n in (3, 4, 10, 25):
        files = [clip(f"dance_{i:02d}") for i in range(n)]
        a, b = make_split({"all": files}), make_split({"all": list(reversed(files))})
        for name in ("train", "valid", "test"):
            assert a.clips[name], (n, name)
            assert groups_of(a.clips[name]) == groups_of(b.clips[name])  # by name, not by order
        assert sum(len(v) for v in a.clips.values()) == n  # every file once, none cut
        assert not (groups_of(a.clips["train"]) & groups_of(a.clips["test"]))


def test_a_file_in_chunks_stays_in_one_split():
    files = [clip(f"f{i}", chunk=k) for i in range(6) for k in range(4)]
    out = split_clips({"all": files})
    where = {}
    for name, clips in out.items():
        for c in clips:
            where.setdefault(c.meta["group"], set()).add(name)
    assert all(len(s) == 1 for s in where.values())


def test_a_single_file_is_split_in_time_train_first():
    whole = clip("solo", n=200)
    split = make_split({"all": [whole]})
    parts = [split.clips[k] for k in ("train", "valid", "test")]
    assert all(len(p) == 1 for p in parts)
    train, valid, test = (p[0] for p in parts)
    assert len(train) + len(valid) + len(test) == 200 and len(train) >= 0.85 * 200
    # In order, without overlap: train, then valid, then test (the frames hold their own index).
    assert train.frames[-1, 0] + 1 == valid.frames[0, 0] and valid.frames[-1, 0] + 1 == test.frames[0, 0]
    assert test.frames[-1, 0] == 199
    assert "in time" in split.rule and "solo" in describe_split(split)


def test_a_single_file_in_chunks_holds_out_its_last_chunks():
    chunks = [clip("solo", chunk=k) for k in range(10)]
    out = split_clips({"all": chunks})
    assert [c.meta["chunk"] for c in out["train"]] == list(range(8))
    assert [c.meta["chunk"] for c in out["valid"]] == [8] and [c.meta["chunk"] for c in out["test"]] == [9]


def test_drawings_are_never_cut():
    codec = StrokesCodec()
    drawing = stroke3_to_clip(np.tile([[5.0, 3.0, 0.0]], (40, 1)), group="one.svg")
    split = make_split({"all": [drawing]}, codec)
    assert split.clips["train"] == [drawing] and not split.clips.get("test")
    assert "not cut" in split.rule and "test: none" in describe_split(split)


def test_data_with_its_own_split_keeps_it():
    splits = StrokesCodec().read(SHEEP)
    out = make_split(splits, StrokesCodec())
    assert all(out.clips[k] == splits[k] for k in ("train", "valid", "test"))
    assert out.rule == "the data's own split"


def test_ten_bvh_files_train_and_evaluate_with_what_was_held_out(tmp_path):
    folder = tmp_path / "dances"
    folder.mkdir()
    for i in range(10):
        shutil.copy(DATASETS / "mocap" / ("salsa_12_excerpt.bvh" if i % 2 else "salsa_27_excerpt.bvh"),
                    folder / f"take_{i:02d}.bvh")
    codec = PosesCodec({"fps": 10.0, "source_fps": 60.0})
    split = make_split(codec.read(folder), codec)
    assert split.clips["test"] and split.clips["valid"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cli = [sys.executable, "-m", "seqart.cli"]
    done = subprocess.run(cli + ["train", str(folder), "--out", str(tmp_path / "run"), "--steps", "2",
                                 "--hidden", "8", "--mixtures", "1", "--set", "codec.fps=10",
                                 "--set", "codec.source_fps=60", "--set", "train.valid_every=2"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    held = {c.meta["group"] for c in split.clips["test"]}
    printed = next(line for line in done.stderr.splitlines() if line.startswith("  test:"))
    assert all(name in printed for name in held)  # the split is printed at the start of training
    done = subprocess.run(cli + ["eval", str(tmp_path / "run"), str(folder)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["held_out"]["names"]) == held and "by file" in result["held_out"]["rule"]
    assert np.isfinite(result["nll"]) and np.isfinite(result["model_space"]["nll"])
