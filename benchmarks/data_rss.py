"""Peak memory of training from a prepared cache when the data grows 10x (aaron_sheep repeated).

Makes aaron_sheep at 1x and 10x (every split's drawings repeated, read with
seqart's own .npz reader and written back in the pickle-free .npz layout),
prepares a cache of each (`seqart.shards.prepare`), and measures the peak
RSS of fresh child processes (their own VmHWM; see `own_peak_rss_mib`):

* train_cache: the real `Trainer` from the cache, `steps` steps at sketch-rnn's size, one
  validation over the whole (10x larger) valid split at the end. Training windows are
  `--max-len` 64 frames (most sheep are longer), so every batch is (B, 64): the activations'
  memory, which follows the longest batch drawn and would swing the peak by +-5%, is the same
  at both sizes and what is compared is the data's share;
* epoch_cache: one whole epoch of the trainer's batches (`seqart.data.Batches`: bucketing,
  augmentation, windows) from the cache with no model, so every shard byte is read once;
* train_memory: the same training from the .npz read into memory, for contrast.

Target (issue 10): train_cache and epoch_cache at 10x within 10% of 1x.

    .venv/bin/python benchmarks/data_rss.py            # about 5 min on a loaded 2-core machine
    .venv/bin/python benchmarks/data_rss.py --quick    # tiny sizes (smoke test)

Prints one JSON object and writes it to benchmarks/results/data_rss.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET = 1.10  # peak RSS at 10x / at 1x
SIZES = {"full": {"repeat": 10, "hidden": 512, "mixtures": 20, "batch": 100, "steps": 10, "max_len": 64},
         "quick": {"repeat": 3, "hidden": 16, "mixtures": 2, "batch": 8, "steps": 2, "max_len": 24}}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds per child)")
    p.add_argument("--data", help="a sketch-rnn .npz (default: aaron_sheep, else the shipped sample)")
    for k, v in SIZES["full"].items():
        p.add_argument(f"--{k.replace('_', '-')}", type=int, help=f"default {v} (quick: {SIZES['quick'][k]})")
    p.add_argument("--out", help="where to write the JSON (default benchmarks/results/data_rss.json)")
    p.add_argument("--child", nargs=2, metavar=("MODE", "DATA"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    for k, v in SIZES["quick" if a.quick else "full"].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    return a


def repeated_npz(src: Path, times: int, dest: Path) -> dict:
    """src's drawings, each split repeated `times` times, as a pickle-free .npz (stroke-3 end to end)."""
    from seqart.codecs.strokes import clip_to_stroke3
    from seqart.formats.sketches import read_npz

    arrays, counts = {}, {}
    for split, clips in read_npz(src, {}).items():
        drawings = [clip_to_stroke3(c) for c in clips] * times
        arrays[split] = np.concatenate(drawings).astype(np.float32)
        arrays[f"{split}_lengths"] = np.array([len(d) for d in drawings], np.int64)
        counts[split] = len(drawings)
    np.savez(dest, **arrays)
    return counts


# --- children: one fresh process per figure -------------------------------------------------


def child(mode: str, data: str, a: argparse.Namespace) -> dict:
    from seqart.config import defaults
    from seqart.data import Batches, open_codec, read_split
    from seqart.train import Trainer

    t0 = time.perf_counter()
    if mode == "epoch_cache":
        codec = open_codec(Path(data))
        clips = read_split(codec, Path(data)).clips["train"]
        batches = Batches(codec, clips, a.batch, 250, seed=0)  # sketch-rnn's Nmax: whole drawings
        n = len(batches._epoch())
        it = iter(batches)
        frames = sum(int(next(it)[1].sum()) for _ in range(n))
        out = {"batches": n, "frames": frames}
    else:
        cfg = defaults(open_codec(Path(data)).options)
        cfg["model"].update(hidden=a.hidden, mixtures=a.mixtures)
        cfg["train"].update(batch_size=a.batch, steps=a.steps, valid_every=a.steps, max_len=a.max_len, threads=1,
                            device="cpu")
        with tempfile.TemporaryDirectory() as run:
            tr = Trainer(Path(data), Path(run), cfg, progress=False)
            setup = own_peak_rss_mib()  # data read (or opened), model and Adam built
            result = tr.run()
        out = {"steps": result["step"], "train_clips": len(tr.train_clips), "valid_clips": len(tr.valid_clips),
               "valid_nll": round(result["best_valid_nll"], 4), "setup_peak_rss_mib": setup}
    return out | {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mib": own_peak_rss_mib()}


def own_peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: a child started from a big parent
    (fork or vfork, then exec) inherits the parent's high-water mark in ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return _common.peak_rss_mib()  # not Linux: the best there is


def run_child(mode: str, data: Path, a: argparse.Namespace) -> dict:
    args = [sys.executable, __file__, "--child", mode, str(data)]
    args += [f"--{k.replace('_', '-')}={getattr(a, k)}" for k in SIZES["full"]]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child {mode} {data} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    a = parse_args()
    if a.child:
        print(json.dumps(child(*a.child, a)))
        return
    from seqart.shards import prepare

    src = _common.sketch_data(a.data)
    result = _common.header("data_rss") | {"config": {"data": str(src), **{k: getattr(a, k) for k in SIZES["full"]},
                                                      "epoch_max_len": 250, "threads": 1}}
    figures: dict = {"train_cache": {}, "epoch_cache": {}, "train_memory": {}, "data": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for label, times in (("1x", 1), (f"{a.repeat}x", a.repeat)):
            npz, cache = Path(tmp) / f"sheep{times}.npz", Path(tmp) / f"cache{times}"
            counts = repeated_npz(src, times, npz)
            index = prepare(npz, cache, 64.0)
            size = sum(f.stat().st_size for f in cache.iterdir())
            figures["data"][label] = {"clips": counts, "cache_mib": round(size / 2**20, 1),
                                      "shards": sum(len(s["shards"]) for s in index["splits"].values())}
            for mode in ("train_cache", "epoch_cache", "train_memory"):
                figures[mode][label] = run_child(mode, cache if mode.endswith("cache") else npz, a)
    big = f"{a.repeat}x"
    for mode in ("train_cache", "epoch_cache", "train_memory"):
        f = figures[mode]
        f["ratio"] = round(f[big]["peak_rss_mib"] / f["1x"]["peak_rss_mib"], 3)
    met = all(figures[m]["ratio"] <= TARGET for m in ("train_cache", "epoch_cache"))
    result |= figures | {"target": {"ratio_at_most": TARGET, "of": ["train_cache", "epoch_cache"], "met": met},
                         "loadavg_end": _common.loadavg()}
    _common.emit("data_rss", result, a.out)


if __name__ == "__main__":
    main()
