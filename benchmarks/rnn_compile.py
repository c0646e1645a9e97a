"""Would a compiler speed up the layer-normalised LSTM's steps? torch.compile and TorchScript against eager, one thread.

`seqart.rnn` runs each time step's element-wise work (two layer norms, the
gates, the cell) as a handful of eager torch ops, forward and backward, beside
one matrix product per step. This script times that per-step element-wise
work alone at B 100, H 512 (the same math as `seqart.rnn._Recurrence`'s step,
written here as two pure functions), eager against `torch.compile` (inductor,
C++ on the CPU) and `torch.jit.script` (its CPU fuser), and reports (in CPU time of the thread, since
the machine is shared) the compile time and what the saving would be over a T = 250 training pass.

    .venv/bin/python benchmarks/rnn_compile.py           # ~2 min, most of it compiling
    .venv/bin/python benchmarks/rnn_compile.py --quick

Prints one JSON object and writes it to benchmarks/results/rnn_compile.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import sys
import time

import torch

from seqart.rnn import EPS

assert EPS == 1e-3  # written as a literal below: TorchScript cannot read a module's float


def step_forward(a, gain, bias, cell_gain, cell_bias, c_prev, neg_one):
    """a (B, 4H) pre-activations -> h, c and what the backward keeps (as in _Recurrence.forward)."""
    B, H = c_prev.shape
    n, _, rstd = torch.native_layer_norm(a.view(B, 4, H), (H,), None, None, 1e-3)
    s = torch.sigmoid(torch.addcmul(bias, n, gain))
    g = torch.add(neg_one, s[:, 2], alpha=2)
    c = s[:, 1] * c_prev + s[:, 0] * g
    cn, cmu, crstd = torch.native_layer_norm(c, (H,), cell_gain, cell_bias, 1e-3)
    tc = torch.tanh(cn)
    return s[:, 3] * tc, c, s, g, tc, n, rstd, cmu, crstd


def step_backward(d_out, dh_mm, dc, s, g, tc, n, rstd, cmu, crstd, c, c_prev, cell_gain, cell_bias, gain, zeros, ones):
    """One step back (as in _Recurrence.backward): d a (B, 4H), d c_prev and the gain and bias terms."""
    B, H = dc.shape
    dh = d_out + dh_mm
    dcn = dh * s[:, 3]
    dcn = dcn - dcn * tc * tc
    dcn, dgc, dbc = torch.ops.aten.native_layer_norm_backward(dcn, c, (H,), cmu, crstd, cell_gain, cell_bias,
                                                              [True, True, True])
    dc = dc + dcn
    dz = torch.stack([dc * g, dc * c_prev, dc * s[:, 0] * 2, dh * tc], 1)
    dsz = (s - s * s) * dz
    dn = torch.ops.aten.native_layer_norm_backward(dsz * gain, n, (H,), zeros, ones, None, None, [True, False, False])[0]
    return (dn * rstd).view(B, 4 * H), dc * s[:, 1], dsz * n, dsz, dgc, dbc


def inputs(B: int, H: int) -> tuple[tuple, tuple]:
    torch.manual_seed(0)
    fwd = (torch.randn(B, 4 * H), torch.ones(4, H), torch.zeros(4, H), torch.ones(H), torch.zeros(H),
           torch.randn(B, H), torch.full((B, H), -1.0))
    h, c, s, g, tc, n, rstd, cmu, crstd = step_forward(*fwd)
    bwd = (torch.randn(B, H), torch.randn(B, H), torch.randn(B, H), s, g, tc, n, rstd, cmu, crstd, c, fwd[5],
           fwd[3], fwd[4], fwd[1], torch.zeros(B, 4, 1), torch.ones(B, 4, 1))
    return fwd, bwd


def per_call_us(fn, args, calls: int) -> list[float]:
    """CPU µs of this thread per call: on a shared machine, wall time per call is mostly waiting for a core."""
    out = []
    for _ in range(calls):
        t = time.thread_time()
        fn(*args)
        out.append((time.thread_time() - t) * 1e6)
    return out


def compiled(kind: str, fn, args) -> tuple[object, float | str]:
    """(compiled fn, seconds to compile and run once) or (None, why it failed)."""
    t = time.perf_counter()
    try:
        if kind == "compile":
            f = torch.compile(fn, dynamic=False, fullgraph=True)
        else:
            torch._C._jit_override_can_fuse_on_cpu(True)
            f = torch.jit.script(fn)
        for _ in range(3):  # TorchScript's profiling executor fuses only after a few runs
            f(*args)
    except Exception as e:  # noqa: BLE001 - a compiler missing here is the finding itself
        return None, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return f, round(time.perf_counter() - t, 1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, eager and TorchScript only")
    p.add_argument("--data", help=argparse.SUPPRESS)  # the smoke test passes it to every script; unused
    p.add_argument("--calls", type=int, default=None)
    p.add_argument("--out", help="default benchmarks/results/rnn_compile.json")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    B, H, T = (4, 16, 12) if a.quick else (100, 512, 250)
    calls = a.calls or (20 if a.quick else 300)
    result = _common.header("rnn_compile")
    result["config"] = {"data": a.data, "batch": B, "hidden": H, "steps_per_pass": T, "calls": calls,
                        "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    fwd, bwd = inputs(B, H)
    fns = {"forward": (step_forward, fwd), "backward": (step_backward, bwd)}
    kinds = ("script",) if a.quick else ("compile", "script")
    timed, compile_s = {}, {}
    for part, (fn, args) in fns.items():
        variants = {"eager": fn}
        for kind in kinds:
            f, info = compiled(kind, fn, args)
            compile_s[f"{part}.{kind}"] = info
            if f is not None:
                variants[kind] = f
        calls_us = {k: [] for k in variants}
        for r in range(4):  # round 0 warms up; the order rotates so each shares the machine's noise
            for k in list(variants)[r % len(variants):] + list(variants)[: r % len(variants)]:
                got = per_call_us(variants[k], args, calls)
                calls_us[k] += got if r else []
        timed[part] = {k: round(_common.med(v), 1) for k, v in calls_us.items()}
    result["us_per_step"] = timed
    result["compile_s_or_error"] = compile_s
    saving = {k: round((timed["forward"]["eager"] - timed["forward"][k] + timed["backward"]["eager"]
                        - timed["backward"].get(k, timed["backward"]["eager"])) * T / 1e3, 1)
              for k in timed["forward"] if k != "eager"}
    result["saving_ms_per_pass_of_T_steps"] = saving
    result["target"] = {"what": "none: an experiment; seqart.rnn stays eager unless a compiler saves a clear share"}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("rnn_compile", result, a.out)


if __name__ == "__main__":
    main()
