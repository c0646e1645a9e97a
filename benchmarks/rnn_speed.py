"""The decoder's recurrence alone: forward+backward of each cell against the fused `nn.LSTM`, on one CPU thread.

Times one training pass (forward, `out.sum().backward()`) of the decoders
`seqart.rnn.make_decoder` builds, at sketch-rnn's size (B 100, T 250, input 6
= stroke-5 + start flag, H 512), interleaved round by round so that all share
the machine's noise:

* `lstm`: the fused `torch.nn.LSTM` (oneDNN), the default cell and the baseline;
* `layernorm`: the layer-normalised LSTM (seqart.rnn.LayerNormLSTM);
* `layernorm_rd`: the same with recurrent dropout 0.1;
* `lstm_rd`: the plain cell with recurrent dropout 0.1 (the looped recurrence with nn.LSTM's weights).

Each pass is timed in wall-clock time and in this process's CPU time (on a
shared machine the first includes waiting for a core). Each in fp32 and, where the CPU computes bf16 natively (AVX-512 BF16 or AMX),
under `torch.autocast("cpu", dtype=torch.bfloat16)`; elsewhere bf16 is
emulated, far slower than fp32, and only noted. Ratios are each cell's median
over the fused LSTM's median in the same precision, and the median of the
per-round ratios.

    .venv/bin/python benchmarks/rnn_speed.py            # full size, ~5 min on a loaded 2-core machine
    .venv/bin/python benchmarks/rnn_speed.py --quick    # tiny sizes, seconds (smoke test)

Prints one JSON object and writes it to benchmarks/results/rnn_speed.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import sys
import time
from contextlib import nullcontext

import torch

from seqart.model import ModelConfig
from seqart.precision import cpu_has_bf16
from seqart.rnn import make_decoder

TARGET_RATIO = 1.5  # issue 9: the layer-normalised LSTM within ~1.5x of nn.LSTM in the same precision
SIZES = {"full": {"batch": 100, "steps": 250, "input": 6, "hidden": 512, "repeats": 5},
         "quick": {"batch": 4, "steps": 12, "input": 6, "hidden": 16, "repeats": 2}}
CELLS = {"lstm": ("lstm", 0.0), "layernorm": ("layernorm", 0.0), "layernorm_rd": ("layernorm", 0.1),
         "lstm_rd": ("lstm", 0.1)}


def parse_args(argv=None) -> argparse.Namespace:
    p = _common.sized_args(__doc__, SIZES)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--cells", default=",".join(CELLS), help=f"comma-separated, from {', '.join(CELLS)}")
    p.add_argument("--bf16", choices=("auto", "yes", "no"), default="auto",
                   help="time bf16 autocast too (auto: only where the CPU has native bf16)")
    p.add_argument("--data", help=argparse.SUPPRESS)  # the smoke test passes it to every script; unused here
    p.add_argument("--seed", type=int, default=0)
    return _common.parse_sized(p, SIZES, "rnn_speed", argv)


def pass_fn(net: torch.nn.Module, x: torch.Tensor, bf16: bool):
    def run() -> None:
        net.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext():
            out, _ = net(x)
        out.float().sum().backward()
    return run


def interleave_wall_cpu(fns: dict, rounds: int) -> tuple[dict, dict]:
    """Each callable once per round, the order rotating: ({name: [wall s]}, {name: [CPU s of this process]}).

    On a shared machine the wall time includes the time the process waited for a core; its CPU
    time does not, so it shows the work itself (both are reported).
    """
    names = list(fns)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[: r % len(names)]:
            w0, c0 = time.perf_counter(), time.process_time()
            fns[n]()
            wall[n].append(time.perf_counter() - w0)
            cpu[n].append(time.process_time() - c0)
    return wall, cpu


def ratios(t: dict) -> dict:
    """Each cell's median over the fused LSTM's, and the median of the per-round ratios."""
    base = t["lstm"]
    return {"ratio_vs_lstm": {k: round(_common.med(v) / _common.med(base), 3) for k, v in t.items() if k != "lstm"},
            "ratio_vs_lstm_pairwise_median": {k: round(_common.med([s / b for s, b in zip(v, base)]), 3)
                                              for k, v in t.items() if k != "lstm"}}


def timings(a: argparse.Namespace, bf16: bool) -> dict:
    torch.manual_seed(a.seed)
    x = torch.randn(a.batch, a.steps, a.input)
    fns, errors = {}, {}
    for name in a.cells.split(","):
        cell, rec = CELLS[name]
        net = make_decoder(ModelConfig(cell=cell, hidden=a.hidden, layers=a.layers, recurrent_dropout=rec), a.input).train()
        fn = pass_fn(net, x, bf16)
        try:
            fn()  # also the warm-up
        except RuntimeError as e:  # e.g. oneDNN has no bf16 LSTM on CPUs without native bf16
            errors[name] = str(e).splitlines()[0][:200]
            continue
        fns[name] = fn
    wall, cpu = interleave_wall_cpu(fns, a.repeats)
    out = {"ms": {k: _common.summary(v) for k, v in wall.items()}, "cpu_ms": {k: _common.summary(v) for k, v in cpu.items()}}
    if "lstm" in wall:
        out |= ratios(wall)
        out["cpu"] = ratios(cpu)
    if errors:
        out["errors"] = errors
    return out


def main(argv=None) -> None:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    result = _common.header("rnn_speed")
    native = cpu_has_bf16()
    do_bf16 = a.bf16 == "yes" or (a.bf16 == "auto" and native)
    result["config"] = {"data": a.data, "batch": a.batch, "steps": a.steps, "input": a.input, "hidden": a.hidden,
                        "layers": a.layers, "repeats": a.repeats, "cells": {k: dict(zip(("cell", "recurrent_dropout"), CELLS[k]))
                                                                             for k in a.cells.split(",")},
                        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "native_bf16": native,
                        "what": "one forward + out.sum().backward() of the decoder alone, training mode"}
    result["fp32"] = timings(a, bf16=False)
    if do_bf16:
        result["bf16_autocast"] = timings(a, bf16=True)
    else:
        result["bf16_autocast"] = {"skipped": f"this CPU ({torch.backends.cpu.get_cpu_capability()}) has no native bf16: "
                                              "bf16 products are emulated, slower than fp32 (pass --bf16 yes to time them anyway)"}
    ratios = result["fp32"].get("ratio_vs_lstm", {})
    result["target"] = {"ratio_max": TARGET_RATIO, "layernorm_fp32_met": ratios.get("layernorm", 1e9) <= TARGET_RATIO}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("rnn_speed", result, a.out)


if __name__ == "__main__":
    main()
