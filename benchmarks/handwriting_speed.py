"""Handwriting synthesis speed: characters written per second, sampling at batch 1 on one CPU thread.

Times the project's real sampler (`Sampler.step()`: the numpy window network of
`seqart.window`, the MDN head, mixture and pen sampling) on a model of the
recipe's size (`recipes/handwriting.toml`: 3 x 128, K = 6, M = 20) or a trained
one (`--run`). Two figures:

* `step_us`: the median time of one pen point (every call timed on its own; a line
  that ends is restarted, untimed);
* `chars_per_s_cpu`: whole lines written through `Sampler.generate` (held-out phrases,
  Graves' stopping rule), characters over this process's CPU time, median over
  repeats (`chars_per_s_wall`: over wall time, which on a shared machine also
  counts the time other processes held the core); with
  random weights the window moves at its initial pace (20 points a character),
  so `chars_per_s_at_data_pace` also gives the rate at the synthetic set's own
  points per character (measured on the lines written here).

    .venv/bin/python benchmarks/handwriting_speed.py           # recipe size, ~1 min
    .venv/bin/python benchmarks/handwriting_speed.py --quick   # tiny (smoke test)
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
import time

import numpy as np
import torch

from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.handwriting.corpus import heldout_phrases
from seqart.codecs.handwriting.synthetic import write_set
from seqart.model import MDNLSTM, ModelConfig
from seqart.sample import Sampler

SIZES = {"full": {"hidden": 128, "layers": 3, "window": 6, "mixtures": 20, "lines": 10, "repeats": 5, "steps": 2000},
         "quick": {"hidden": 16, "layers": 2, "window": 2, "mixtures": 3, "lines": 2, "repeats": 1, "steps": 50}}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes and repeats")
    p.add_argument("--run", help="a trained handwriting run or model folder (default: random weights)")
    p.add_argument("--data", help="ignored (the data is the synthetic set, written here)")
    p.add_argument("--out", help="where to write the JSON (default benchmarks/results/handwriting_speed.json)")
    a = p.parse_args(argv)
    a.size = SIZES["quick" if a.quick else "full"]
    return a


def make_sampler(a, clips) -> tuple[Sampler, str]:
    if a.run:
        from seqart.modelio import load_model

        model, codec, _ = load_model(a.run)
        return Sampler(model, codec, seed=0, max_frames=4000), f"trained: {a.run}"
    codec = HandwritingCodec()
    codec.fit_norm(clips)
    s = a.size
    torch.manual_seed(0)
    cfg = ModelConfig(layout=codec.layout.to_json(), hidden=s["hidden"], layers=s["layers"], mixtures=s["mixtures"],
                      window_mixtures=s["window"])
    model = MDNLSTM(cfg).eval()
    with torch.no_grad():
        model.head.bias[-1] = -8.0  # the pen's "end" logit: lines end by the window, as a trained model's do
    return Sampler(model, codec, seed=0, max_frames=4000), "random init (torch seed 0), end-token logit bias -8"


def main(argv=None) -> None:
    a = parse_args(argv)
    result = _common.header("handwriting_speed")
    phrases = heldout_phrases(a.size["lines"], seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        write_set(tmp, len(phrases), seed=0, heldout=0, phrases=phrases)
        clips = HandwritingCodec().read(tmp)["all"]
    ppc = sum(len(c) - 1 for c in clips) / sum(len(c.meta["text"]) for c in clips)
    sampler, weights = make_sampler(a, clips)
    sampler.set_text(" ".join(phrases))  # long enough that the step timing never meets the stop rule
    steps = []
    for _ in range(a.size["steps"]):
        if sampler.done:  # the line ended (stop rule): start it again, untimed
            sampler.reset()
        t = time.perf_counter()
        sampler.step()
        steps.append(time.perf_counter() - t)
    cpu, wall, points = [], [], 0
    for _ in range(a.size["repeats"]):
        chars, t, c = 0, time.perf_counter(), time.process_time()
        for text in phrases:
            sampler.set_text(text)
            points += len(sampler.generate(4000)) - 1
            chars += len(text)
        cpu.append(chars / (time.process_time() - c))
        wall.append(chars / (time.perf_counter() - t))
    step_us = _common.summary(steps, scale=1e6, digits=1)
    result |= {"config": a.size | {"weights": weights, "data": "synthetic (write_set, seed 0, held-out phrases)"},
               "target": "none set: the issue asks for the figure",
               "step_us": step_us, "chars_per_s_cpu": round(float(np.median(cpu)), 1),
               "chars_per_s_wall": round(float(np.median(wall)), 1),
               "points_per_char_written": round(points / (a.size["repeats"] * sum(map(len, phrases))), 2),
               "data_points_per_char": round(ppc, 2),
               "chars_per_s_at_data_pace": round(1e6 / step_us["median"] / ppc, 1),
               "loadavg_end": _common.loadavg(), "peak_rss_mib": _common.peak_rss_mib()}
    _common.emit("handwriting_speed", result, a.out)


if __name__ == "__main__":
    main()
