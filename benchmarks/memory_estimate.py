"""How seqart.memory's estimate of a training run compares with the memory it really takes.

`seqart train` refuses a model and batch whose estimate passes SEQART_MAX_MEMORY_MB (seqart/memory.py)
before anything is allocated. This measures, for a few sizes, the estimate against the peak RSS a
fresh process really gains (VmHWM after two training steps on a full window, less its RSS before the
Trainer was made), less what the same process gains with a one-unit model (`FLOOR`: lazy imports,
the data, the allocator's first arenas, which the estimate leaves out). The estimate should not fall
short, and should not overshoot by much more than 2x, or the limit would refuse what fits.

    OMP_NUM_THREADS=1 python benchmarks/memory_estimate.py [--quick] [--data DRAWINGS] [--out FILE]

DRAW sizes rasterise the drawings into a canvas (`--modality canvas`). Writes
benchmarks/results/memory_estimate.json.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy/torch load)

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = {  # (family, hidden, batch, window or glimpses)
    "full": [("mdn", 128, 32, 250), ("mdn", 512, 32, 250), ("mdn", 512, 100, 250), ("mdn", 1024, 100, 250),
             ("draw", 256, 100, 16), ("draw", 256, 100, 64)],
    "quick": [("mdn", 16, 4, 20)],  # two fresh processes with the floor: the smoke test's time
}


def config(family: str, hidden: int, batch: int, steps: int) -> dict:
    from seqart.codecs import codec_class
    from seqart.config import defaults

    codec = codec_class("canvas" if family == "draw" else "strokes")()
    cfg = defaults(codec.options, family)
    if family == "draw":
        cfg["model"].update(enc_hidden=hidden, dec_hidden=hidden, glimpses=steps)
    else:
        cfg["model"].update(hidden=hidden)
        cfg["train"]["max_len"] = steps
    cfg["train"].update(batch_size=batch, threads=1, device="cpu", precision="fp32")
    return cfg


def vm(key: str) -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(key))
    return int(line.split()[1]) / 1024


def child(spec: str, data: str) -> None:
    """One size in a fresh process: print the estimate and the RSS the training gained (MiB)."""
    import numpy as np

    from seqart import memory
    from seqart.data import pad
    from seqart.train import Trainer

    family, hidden, batch, steps = json.loads(spec)
    cfg = config(family, hidden, batch, steps)
    before = vm("VmRSS")
    with tempfile.TemporaryDirectory() as d:
        tr = Trainer(Path(data), Path(d) / "run", cfg, progress=False, modality="canvas" if family == "draw" else None)
        if family == "draw":
            x, mask = next(iter(tr.batches))
        else:  # a full window: every sequence padded to exactly `steps` frames, as the estimate assumes
            arrays = [tr.codec.to_model(c)[:steps] for c in tr.train_clips[:batch]]
            arrays = (arrays * (batch // len(arrays) + 1))[:batch] + [np.zeros((steps, arrays[0].shape[1]), np.float32)]
            x, mask = (t[:-1].contiguous() for t in pad(arrays))
        for _ in range(2):
            tr._train_step(tr.model, x, mask)
        estimate = memory.training_bytes(tr.family, cfg, tr.codec) / 2**20
    print(json.dumps({"estimate_mib": round(estimate, 1), "measured_mib": round(vm("VmHWM") - before, 1),
                      "batch_shape": list(x.shape)}))


def main() -> None:
    p = _common.sized_args(__doc__, {"full": {}, "quick": {}})
    p.add_argument("--data", help="drawings (default: aaron_sheep, else the shipped sample)")
    p.add_argument("--child", help=argparse_suppress())
    a = _common.parse_sized(p, {"full": {}, "quick": {}}, "memory_estimate")
    data = str(_common.sketch_data(a.data))
    if a.child:
        return child(a.child, data)
    result = _common.header("memory_estimate") | {"config": {"data": data, "quick": a.quick, "floor": FLOOR},
                                                  "target": TARGET, "sizes": []}
    sizes = SIZES["quick" if a.quick else "full"]
    floors = {f: run_child(data, f, *FLOOR) for f in dict.fromkeys(s[0] for s in sizes)}
    for family, hidden, batch, steps in sizes:
        got = run_child(data, family, hidden, batch, steps)
        gained = round(got["measured_mib"] - floors[family]["measured_mib"], 1)
        result["sizes"].append({"family": family, "hidden": hidden, "batch": batch,
                                "window" if family == "mdn" else "glimpses": steps} | got
                               | {"floor_mib": floors[family]["measured_mib"], "measured_over_floor_mib": gained,
                                  "estimate_over_measured": round(got["estimate_mib"] / max(gained, 0.1), 2)})
    ratios = [s["estimate_over_measured"] for s in result["sizes"]]
    result["summary"] = {"min_ratio": min(ratios), "median_ratio": _common.med(ratios), "max_ratio": max(ratios),
                         "never_short": min(ratios) >= 1.0,
                         "met": TARGET["estimate_over_measured"][0] <= min(ratios) and max(ratios) <= TARGET["estimate_over_measured"][1]}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("memory_estimate", result, a.out)


TARGET = {"estimate_over_measured": [1.0, 3.0]}  # never short; not so far over that the limit refuses what fits
FLOOR = (1, 1, 2)  # hidden, batch, window: the same process with (almost) no model, whose gain is subtracted
# (imports done lazily, the data read, the allocator's own first arenas: what the estimate leaves out)


def run_child(data: str, family: str, hidden: int, batch: int, steps: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--data", data, "--child", json.dumps([family, hidden, batch, steps])],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
