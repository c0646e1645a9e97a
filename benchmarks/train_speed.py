"""Training speed at sketch-rnn's default size, against the bare fused LSTM, on one CPU thread.

Runs the project's real training step (`seqart.train.Trainer._train_step`:
forward, masked MDN loss, backward, gradient clipping, Adam) on aaron_sheep
through the real codec and `seqart.data.Batches`, and times a bare
`torch.nn.LSTM` forward+backward of the same (B, T, input width, hidden)
interleaved with it, so both share the machine's noise. Two settings:

* fixed: one batch of B real drawings padded to T = Nmax (like with like);
* bucketed: the trainer's own length-bucketed, augmented batches (what
  training really runs), with the time to make each batch counted.

It also breaks one fixed step into stages (torch profiler) and measures the
peak RSS of a fresh training process (a child of this one, so the figure
is not inflated by this process's own timing runs).

    .venv/bin/python benchmarks/train_speed.py            # full size, ~2 min (~4 min on a loaded machine)
    .venv/bin/python benchmarks/train_speed.py --quick    # tiny sizes, seconds (smoke test)

Prints one JSON object and writes it to benchmarks/results/train_speed.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.profiler import profile, record_function

from seqart.config import defaults
from seqart.data import pad
from seqart.train import Trainer

TARGET_RATIO = 1.3  # issue 2: a training step costs at most 1.3x the bare LSTM's forward+backward
SIZES = {  # sketch-rnn's defaults; quick: tiny, for the smoke test
    "full": {"hidden": 512, "mixtures": 20, "batch": 100, "max_len": 250, "repeats": 7, "batches": 20},
    "quick": {"hidden": 32, "mixtures": 3, "batch": 8, "max_len": 24, "repeats": 2, "batches": 2},
}


def parse_args(argv=None) -> argparse.Namespace:
    p = _common.sized_args(__doc__, SIZES)
    p.add_argument("--data", help="drawing file or folder (default: aaron_sheep, else datasets/sketches)")
    p.add_argument("--dropout", type=float, default=0.1, help="decoder output dropout (recipes/sheep.toml: 0.1)")
    p.add_argument("--cell", choices=("lstm", "layernorm"), default="lstm", help="the decoder's cell (seqart.rnn)")
    p.add_argument("--recurrent-dropout", type=float, default=0.0)
    p.add_argument("--z-dim", type=int, default=0, help="> 0: the sketch-rnn VAE (its encoder included; sketch-rnn: 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    return _common.parse_sized(p, SIZES, "train_speed", argv)


def make_trainer(a: argparse.Namespace, run_dir: Path) -> Trainer:
    """The real Trainer (codec read, norm fit, model, Adam, Batches) at the benchmark's size."""
    cfg = defaults({})
    cfg["model"].update(hidden=a.hidden, mixtures=a.mixtures, dropout=a.dropout, cell=a.cell,
                        recurrent_dropout=a.recurrent_dropout, z_dim=a.z_dim)
    cfg["train"].update(batch_size=a.batch, max_len=a.max_len, seed=a.seed, threads=1, device="cpu")
    return Trainer(_common.sketch_data(a.data), run_dir, cfg, progress=False)


