"""The prepared cache: round trip, streamed batches equal in-memory ones, exact resume, ranks, damage."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqart import checkpoint, shards
from seqart.codecs.notes import NotesCodec
from seqart.codecs.strokes import StrokesCodec
from seqart.config import defaults, merge
from seqart.data import Batches, eval_batches
from seqart.errors import SeqartError
from seqart.splits import split_clips
from seqart.train import train

from tests.samples import DATASETS, SHEEP

TINY = ["model.hidden=32", "model.mixtures=4", "train.batch_size=16", "train.max_len=120", "train.threads=1"]


def cfg(*sets: str) -> dict:
    return merge(defaults(StrokesCodec().options), None, TINY + list(sets))


def seqart(*args, env=None):
    env = dict(os.environ, OMP_NUM_THREADS="1") | (env or {})
    return subprocess.run([sys.executable, "-m", "seqart.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """aaron_sheep_small (200/50/50 drawings) in shards of ~20 kB: about ten per split."""
    out = tmp_path_factory.mktemp("cache") / "sheep"
    shards.prepare(SHEEP, out, shard_mb=0.02)
    return out


def in_memory() -> tuple[StrokesCodec, dict]:
    codec = StrokesCodec()
    splits = split_clips(codec.read(SHEEP), codec)
    codec.fit_norm(splits["train"])
    return codec, splits


def test_round_trip_equals_the_in_memory_model_space_arrays(cache):
    codec, splits = in_memory()
    opened = shards.Cache(cache)
    index = json.loads((cache / "index.json").read_text())
    assert [index["splits"][k]["clips"] for k in ("train", "valid", "test")] == [200, 50, 50]
    assert len(index["splits"]["train"]["shards"]) > 5 and len(index["hash"]) == 64
    streamed = opened.codec()
    # the norm fitted from running moments over the training shards is the one fitted in memory
    assert np.allclose(streamed.norm.scale, codec.norm.scale, rtol=1e-6)
    for name, clips in splits.items():
        part = opened.split(name)
        assert len(part) == len(clips) and part.lengths.tolist() == [len(c) for c in clips]
        for i, clip in enumerate(clips):
            assert np.array_equal(codec.to_model(part[i]), codec.to_model(clip))
    assert shards.verify(cache)["hash"] == index["hash"]


@pytest.mark.parametrize("data, codec_class", [
    ("midi/nottingham", NotesCodec),  # the codec's own norm fit (pitch range, tempo)
    ("sketches/quickdraw_simplified", StrokesCodec),  # ndjson, split by file: clips' frames in Fortran order
])
def test_other_data_round_trips(tmp_path, data, codec_class):
    data = DATASETS / data
    shards.prepare(data, tmp_path / "c")
    codec = codec_class()
    splits = split_clips(codec.read(data), codec)
    codec.fit_norm(splits["train"])
    opened = shards.Cache(tmp_path / "c")
    theirs = opened.codec()
    assert theirs.options == codec.options  # notes: the pitch range and tempo fitted at prepare
    assert np.allclose(theirs.norm.shift, codec.norm.shift) and np.allclose(theirs.norm.scale, codec.norm.scale)
    part = opened.split("train")
    assert all(np.array_equal(codec.to_model(part[i]), codec.to_model(c)) for i, c in enumerate(splits["train"]))


def test_batches_from_the_cache_equal_those_from_memory(cache):
    """Bucketing, augmentation and windows run the same on shards as on clips in memory."""
    codec, splits = in_memory()
    a = iter(Batches(codec, splits["train"], 16, max_len=60, seed=5))
    b = iter(Batches(codec, shards.Cache(cache).split("train"), 16, max_len=60, seed=5))
    for _ in range(20):  # more than one epoch (13 batches)
        (xa, ma), (xb, mb) = next(a), next(b)
        assert torch.equal(xa, xb) and torch.equal(ma, mb)
    ea = list(eval_batches(codec, splits["valid"], 16, 60))
    eb = list(eval_batches(codec, shards.Cache(cache).split("valid"), 16, 60))
    assert len(ea) == len(eb) and all(torch.equal(x, y) for (x, _), (y, _) in zip(ea, eb))


def test_every_rank_a_disjoint_share_and_every_clip_once_per_epoch(cache):
    codec = shards.Cache(cache).codec()
    train_split = shards.Cache(cache).split("train")
    for world in (2, 3):
        seen = []
        for rank in range(world):
            b = Batches(codec, train_split, 16, seed=1, augment=False, rank=rank, world=world)
            seen.append([i for batch in b._epoch() for i in batch.tolist()])
            assert len(b._epoch()) == len(Batches(codec, train_split, 16, seed=1, world=world)._epoch())
        flat = [i for s in seen for i in s]
        assert sorted(flat) == list(range(200))


def test_resume_from_the_cache_goes_on_from_the_exact_sample(cache, tmp_path, monkeypatch):
    whole, split = tmp_path / "whole", tmp_path / "split"
    for run, steps in ((whole, [16]), (split, [7, 16])):  # 13 batches an epoch: the stop is mid-epoch
        monkeypatch.setenv("SEQART_SAMPLE_LOG", str(run) + "-ids")
        for n in steps:
            train(cache, run, cfg(f"train.steps={n}", "train.valid_every=7"), progress=False)
    ids = [Path(f"{run}-ids.rank0.jsonl").read_text().splitlines() for run in (whole, split)]
    assert len(ids[0]) == 16 and ids[0] == ids[1]
    ww, ws = checkpoint.load(whole / "latest", "model")[0], checkpoint.load(split / "latest", "model")[0]
    assert all(torch.allclose(ww[k], ws[k], atol=1e-6) for k in ww)


@pytest.mark.slow
def test_two_process_torchrun_sees_each_sample_once_per_epoch_across_a_resume(cache, tmp_path):
    """2 ranks x 7 batches an epoch; stopped at step 5 and resumed to 14: two whole epochs."""
    torchrun = Path(sys.executable).with_name("torchrun")
    run, log = tmp_path / "ddp", tmp_path / "ids"
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQART_SAMPLE_LOG=str(log))
    for steps in (5, 14):
        # --standalone: torchrun takes a free port of its own (other tests may run beside this one)
        cmd = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "seqart.cli", "train", str(cache),
               "--out", str(run), "--steps", str(steps), "--quiet",
               *[a for s in TINY + ["train.valid_every=5"] for a in ("--set", s)]]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    per_rank = [[json.loads(x) for x in Path(f"{log}.rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)]
    assert [len(p) for p in per_rank] == [14, 14]
    for epoch in (0, 1):
        shares = [[i for e in p if e["epoch"] == epoch for i in e["ids"]] for p in per_rank]
        assert not set(shares[0]) & set(shares[1])
        assert sorted(shares[0] + shares[1]) == list(range(200))
    meta = checkpoint.load(run / "latest", "trainer")[1]
    assert [(s["epoch"], s["pos"]) for s in meta["batches_by_rank"]] == [(1, 7), (1, 7)]  # the last batch of epoch 1


def test_prepare_refuses_an_existing_folder_and_leaves_nothing_on_bad_data(cache, tmp_path):
    done = seqart("prepare", SHEEP, "--out", cache)
    assert done.returncode == 2 and "already exists" in done.stderr and len(done.stderr.splitlines()) == 1
    bad = tmp_path / "bad.npz"
    np.savez(bad, train=np.array([[0.0, np.nan, 0.0]], np.float32))
    done = seqart("prepare", bad, "--out", tmp_path / "c")
    assert done.returncode == 2 and "bad.npz" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npz"]  # no cache, no temporary folder


def _copy(cache: Path, dest: Path) -> Path:
    dest.mkdir()
    for f in cache.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    return dest


@pytest.mark.parametrize("damage, message, cli", [
    ("rm frames", "missing shard", True), ("truncate frames", "damaged shard", False),
    ("rm offsets", "missing shard", False), ("bad offsets", "damaged offsets", False),
    ("rm index", "index.json: missing", True), ("garble index", "not a readable", False),
    ("edit index", "content hash does not match", False),
    ("fifo index", "index.json: is a FIFO", False), ("fifo frames", "frames.npy: not a regular file", False),
    ("fifo offsets", "offsets.npy: not a regular file", False),
])
def test_a_damaged_cache_is_one_clear_line_and_exit_2(cache, tmp_path, damage, message, cli):
    c = _copy(cache, tmp_path / "c")
    shard = c / "train-00003"
    if damage == "rm frames":
        Path(f"{shard}.frames.npy").unlink()
    elif damage == "truncate frames":
        data = Path(f"{shard}.frames.npy").read_bytes()
        Path(f"{shard}.frames.npy").write_bytes(data[:-100])
    elif damage == "rm offsets":
        Path(f"{shard}.offsets.npy").unlink()
    elif damage == "bad offsets":
        np.save(f"{shard}.offsets.npy", np.zeros(3, np.int64))
    elif damage == "rm index":
        (c / "index.json").unlink()  # still a folder of shards: read as a cache that lost its index
    elif damage.startswith("fifo"):  # opening one would wait for a writer forever
        name = {"index": c / "index.json", "frames": Path(f"{shard}.frames.npy"),
                "offsets": Path(f"{shard}.offsets.npy")}[damage.split()[1]]
        name.unlink()
        os.mkfifo(name)
    elif damage == "garble index":
        (c / "index.json").write_text("{not json")
    else:
        index = json.loads((c / "index.json").read_text())
        index["splits"]["train"]["shards"][0]["clips"] += 1
        (c / "index.json").write_text(json.dumps(index))
    with pytest.raises(SeqartError, match=message):
        shards.Cache(c).splits()
    if not cli:  # each command costs a torch start: two are enough to show the command's answer
        return
    sets = [a for s in TINY for a in ("--set", s)]
    done = seqart("train", c, "--out", tmp_path / "run", "--steps", "2", "--quiet", *sets)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "run" / "latest").exists()


def test_verify_finds_a_changed_byte(cache, tmp_path):
    c = _copy(cache, tmp_path / "c")
    path = c / "valid-00001.frames.npy"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(SeqartError, match="valid-00001.frames.npy: content does not match the index"):
        shards.verify(c)


@pytest.mark.slow
def test_data_rss_benchmark_reports_peak_rss_at_both_sizes(tmp_path):
    """benchmarks/data_rss.py --quick end to end (the figures are never asserted, only their shape)."""
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "rss.json"
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "data_rss.py"), "--quick", "--repeat", "2",
                           "--data", str(SHEEP), "--out", str(out)], capture_output=True, text=True, cwd=root,
                          env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout)
    assert json.loads(out.read_text()) == r and r["config"]["data"] == str(SHEEP)
    for mode in ("train_cache", "epoch_cache", "train_memory"):
        assert r[mode]["1x"]["peak_rss_mib"] > 0 and r[mode]["2x"]["peak_rss_mib"] > 0 and r[mode]["ratio"] > 0
    assert r["data"]["2x"]["clips"]["train"] == 2 * r["data"]["1x"]["clips"]["train"] == 400
    assert r["epoch_cache"]["2x"]["batches"] > r["epoch_cache"]["1x"]["batches"]
    assert isinstance(r["target"]["met"], bool)


def test_several_data_make_one_cache_read_one_at_a_time(tmp_path):
    """Two class files: each split alone, written in turn; the norm is fitted over both training parts."""
    files = [DATASETS / "sketches" / "quickdraw_simplified" / f"{name}.ndjson" for name in ("cat", "owl")]
    index = shards.prepare(files, tmp_path / "c")
    codec = StrokesCodec()
    made = [split_clips(codec.read(f), codec) for f in files]
    codec.fit_norm(made[0]["train"] + made[1]["train"])
    opened = shards.Cache(tmp_path / "c")
    assert np.allclose(opened.codec().norm.scale, codec.norm.scale, rtol=1e-6)
    for name in ("train", "valid", "test"):
        expected = made[0].get(name, []) + made[1].get(name, [])
        part = opened.split(name)
        assert len(part) == len(expected) > 0
        assert all(np.array_equal(codec.to_model(part[i]), codec.to_model(c)) for i, c in enumerate(expected))
    assert index["source"] == ["cat.ndjson", "owl.ndjson"] and "cat.ndjson: by file" in index["split"]["rule"]
    with pytest.raises(SeqartError, match="nottingham: notes, but .*cat.ndjson is strokes"):
        shards.prepare([files[0], DATASETS / "midi" / "nottingham"], tmp_path / "d")
    assert not (tmp_path / "d").exists()
