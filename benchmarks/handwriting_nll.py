"""Held-out NLL of a text-conditioned handwriting model against an unconditional one, on the same lines.

Both models score every line of DATA (`seqart eval RUN DATA --split all`), in
the data's own units (tablet units for the synthetic set and IAM-OnDB), so two
models with different normalisations compare. The fair baseline is the same
codec and data with `model.window_mixtures = 0`: the same network without the
window, which ignores the text. Per point is nats per pen point (end frames
included); per line is that times the points of a line, averaged over lines.

    # a test set of the 100 phrases the training set left out:
    seqart make-handwriting runs/hand_heldout --seed 1 --heldout 0 --lines 100 \\
        --phrases runs/hand_data/heldout-phrases.txt
    .venv/bin/python benchmarks/handwriting_nll.py --run runs/hand --baseline runs/hand_plain \\
        --data runs/hand_heldout
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse

from seqart.evaluate import evaluate_run
from seqart.modelio import load_model


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="the text-conditioned run or model folder")
    p.add_argument("--baseline", required=True, help="an unconditional run on the same data (window_mixtures = 0)")
    p.add_argument("--data", required=True, help="held-out lines (a handwriting folder)")
    p.add_argument("--out", help="where to write the JSON (default benchmarks/results/handwriting_nll.json)")
    return p.parse_args(argv)


def score(run: str, data: str) -> dict:
    r = evaluate_run(run, data, split="all")
    _, _, meta = load_model(run)
    return {"run": run, "window_mixtures": meta["model"].get("window_mixtures", 0), "step": meta.get("step"),
            "lines": r["clips"], "points": r["frames"], "nll_per_point": round(r["nll"], 4),
            "nll_per_line": round(r["nll"] * r["frames"] / r["clips"], 2),
            "parts_per_point": {k: round(v, 4) for k, v in r.items() if k in ("dx+dy", "pen")}}


def main(argv=None) -> None:
    a = parse_args(argv)
    result = _common.header("handwriting_nll")
    text, plain = score(a.run, a.data), score(a.baseline, a.data)
    result |= {"config": {"data": a.data}, "target": "the text-conditioned model below the unconditional one",
               "units": "nats; offsets in the data's own units (tablet units), before any normalisation",
               "text_conditioned": text, "unconditional": plain,
               "gain_per_point": round(plain["nll_per_point"] - text["nll_per_point"], 4),
               "loadavg_end": _common.loadavg()}
    _common.emit("handwriting_nll", result, a.out)


if __name__ == "__main__":
    main()
