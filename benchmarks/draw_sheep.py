"""DRAW on rasterised sheep: attention against no attention, -ELBO in nats per test drawing.

The issue's second comparison, beside draw_mnist.py's digits (whose scoring it shares). The
data is aaron_sheep.npz (sketch-rnn stroke-3, 7,400 / 300 / 300 drawings in its own train /
valid / test split, the same for both models), rasterised by the canvas codec as it reads it:
each drawing scaled to fit 24 x 24 pixels inside a 28 x 28 image, keeping its aspect, drawn
with 1.5-pixel round lines, then thresholded at half a pixel's coverage (recipes/draw_sheep_cpu.toml;
the bits depend on nothing random, so every epoch, both models and `seqart eval` see the same).

    seqart train aaron_sheep.npz --modality canvas --out runs/draw_sheep_att  --config recipes/draw_sheep_cpu.toml
    seqart train aaron_sheep.npz --modality canvas --out runs/draw_sheep_none --config recipes/draw_sheep_cpu.toml \\
        --set model.attention=false
    .venv/bin/python benchmarks/draw_sheep.py --score runs/draw_sheep_att runs/draw_sheep_none --data aaron_sheep.npz \\
        --png docs/img/draw_sheep.png

`--png` writes a figure of the attention run: 32 held-out test sheep as the model sees them
(top four rows) above 32 of its samples (bottom four, temperature 1, seed 0).

Prints one JSON object and writes it to benchmarks/results/draw_sheep.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
from pathlib import Path

import numpy as np

from draw_mnist import score

ROWS, COLUMNS = 4, 8  # each half of the figure: 32 canvases


def figure(run: str, data: str, path: Path) -> dict:
    """Test images over samples, as one PNG grid of finished canvases (the canvas writer's)."""
    from seqart.api import load, save
    from seqart.modelio import load_model
    from seqart.data import read_split

    _, codec, _ = load_model(Path(run))
    real = read_split(codec, Path(data)).clips["test"][: ROWS * COLUMNS]
    samples = load(run).sample(ROWS * COLUMNS, temperature=1.0, seed=0)
    save(real + list(samples), str(path), columns=COLUMNS, scale=3)
    ink = [float(np.mean(c.frames[-1, 4:])) for c in samples]
    return {"png": str(path), "top": f"{len(real)} test images", "bottom": f"{len(samples)} samples, temperature 1, seed 0",
            "ink_share_samples": round(float(np.mean(ink)), 4),
            "ink_share_test": round(float(np.mean([c.frames[-1, 4:].mean() for c in real])), 4)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--score", nargs="+", metavar="RUN", required=True, help="run folders to score on the test split")
    p.add_argument("--data", default=str(_common.SHARED_SHEEP), help="the drawings the runs trained on (aaron_sheep.npz)")
    p.add_argument("--png", help="write the figure (test sheep over the attention run's samples) here")
    p.add_argument("--out", help="JSON destination (default benchmarks/results/draw_sheep.json)")
    a = p.parse_args(argv)
    result = _common.header("draw_sheep")
    result["scores"] = score(a.score, a.data) | {
        "units": "nats per image (-ELBO), 28 x 28 rasterised and thresholded, the .npz's test split"}
    if a.png:
        att = result["scores"].get("attention", {}).get("run") or a.score[0]
        result["figure"] = figure(att, a.data, Path(a.png))
    result["loadavg_end"] = _common.loadavg()
    _common.emit("draw_sheep", result, a.out)
    return result


if __name__ == "__main__":
    main()
