"""Held-out NLL per note of a trained notes model beside the unigram and pitch-bigram baselines.

    .venv/bin/python benchmarks/notes_nll.py RUN_OR_MODEL DATA --name nottingham

The model is scored with `seqart eval`'s function on the test split (the data's
own split, or seqart.splits' hash of each file's name); the baselines are fitted
on the same training split, tuned on the same validation split, and scored on
the same test notes in the model's own space (its codec and normalisation),
so the figures are nats per note on one scale. Lower is better.

A grid-time model (codec option time = "grid") scores time as classes of grid
steps, and so do its baselines (seqart.codecs.notes.baselines): its "dt" and "dur" parts are
summed into "dt+dur" beside theirs. Class probabilities and densities over
log-seconds are different units: compare a grid model only with its own
baselines, never with a seconds model's figures.
"""

from __future__ import annotations

import _common as C  # noqa: I001 - pins threads before numpy/torch load

import argparse
from pathlib import Path

from seqart.evaluate import evaluate_run, in_data_units
from seqart.modelio import load_model, resolve
from seqart.splits import split_clips


UNITS = {
    "seconds": "nats per note: (dt, dur) density in log-seconds (the data's units, any model's normalisation undone) "
               "+ pitch + velocity classes",
    "grid": "nats per note: dt and dur classes of grid steps + pitch + velocity classes (probabilities, not densities)",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("data")
    ap.add_argument("--name", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    _, codec, meta = load_model(Path(a.run))
    splits = split_clips(codec.read(Path(a.data)), codec)
    result = C.header(f"notes_nll_{a.name}") | {
        "model": str(resolve(Path(a.run))), "data": a.data, "split": a.split,
        "clips": {k: len(v) for k, v in splits.items()},
        "notes": {k: sum(len(c) for c in v) for k, v in splits.items()},
        "model_step": meta.get("step"), "model_config": meta["model"] | {"layout": "(notes layout)"},
        "time": codec.options.get("time", "seconds"),
        "units": UNITS[codec.options.get("time", "seconds")],
    }
    model_scores = evaluate_run(Path(a.run), Path(a.data), a.split)
    if "dt" in model_scores:  # grid time: the two class parts together are the timing part
        model_scores["dt+dur"] = model_scores["dt"] + model_scores["dur"]
    base = codec.baselines(splits["train"], splits["valid"]).score(splits[a.split])  # NoteBaselines
    for k in ("bigram", "unigram"):  # scored in the model's space: into the data's units, as the model's score
        base[k] = in_data_units(base[k], codec, splits[a.split]) | {"frames": base[k]["frames"]}
    result["nll_per_note"] = {"model": model_scores, "bigram": base["bigram"], "unigram": base["unigram"]}
    result["baseline_settings"] = base["settings"]
    result["model_beats_both"] = model_scores["nll"] < min(base["bigram"]["nll"], base["unigram"]["nll"])
    result["model_beats_bigram_on"] = {part: model_scores[part] < base["bigram"][part] for part in ("dt+dur", "pitch")}
    result["loadavg_end"] = C.loadavg()
    C.emit(f"notes_nll_{a.name}", result, a.out)


if __name__ == "__main__":
    main()
