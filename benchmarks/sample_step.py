"""One sampling step at batch 1 (hidden 512, M = 20), against bare LSTM cell steps, on one thread.

Times the project's real sampler, `seqart.sample.Sampler.step()` (numpy LSTM
cell, MDN head, temperature, mixture and pen sampling, conversion back to
clip units), beside a bare `torch.nn.LSTMCell` step and a bare numpy cell
step of the same size, interleaved in the same process so they share the
machine's noise. Every call is timed on its own and the figures are medians
over all calls. When the sampler draws the end token it is reset between
calls (the reset is not timed). It also times the parts of `Sampler.step`
one by one, to show what costs more than the cell.

    .venv/bin/python benchmarks/sample_step.py           # full size, ~30 s
    .venv/bin/python benchmarks/sample_step.py --quick   # tiny, a second (smoke test)
    .venv/bin/python benchmarks/sample_step.py --run runs/sheep   # a trained model's weights
    .venv/bin/python benchmarks/sample_step.py --cell layernorm --layers 2 --out benchmarks/results/sample_step_layernorm2.json

Prints one JSON object and writes it to benchmarks/results/sample_step.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import sys
import time

import numpy as np
import torch

from seqart.codecs.strokes import StrokesCodec
from seqart.model import MDNLSTM, ModelConfig
from seqart.sample import Sampler
from seqart.splits import split_clips

TARGET_US, TARGET_RATIO = 1000.0, 2.0  # issue 2: under 1 ms, and at most 2x a bare LSTM cell step
SIZES = {"full": {"hidden": 512, "mixtures": 20, "rounds": 60, "calls": 100},
         "quick": {"hidden": 32, "mixtures": 3, "rounds": 3, "calls": 5}}


def parse_args(argv=None) -> argparse.Namespace:
    p = _common.sized_args(__doc__, SIZES)
    p.add_argument("--data", help="drawings to fit the codec's normalisation on (default: aaron_sheep)")
    p.add_argument("--run", help="run or model folder to take weights from (default: random weights)")
    p.add_argument("--cell", choices=("lstm", "layernorm"), default="lstm", help="the decoder's cell (seqart.rnn)")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    return _common.parse_sized(p, SIZES, "sample_step", argv)


def make_sampler(a: argparse.Namespace) -> tuple[Sampler, str]:
    """The real Sampler on a trained model (--run) or a fresh one with the codec fitted on real drawings."""
    if a.run:
        from seqart.modelio import load_model

        model, codec, _ = load_model(a.run)
        return Sampler(model, codec, temperature=a.temperature, seed=a.seed), f"trained: {a.run}"
    codec = StrokesCodec()
    codec.fit_norm(split_clips(codec.read(_common.sketch_data(a.data)), codec)["train"])
    torch.manual_seed(a.seed)
    model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=a.hidden, mixtures=a.mixtures,
                                cell=a.cell, layers=a.layers)).eval()
    with torch.no_grad():  # make the end token rare, so drawings run long as a trained model's do
        model.head.bias[end_logit(model)] = -8.0
    return Sampler(model, codec, temperature=a.temperature, seed=a.seed), \
        f"random init (torch seed {a.seed}), end-token logit bias -8"


def end_logit(model: MDNLSTM) -> int:
    """Index in the head's output of the end token's logit (categorical blocks follow the mixtures)."""
    lay, m = model.layout, model.cfg.mixtures
    i = sum(b.n_params(m) for b in lay.mixtures)
    for c in lay.categoricals:
        if c.channel == lay.end[0]:
            return i + lay.end[1]
        i += c.classes
    raise ValueError("layout has no end token")


class NumpyCell:
    """The bare fused cell: gates = W @ [x; h] + b (torch gate order i, f, g, o), float32."""

    def __init__(self, in_dim: int, hidden: int, rng: np.random.Generator):
        k = 1 / np.sqrt(hidden)
        self.w = rng.uniform(-k, k, (4 * hidden, in_dim + hidden)).astype(np.float32)
        self.b = rng.uniform(-k, k, 4 * hidden).astype(np.float32)
        self.x = rng.standard_normal(in_dim).astype(np.float32)
        self.h, self.c, self.H = np.zeros(hidden, np.float32), np.zeros(hidden, np.float32), hidden

    def step(self) -> None:
        H = self.H
        g = self.w @ np.concatenate([self.x, self.h]) + self.b
        i, f, o = (1.0 / (1.0 + np.exp(-g[s : s + H])) for s in (0, H, 3 * H))
        self.c = f * self.c + i * np.tanh(g[2 * H : 3 * H])
        self.h = o * np.tanh(self.c)

    def matvec(self) -> None:
        self.w @ np.concatenate([self.x, self.h])


class TorchCell:
    """A bare torch.nn.LSTMCell step at batch 1 (call under torch.no_grad)."""

    def __init__(self, in_dim: int, hidden: int):
        self.cell = torch.nn.LSTMCell(in_dim, hidden)
        self.x = torch.randn(1, in_dim)
        self.hc = (torch.zeros(1, hidden), torch.zeros(1, hidden))

    def step(self) -> None:
        self.hc = self.cell(self.x, self.hc)


def time_calls(fns: dict, rounds: int, calls: int, before=None) -> dict[str, list[float]]:
    """Per-call seconds for each callable: `calls` in a row per round, the order rotating each round.

    `before[name]()` (untimed) runs ahead of every call of that name.
    """
    names, before = list(fns), before or {}
    out: dict[str, list[float]] = {n: [] for n in names}
    clock = time.perf_counter
    for r in range(rounds + 1):  # round 0 warms up and is dropped
        for n in names[r % len(names):] + names[: r % len(names)]:
            f, prep = fns[n], before.get(n)
            for _ in range(calls):
                if prep is not None:
                    prep()
                t = clock()
                f()
                dt = clock() - t
                if r:
                    out[n].append(dt)
    return out


def parts_of_step(s: Sampler, a: argparse.Namespace) -> dict:
    """Sampler.step's parts timed one by one (µs medians): the cell, the head, sampling, and the rest."""
    s.reset()
    h = s._advance()
    raw = s.head_w @ h + s.head_b
    frame = s._sample(raw)
    parts = {
        "cell": s._advance,
        "head_matvec": lambda: s.head_w @ h + s.head_b,
        "sample_mdn_and_pen": lambda: s._sample(raw),
        "embed_next_input": lambda: s._embed(frame),
        "is_end": lambda: s._is_end(frame),
        "from_model": lambda: s.codec.from_model(frame[None]).frames[0],
    }
    t = time_calls(parts, a.rounds // 3 or 1, a.calls)
    return {k: round(_common.med(v) * 1e6, 1) for k, v in t.items()}


def main(argv=None) -> None:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    result = _common.header("sample_step")
    s, weights = make_sampler(a)
    in_dim, hidden = s.model.in_dim, s.hidden  # the model's sizes (a trained one may differ from the flags)
    npc, tc = NumpyCell(in_dim, hidden, np.random.default_rng(a.seed)), TorchCell(in_dim, hidden)
    result["config"] = {"data": None if a.run else str(_common.sketch_data(a.data)), "hidden": hidden,
                        "mixtures": s.m, "layers": len(s.cells), "cell": s.model.cfg.cell, "batch": 1, "input_width": in_dim,
                        "head_width": len(s.head_b), "temperature": a.temperature, "weights": weights,
                        "rounds": a.rounds, "calls_per_round": a.calls}
    ends = {"n": 0}

    def count_end():
        if s.done:
            ends["n"] += 1
            s.reset()

    with torch.no_grad():
        t = time_calls({"sampler_step": s.step, "torch_lstmcell": tc.step, "numpy_cell": npc.step,
                        "numpy_matvec": npc.matvec}, a.rounds, a.calls, before={"sampler_step": count_end})
    us = {k: _common.summary(v, scale=1e6, digits=1) for k, v in t.items()}
    step, torch_cell, np_cell = (us[k]["median"] for k in ("sampler_step", "torch_lstmcell", "numpy_cell"))
    parts = parts_of_step(s, a)
    result["step_us"] = us
    result["ratios"] = {"sampler_vs_torch_lstmcell": round(step / torch_cell, 3),
                        "sampler_vs_numpy_cell": round(step / np_cell, 3)}
    p10 = {k: us[k]["p10"] for k in us}  # the least-disturbed calls: a quiet machine's figure
    result["ratios_p10"] = {"sampler_vs_torch_lstmcell": round(p10["sampler_step"] / p10["torch_lstmcell"], 3),
                            "sampler_vs_numpy_cell": round(p10["sampler_step"] / p10["numpy_cell"], 3)}
    result["sampler_parts_us"] = parts
    result["overhead_beyond_cell_us"] = round(step - parts["cell"], 1)
    result["end_tokens_sampled"] = ends["n"]
    result["target"] = {"under_us": TARGET_US, "ratio_max": TARGET_RATIO, "under_met": step < TARGET_US,
                        "ratio_met": step <= TARGET_RATIO * torch_cell}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("sample_step", result, a.out)


if __name__ == "__main__":
    main()
