"""Does a model trained under bf16 autocast reach the held-out NLL of fp32 training in the same steps?

Issue 10 asks for this beside the speed figure. Two runs of the project's real Trainer on the same
data, seed, batches and steps: one in fp32, one under bf16 autocast (the recurrent layers in bf16;
the mixture head, its log-sum-exp, the correlations and the loss in fp32, see seqart/precision.py).
Both are then scored in fp32 on the test split, so the figure compares what was learned, not how it
was evaluated.

On a CPU without native bf16 (no AVX-512 BF16 or AMX) `train.precision = bf16` is refused, because
it would only be slower; this benchmark then sets the trainer's resolved precision itself, so the
bf16 arithmetic is emulated. Its NLL is still the NLL bf16 training reaches; its step time is not a
speed figure there (the JSON says which case it was: "native_bf16"). The fused `nn.LSTM` has no
bf16 kernel on such a CPU, so both runs use the layer-normalised cell (model.cell = layernorm),
which is built from matmuls that autocast can lower.

    .venv/bin/python benchmarks/precision_parity.py                # 300 steps each, H 256
    .venv/bin/python benchmarks/precision_parity.py --quick        # tiny sizes, for the smoke test

Writes benchmarks/results/precision_parity.json (or --out).
"""

from __future__ import annotations

import _common as C  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
import time
from pathlib import Path

from seqart.config import defaults
from seqart.precision import cpu_has_bf16
from seqart.train import Trainer, evaluate

# "The same held-out NLL": within 1%, or within what two fp32 runs that differ only in their seed differ
# by (the third run is that control), whichever is larger.
TARGET = 0.01


def run(data: Path, precision: str, a: argparse.Namespace, seed: int) -> dict:
    """Train `a.steps` steps at `precision` in a fresh run folder; NLL on the test split in fp32."""
    cfg = defaults({})
    cfg["model"] |= {"hidden": a.hidden, "cell": "layernorm", "mixtures": a.mixtures, "z_dim": 0}
    cfg["train"] |= {"steps": a.steps, "batch_size": a.batch, "seed": seed, "threads": 1,
                     "precision": "fp32", "valid_every": a.steps, "checkpoint_minutes": 1e6}
    with tempfile.TemporaryDirectory() as tmp:
        t = Trainer(data, Path(tmp) / "run", cfg, progress=False)
        t.precision = precision  # see the docstring: emulated where the CPU has no bf16
        start = time.perf_counter()
        t.run()
        per_step = (time.perf_counter() - start) / a.steps  # validation and the one save included
        test = t.test_clips or t.valid_clips
        scored = evaluate(t.model, t.codec, test)
    return {"precision": precision, "seed": seed, "test_nll": round(scored["nll"], 4),
            "parts": {k: round(v, 4) for k, v in scored.items() if k not in ("nll", "frames")},
            "frames": scored["frames"], "seconds_per_step": round(per_step, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="drawings (default: aaron_sheep, else the shipped sample)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--mixtures", type=int, default=20)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.quick:
        a.steps, a.hidden, a.mixtures, a.batch = 4, 16, 3, 8
    data = C.sketch_data(a.data)
    result = C.header("precision_parity") | {
        "native_bf16": cpu_has_bf16(),
        "target": {"relative_difference_max": f"{TARGET} or the seed-to-seed difference, the larger"},
        "config": {"data": str(data), "steps": a.steps, "hidden": a.hidden, "mixtures": a.mixtures, "batch": a.batch,
                   "cell": "layernorm", "seed": a.seed}}
    runs = [run(data, "fp32", a, a.seed), run(data, "bf16", a, a.seed), run(data, "fp32", a, a.seed + 1)]
    fp32, bf16, other = runs
    result["runs"] = runs
    result["bf16_minus_fp32_nll"] = round(bf16["test_nll"] - fp32["test_nll"], 4)
    result["relative_difference"] = round(abs(bf16["test_nll"] - fp32["test_nll"]) / abs(fp32["test_nll"]), 4)
    # The control: how far two fp32 runs that differ only in their seed land apart after these steps.
    result["seed_to_seed_relative_difference"] = round(abs(other["test_nll"] - fp32["test_nll"]) / abs(fp32["test_nll"]), 4)
    result["target"]["met"] = result["relative_difference"] <= max(TARGET, result["seed_to_seed_relative_difference"])
    result["loadavg_end"] = C.loadavg()
    C.emit("precision_parity", result, a.out)


if __name__ == "__main__":
    main()