def fixed_batch(tr: Trainer, a: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    """B random real training drawings, cut to Nmax and padded to exactly Nmax frames."""
    rng = np.random.default_rng(a.seed)
    pick = rng.choice(len(tr.train_clips), size=a.batch, replace=len(tr.train_clips) < a.batch)
    arrays = [tr.codec.to_model(tr.train_clips[i])[: a.max_len] for i in pick]
    arrays.append(np.zeros((a.max_len, arrays[0].shape[1]), np.float32))  # forces T = Nmax; dropped below
    x, mask = pad(arrays)
    return x[:-1].contiguous(), mask[:-1].contiguous()


class BareLSTM:
    """torch.nn.LSTM forward+backward at the model's size, on inputs of a given (B, T)."""

    def __init__(self, in_dim: int, hidden: int):
        self.lstm = torch.nn.LSTM(in_dim, hidden, batch_first=True)
        self.in_dim = in_dim

    def step(self, b: int, t: int) -> None:
        x = torch.randn(b, t, self.in_dim)
        self.lstm.zero_grad(set_to_none=True)
        out, _ = self.lstm(x)
        out.sum().backward()


def padding(mask: torch.Tensor) -> dict:
    b, t = mask.shape
    real = int(mask.sum())
    return {"B": b, "T": t, "mean_len": round(real / b, 1), "padding_frac": round(1 - real / (b * t), 3)}


def run_fixed(tr: Trainer, bare: BareLSTM, a: argparse.Namespace) -> dict:
    x, mask = fixed_batch(tr, a)
    b, t = mask.shape
    fns = {"step": lambda: tr._train_step(tr.model, x, mask), "bare": lambda: bare.step(b, t)}
    if tr.model.drop.p > 0:  # the same step with output dropout switched off: what dropout costs
        fns["step_no_dropout"] = lambda: without_dropout(tr, x, mask)
    times = _common.interleave(fns, rounds=a.repeats)
    ratios = [s / r for s, r in zip(times["step"], times["bare"])]
    step, bare_s = _common.med(times["step"]), _common.med(times["bare"])
    out = {"batch": padding(mask), "step_ms": _common.summary(times["step"]), "bare_lstm_ms": _common.summary(times["bare"]),
           "ratio": round(step / bare_s, 3), "ratio_pairwise_median": round(_common.med(ratios), 3),
           "seq_per_s": round(b / step, 2), "real_frames_per_s": round(int(mask.sum()) / step, 1)}
    if "step_no_dropout" in times:
        nd = times["step_no_dropout"]
        out |= {"step_no_dropout_ms": _common.summary(nd), "ratio_no_dropout": round(_common.med(nd) / bare_s, 3),
                "ratio_no_dropout_pairwise_median": round(_common.med([s / r for s, r in zip(nd, times["bare"])]), 3)}
    return out


def without_dropout(tr: Trainer, x: torch.Tensor, mask: torch.Tensor) -> None:
    p, tr.model.drop.p = tr.model.drop.p, 0.0  # F.dropout with p = 0 returns its input untouched
    try:
        tr._train_step(tr.model, x, mask)
    finally:
        tr.model.drop.p = p


def run_bucketed(tr: Trainer, bare: BareLSTM, a: argparse.Namespace) -> dict:
    """Real batches in the trainer's order; each step is paired with a bare LSTM at that batch's shape."""
    it = iter(tr.batches)
    x, mask = next(it)
    tr._train_step(tr.model, x, mask)  # warm-up
    rows = []
    for r in range(a.batches):
        data_s = _common.timed(lambda: rows.append(next(it)))
        x, mask = rows.pop()
        b, t = mask.shape
        pair = [("step", lambda: tr._train_step(tr.model, x, mask)), ("bare", lambda: bare.step(b, t))]
        got = {n: _common.timed(f) for n, f in (pair if r % 2 == 0 else pair[::-1])}
        rows.append({"data": data_s, **got, "B": b, "T": t, "real": int(mask.sum())})
    seqs, frames = sum(r["B"] for r in rows), sum(r["real"] for r in rows)
    train_s = sum(r["data"] + r["step"] for r in rows)
    pad_frames = sum(r["B"] * r["T"] for r in rows)
    return {"batches": len(rows), "mean_T": round(float(np.mean([r["T"] for r in rows])), 1),
            "mean_len": round(frames / seqs, 1), "padding_frac": round(1 - frames / pad_frames, 3),
            "data_ms": _common.summary([r["data"] for r in rows]), "step_ms": _common.summary([r["step"] for r in rows]),
            "bare_lstm_ms": _common.summary([r["bare"] for r in rows]),
            "ratio_pairwise_median": round(_common.med([r["step"] / r["bare"] for r in rows]), 3),
            "ratio_with_data_pairwise_median": round(_common.med([(r["step"] + r["data"]) / r["bare"] for r in rows]), 3),
            "ratio_of_sums": round(sum(r["step"] for r in rows) / sum(r["bare"] for r in rows), 3),
            "seq_per_s": round(seqs / train_s, 2), "real_frames_per_s": round(frames / train_s, 1)}


def staged_step(tr: Trainer, x: torch.Tensor, mask: torch.Tensor) -> None:
    """The same step as Trainer._train_step, cut into labelled stages for the profiler."""
    m = tr.model
    with record_function("fwd.input"):  # start token + one-hot pen embedding
        inp = torch.cat([m.start_token(x.shape[0]), m.embed(x[:, :-1])], 1)
    with record_function("fwd.lstm"):
        out, _ = m.decoder(inp)
    with record_function("fwd.head"):  # on real frames only, as MDNLSTM.forward does
        valid = x[mask]
        raw = m.head(m.drop(out[mask]))
    with record_function("fwd.loss"):  # MDN + pen NLL
        loss = m.nll(raw, valid, torch.ones(len(valid), dtype=torch.bool))["nll"]
    with record_function("backward"):
        tr.opt.zero_grad(set_to_none=True)
        loss.backward()
    with record_function("clip_grad"):
        torch.nn.utils.clip_grad_norm_(m.parameters(), tr.tc.grad_clip)
    with record_function("adam"):
        tr.opt.step()


def op_self_ms(fn, steps: int) -> tuple[dict, dict[str, float]]:
    """Profile fn() `steps` times: ({key: event}, {op: self ms per call})."""
    fn()
    with profile(record_shapes=False) as prof:
        for _ in range(steps):
            fn()
    ev = {e.key: e for e in prof.key_averages()}
    return ev, {k: e.self_cpu_time_total / 1e3 / steps for k, e in ev.items()}


def breakdown(tr: Trainer, bare: BareLSTM, a: argparse.Namespace, steps: int = 2) -> dict:
    """Where a fixed-T step's time goes: per stage, the fused LSTM kernels within them, and the
    ops it runs beyond what the bare LSTM runs (ms/step, profiled the same way)."""
    x, mask = fixed_batch(tr, a)
    ev, own = op_self_ms(lambda: staged_step(tr, x, mask), steps)
    _, base = op_self_ms(lambda: bare.step(*mask.shape), steps)
    extra = {k: v - base.get(k, 0.0) for k, v in own.items() if not k.startswith(("fwd.", "backward", "clip_grad", "adam"))}

    def ms(key: str, self_time: bool = False) -> float:
        e = ev.get(key)
        return 0.0 if e is None else round((e.self_cpu_time_total if self_time else e.cpu_time_total) / 1e3 / steps, 1)

    stages = {k: ms(k) for k in ("fwd.input", "fwd.lstm", "fwd.head", "fwd.loss", "backward", "clip_grad", "adam")}
    total = sum(stages.values())
    lstm_bwd = ms("aten::mkldnn_rnn_layer_backward", True)
    top = sorted(ev.values(), key=lambda e: -e.self_cpu_time_total)
    top_ops = {e.key: round(e.self_cpu_time_total / 1e3 / steps, 1) for e in top
               if not e.key.startswith(("fwd.", "backward", "clip_grad", "adam"))}
    return {"stages_ms": stages, "step_ms": round(total, 1), "lstm_kernels_ms": {
                "forward": ms("aten::mkldnn_rnn_layer", True), "backward": lstm_bwd},
            "non_lstm_ms": round(total - ms("aten::mkldnn_rnn_layer", True) - lstm_bwd, 1),
            "top_ops_self_ms": dict(list(top_ops.items())[:10]),
            "bare_lstm_profiled_ms": round(sum(base.values()), 1),
            "extra_ops_vs_bare_self_ms": {k: round(v, 1) for k, v in sorted(extra.items(), key=lambda kv: -kv[1])[:12]},
            "profiled_steps": steps}


def rss_child(a: argparse.Namespace) -> None:
    """A fresh training process: setup, then fixed-T and bucketed steps; print its peak RSS."""
    with tempfile.TemporaryDirectory() as d:
        tr = make_trainer(a, Path(d) / "run")
        setup = _common.peak_rss_mib()
        x, mask = fixed_batch(tr, a)
        for _ in range(2):
            tr._train_step(tr.model, x, mask)
        it = iter(tr.batches)
        for _ in range(3):
            tr._train_step(tr.model, *next(it))
    print(json.dumps({"after_setup_mib": setup, "peak_mib": _common.peak_rss_mib(), "vm_hwm_mib": vm_hwm_mib()}))


def vm_hwm_mib() -> float | None:
    """Peak RSS of this process's own memory map (unlike ru_maxrss, nothing is inherited from the parent)."""
    try:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM"))
    except (OSError, StopIteration):
        return None
    return round(int(line.split()[1]) / 1024, 1)


def measure_rss(argv: list[str]) -> dict:
    """Run rss_child in a fresh subprocess with the same sizes.

    Call it before this process grows: Linux starts a child's ru_maxrss at its parent's RSS at fork time.
    """
    parent = _common.peak_rss_mib()
    out = subprocess.run([sys.executable, __file__, *argv, "--rss-child"], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return got | {"parent_rss_at_spawn_mib": parent,
                  "how": "ru_maxrss (and /proc VmHWM) of a fresh training process: imports, data, model, Adam, "
                         "2 fixed-T (Nmax) steps, 3 bucketed steps"}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    if a.rss_child:
        return rss_child(a)
    result = _common.header("train_speed")
    rss = measure_rss(_without_out(argv))  # first, while this process is still small
    with tempfile.TemporaryDirectory() as d:
        tr = make_trainer(a, Path(d) / "run")
        torch.manual_seed(a.seed)
        bare = BareLSTM(tr.model.in_dim, a.hidden)
        result["config"] = {"data": str(_common.sketch_data(a.data)), "train_clips": len(tr.train_clips),
                            "hidden": a.hidden, "mixtures": a.mixtures, "batch": a.batch, "nmax": a.max_len,
                            "dropout": a.dropout, "cell": a.cell, "recurrent_dropout": a.recurrent_dropout,
                            "z_dim": a.z_dim, "input_width": tr.model.in_dim, "head_width": tr.model.head.out_features,
                            "params": sum(p.numel() for p in tr.model.parameters()), "augment": tr.tc.augment,
                            "repeats_fixed": a.repeats, "batches_bucketed": a.batches}
        result["fixed_T"] = run_fixed(tr, bare, a)
        result["bucketed"] = run_bucketed(tr, bare, a)
        # The staged breakdown replays the decoder-only forward; a VAE's steps are timed whole above.
        result["breakdown_fixed_T"] = breakdown(tr, bare, a) if not a.z_dim else None
    result["peak_rss"] = rss
    result["target"] = {"ratio_max": TARGET_RATIO, "fixed_T_met": result["fixed_T"]["ratio"] <= TARGET_RATIO,
                        "bucketed_met": result["bucketed"]["ratio_pairwise_median"] <= TARGET_RATIO}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("train_speed", result, a.out)


def _without_out(argv: list[str]) -> list[str]:
    """argv minus `--out PATH` / `--out=PATH` (the child writes nothing)."""
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
        elif x == "--out":
            skip = True
        elif not x.startswith("--out="):
            out.append(x)
    return out


if __name__ == "__main__":
    main()
