"""Notes: training throughput and the sampling step, in notes per second, on one thread.

    .venv/bin/python benchmarks/notes_speed.py [--data DIR_OR_FILE] [--model seqart/models/nottingham]

Training: Adam steps of the recipe's model (recipes/nottingham.toml sizes unless
--hidden/--mixtures/--batch/--max-len say otherwise) on real Nottingham windows;
throughput = real (unpadded) notes per second of wall time, median over steps.
Sampling: `Sampler.step()` of the shipped model (or a fresh one of the recipe's
size), one note at a time at batch 1, the same call the live engine makes.
"""

from __future__ import annotations

import _common as C  # noqa: I001 - pins threads before numpy/torch load

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from seqart.codecs.notes import NotesCodec
from seqart.data import Batches
from seqart.model import MDNLSTM, ModelConfig
from seqart.sample import Sampler
from seqart.splits import split_clips

SHARED = C.ROOT.parent / "shared" / "datasets" / "midi" / "nottingham"
SHIPPED = C.ROOT / "datasets" / "midi" / "nottingham"


def train_speed(clips, codec, hidden, mixtures, batch, max_len, steps) -> dict:
    model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=hidden, mixtures=mixtures, dropout=0.1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    it = iter(Batches(codec, clips, batch, max_len, seed=0))
    times, notes = [], []
    for i in range(steps + 2):
        x, mask = next(it)
        t = time.perf_counter()
        _, losses = model(x, mask)
        opt.zero_grad()
        losses["nll"].backward()
        opt.step()
        if i >= 2:  # first steps warm up allocators and oneDNN kernels
            times.append(time.perf_counter() - t)
            notes.append(int(mask.sum()))
    rate = np.array(notes) / np.array(times)
    return {"hidden": hidden, "mixtures": mixtures, "batch_size": batch, "max_len": max_len, "steps": steps,
            "step_ms": C.summary(times), "notes_per_step_median": float(np.median(notes)),
            "notes_per_s": {"median": round(float(np.median(rate)), 1), "p10": round(float(np.percentile(rate, 10)), 1),
                            "p90": round(float(np.percentile(rate, 90)), 1)}}


def sample_speed(model, codec, n: int) -> dict:
    s = Sampler(model, codec, temperature=1.0, seed=0)
    for _ in range(50):
        s.step()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        s.step()
        times.append(time.perf_counter() - t)
    med = C.med(times)
    return {"hidden": model.cfg.hidden, "mixtures": model.cfg.mixtures, "notes": n,
            "step_us": C.summary(times, 1e6, 1), "notes_per_s": round(1.0 / med, 1),
            "p99_us": round(float(np.percentile(times, 99)) * 1e6, 1), "midi_budget_us": 1000,
            "p99_within_budget": bool(np.percentile(times, 99) < 1e-3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--model", default=str(C.ROOT / "seqart" / "models" / "nottingham"))
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--mixtures", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=200)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sample-notes", type=int, default=2000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    data = Path(a.data) if a.data else SHARED if SHARED.exists() else SHIPPED
    codec = NotesCodec()
    clips = split_clips(codec.read(data), codec)["train"]
    codec.fit_norm(clips)
    result = C.header("notes_speed") | {"data": str(data), "train_clips": len(clips)}
    result["train"] = train_speed(clips, codec, a.hidden, a.mixtures, a.batch, a.max_len, a.steps)
    if (Path(a.model) / "model.json").exists():
        from seqart.modelio import load_model

        model, mcodec, _ = load_model(Path(a.model))
        result["sample_model"] = str(Path(a.model).relative_to(C.ROOT) if Path(a.model).is_absolute() else a.model)
    else:
        model, mcodec = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=a.hidden, mixtures=a.mixtures)), codec
        result["sample_model"] = "untrained, recipe size"
    model.eval()
    result["sample"] = sample_speed(model, mcodec, a.sample_notes)
    result["peak_rss_mib"] = C.peak_rss_mib()
    result["loadavg_end"] = C.loadavg()
    C.emit("notes_speed", result, a.out)


if __name__ == "__main__":
    main()
