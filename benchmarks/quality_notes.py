"""Quality of generated music against held-out real music (issue 9, "Measure: notes").

    .venv/bin/python benchmarks/quality_notes.py --model nottingham --stage before          # a few minutes
    .venv/bin/python benchmarks/quality_notes.py --model jsb --data ../shared/datasets/midi/jsb_chorales/jsb-chorales-16th.json --stage before
    .venv/bin/python benchmarks/quality_notes.py --quick --data datasets/midi/nottingham

Samples `--n` pieces of `--seconds` each per temperature through the one Sampler, writes each as a
MIDI file and reads it back (what a DAW sees), and measures (seqart/codecs/notes/quality.py): the share
of onsets on the data's grid (inferred from the training split), blips (notes under 20 ms), the
in-key rate, and distances to the held-out test split of pitch classes, inter-onset intervals and
durations in beats and notes per bar. Every figure has the real training split beside it as the
control. Thresholds from the issue are judged under "checks". Writes
benchmarks/results/quality_notes_<model>[_<stage>].json.
"""

from __future__ import annotations

import _common as C  # noqa: F401  (pins threads before numpy/torch load)

from pathlib import Path

from seqart.codecs.notes import quality as Q
from seqart.sample import Sampler
from seqart.splits import make_split

THRESHOLDS = {"on_grid": 0.90, "blips": 0.0}
NOTTINGHAM = C.ROOT.parent / "shared" / "datasets" / "midi" / "nottingham"


def main() -> None:
    ap = C.model_args(__doc__, "nottingham", "MIDI folder or JSB .json (default: the Nottingham folder)")
    ap.add_argument("--temperatures", type=float, nargs="+", default=[0.8, 1.0])
    ap.add_argument("--n", type=int, default=40, help="pieces per temperature")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each piece")
    a = ap.parse_args()
    if a.quick:
        a.n, a.seconds, a.temperatures = 3, 10.0, a.temperatures[:1]
    data = Path(a.data) if a.data else NOTTINGHAM
    model, codec, meta = C.load_measured(a)
    split = make_split(codec.read(data), codec)
    train, test = split.clips["train"], split.clips.get("test") or split.clips["valid"]
    grid = Q.infer_grid(train)
    bar = Q.beats_per_bar(train)
    result = C.model_header("quality_notes", a, meta) | {
        "config": {"data": str(data), "n": a.n, "seconds": a.seconds, "seed": a.seed, "quick": a.quick},
        "data": {"split": split.rule, "train": len(train), "test": len(test), "bar_beats": bar,
                 "grid": grid | {"tolerance_steps": Q.TOLERANCE, "chance": 2 * Q.TOLERANCE}},
        "target": THRESHOLDS,
        "real_test": Q.measure(test, grid["beats"]), "real_train": Q.measure(train, grid["beats"]),
        "generated": {},
    }
    for i, t in enumerate(a.temperatures):
        sampler = Sampler(model, codec, temperature=t, seed=a.seed + i)
        clips = Q.through_midi([sampler.generate(10**7, seconds=a.seconds) for _ in range(a.n)], codec)
        result["generated"][f"temperature_{t:g}"] = Q.measure(clips, grid["beats"]) | Q.distances(clips, test, train, bar)
    gen = result["generated"].values()
    result["checks"] = {"on_grid_at_every_temperature": all(g["on_grid"] >= THRESHOLDS["on_grid"] for g in gen),
                        "no_blips": all(g["blips"] <= THRESHOLDS["blips"] for g in gen)}
    result["loadavg_end"] = C.loadavg()
    C.emit(C.model_stem("quality_notes", a), result, a.out)


if __name__ == "__main__":
    main()
