"""Training throughput on this machine's cores: one thread, two threads, or two one-thread processes.

The machine has 2 cores. One process can use both through intra-op threads
(`train.threads = 2`), or two processes of one thread each can train data-
parallel under torchrun (DDP over gloo, each rank its own share of the
batches, gradients averaged every step). This script runs the project's real
training step (`Trainer._train_step` on aaron_sheep through the real codec
and batches) in each setting and reports drawings per second.

    .venv/bin/python benchmarks/train_scaling.py            # sketch-rnn's size, ~6 min on a quiet machine
    .venv/bin/python benchmarks/train_scaling.py --quick    # tiny sizes (smoke test)

Each rank trains batches of B drawings, so two processes take 2B drawings a
step: a run with them reaches a given number of epochs in half the steps
(scale train.steps down, or the batch size, to keep the schedule).
Prints one JSON object and writes it to benchmarks/results/train_scaling.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist

from seqart.config import defaults
from seqart.train import Trainer

SIZES = {"full": {"hidden": 512, "mixtures": 20, "batch": 100, "max_len": 250, "steps": 12, "warmup": 2},
         "quick": {"hidden": 32, "mixtures": 3, "batch": 8, "max_len": 24, "steps": 3, "warmup": 1}}
SETTINGS = [("1 process x 1 thread", 1, 1), ("1 process x 2 threads", 1, 2), ("2 processes x 1 thread", 2, 1)]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--data")
    p.add_argument("--out")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # threads, inside one setting
    a = p.parse_args(argv)
    a.size = SIZES["quick" if a.quick else "full"]
    return a


def worker(a: argparse.Namespace) -> None:
    """One setting: time the real training step; rank 0 prints drawings per second."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("gloo")
    s = a.size
    cfg = defaults({})
    cfg["model"].update(hidden=s["hidden"], mixtures=s["mixtures"], dropout=0.1)
    cfg["train"].update(batch_size=s["batch"], max_len=s["max_len"], threads=a.worker, device="cpu", precision="fp32")
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(_common.sketch_data(a.data), Path(tmp), cfg, progress=False)
        net = torch.nn.parallel.DistributedDataParallel(tr.model) if world > 1 else tr.model
        batches = iter(tr.batches)
        for _ in range(s["warmup"]):
            tr._train_step(net, *next(batches))
        if world > 1:
            dist.barrier()
        t = time.perf_counter()
        for _ in range(s["steps"]):
            tr._train_step(net, *next(batches))
        if world > 1:
            dist.barrier()
        seconds = time.perf_counter() - t
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"RESULT {s['steps'] * s['batch'] * world / seconds:.3f} {seconds / s['steps']:.4f}", flush=True)
    if world > 1:
        dist.destroy_process_group()


def run_setting(a: argparse.Namespace, procs: int, threads: int) -> dict:
    script = str(Path(__file__).resolve())
    args = [script, "--worker", str(threads)] + (["--quick"] if a.quick else []) + (["--data", a.data] if a.data else [])
    if procs > 1:
        cmd = [str(Path(sys.executable).with_name("torchrun")), "--standalone", f"--nproc_per_node={procs}", *args]
    else:
        cmd = [sys.executable, *args]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"setting {procs}x{threads} failed:\n{done.stderr[-3000:]}")
    per_s, step_s = map(float, line.split()[1:])
    return {"drawings_per_s": round(per_s, 2), "seconds_per_step": round(step_s, 3)}


def main() -> None:
    a = parse_args()
    if a.worker:
        return worker(a)
    load_before = _common.loadavg()
    results = {name: run_setting(a, procs, threads) for name, procs, threads in SETTINGS}
    base = results[SETTINGS[0][0]]["drawings_per_s"]
    for r in results.values():
        r["speedup"] = round(r["drawings_per_s"] / base, 2)
    _common.emit("train_scaling", {
        "benchmark": "train_scaling", "command": _common.command(), "machine": _common.machine(),
        "loadavg_start": load_before, "loadavg_end": _common.loadavg(),
        "config": {"data": str(_common.sketch_data(a.data)), **a.size},
        "target": "issue 10: twice the drawings per second on the same CPU", "settings": results,
    }, a.out)


if __name__ == "__main__":
    main()
