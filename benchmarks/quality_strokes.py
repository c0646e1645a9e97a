"""Quality of generated drawings against held-out real ones (issue 9, "Measure: strokes").

    .venv/bin/python benchmarks/quality_strokes.py --model sheep --stage before     # about 5-8 min, 1 thread
    .venv/bin/python benchmarks/quality_strokes.py --model runs/sheep2 --stage after
    .venv/bin/python benchmarks/quality_strokes.py --quick --data datasets/sketches/aaron_sheep_small.npz

Figures (definitions in seqart/codecs/strokes/quality.py), each beside a real-data control:
- classifier two-sample test at each `--classifier-temperatures`: a small CNN on 64x64 rasters,
  trained on real training drawings against samples, scored on the held-out test split against
  fresh samples (0.5 = indistinguishable). Control: the same CNN trained on two halves of the
  training split and scored on the test split against the validation split (real against real);
- Wasserstein-1 and KS distances of points per drawing, strokes per drawing and stroke length,
  generated against the test split; control: the training split against the test split;
- the fraction of samples that end on their own within 2x the data's 99th-percentile length at
  each `--end-temperatures`, and the knot rate of those samples (control: the test split);
- the knots in the README's picture: the drawings `seqart sample MODEL --out sheep.png -n N
  --temperature T --seed S` makes (`--picture T N S`, the README's command), drawn the same way.
Thresholds from the issue are judged under "checks". Writes
benchmarks/results/quality_strokes_<model>[_<stage>].json.
"""

from __future__ import annotations

import _common as C  # noqa: F401  (pins threads before numpy/torch load)

import numpy as np

from seqart.quality import distances as D
from seqart.codecs.strokes import quality as Q
from seqart.generate import generate_clips
from seqart.splits import make_split

THRESHOLDS = {"ends_on_its_own": 0.95, "knot_rate_over_real": 1.0}



def main() -> None:
    ap = C.model_args(__doc__, "sheep", "drawings with a test split (default: aaron_sheep)")
    ap.add_argument("--classifier-temperatures", type=float, nargs="+", default=[0.5, 1.0])
    ap.add_argument("--end-temperatures", type=float, nargs="+", default=[0.1, 0.2, 0.5, 0.8, 1.0])
    ap.add_argument("--n-train", type=int, default=1000, help="drawings per class to train the classifier on")
    ap.add_argument("--n-test", type=int, default=300, help="drawings per class to score it on")
    ap.add_argument("--n-end", type=int, default=100, help="samples per temperature for the ending rate")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--picture", type=float, nargs=3, default=[0.8, 16, 3], metavar=("T", "N", "SEED"),
                    help="the README picture's temperature, drawings and seed")
    a = ap.parse_args()
    if a.quick:
        a.n_train, a.n_test, a.n_end, a.epochs = 40, 20, 6, 2
        a.classifier_temperatures, a.end_temperatures = a.classifier_temperatures[:1], [0.2, 1.0]
    data = C.sketch_data(a.data)
    model, codec, meta = C.load_measured(a)
    splits = make_split(codec.read(data), codec).clips
    train, valid, test = splits["train"], splits["valid"], splits.get("test") or splits["valid"]
    real = Q.drawing_stats(train)
    limit = int(2 * np.percentile(real["points"], 99))
    side = 0.5 * Q.median_step(train)
    test = test[: a.n_test]
    result = C.model_header("quality_strokes", a, meta) | {
        "config": {"data": str(data), "n_train": a.n_train, "n_test": a.n_test, "n_end": a.n_end, "epochs": a.epochs,
                   "seed": a.seed, "quick": a.quick, "raster": Q.RASTER},
        "data": {"train": len(train), "valid": len(valid), "test": len(test),
                 "p99_points": float(np.percentile(real["points"], 99)), "length_limit": limit,
                 "knot": f"{Q.KNOT_POINTS} consecutive points inside a square of side {side:g} source units "
                         "(half the median pen-down step of the training drawings)"},
        "target": THRESHOLDS,
    }
    result["classifier"] = classifier_figures(a, model, codec, train, valid, test, limit)
    result["shape"] = shape_figures(result["classifier"].pop("_samples"), train, test)
    result["endings"] = ending_figures(a, model, codec, limit, side, test)
    result["readme_picture"] = picture_figures(a, model, codec, meta, side)
    result["checks"] = {
        "ends_on_its_own_at_every_temperature": all(v["ended"] >= THRESHOLDS["ends_on_its_own"]
                                                    for v in result["endings"]["by_temperature"].values()),
        "knots_no_more_than_real": all(v["knot_rate"] <= result["endings"]["real_test_knot_rate"] * THRESHOLDS["knot_rate_over_real"]
                                       for v in result["endings"]["by_temperature"].values()),
        "no_knots_in_readme_picture": result["readme_picture"]["knotted"] == [],
    }
    result["loadavg_end"] = C.loadavg()
    C.emit(C.model_stem("quality_strokes", a), result, a.out)


def classifier_figures(a, model, codec, train, valid, test, limit) -> dict:
    real_train = Q.rasterise(train[: a.n_train])
    real_test = Q.rasterise(test)
    out, samples = {}, {}
    for i, t in enumerate(a.classifier_temperatures):
        fake_train, _ = Q.sample_drawings(model, codec, a.n_train, t, limit, seed=a.seed + 1000 * i)
        fresh, _ = Q.sample_drawings(model, codec, len(test), t, limit, seed=a.seed + 1000 * i + 500)
        out[f"temperature_{t:g}"] = Q.classifier_test(real_train, Q.rasterise(fake_train), real_test,
                                                      Q.rasterise(fresh), a.epochs, a.seed)
        samples[t] = fake_train + fresh
    # Control: two disjoint halves of the training split, scored on test against valid (all real).
    half = min(a.n_train, len(train) // 2)
    out["control_real_vs_real"] = Q.classifier_test(Q.rasterise(train[:half]), Q.rasterise(train[half : 2 * half]),
                                                    real_test, Q.rasterise(valid[: len(test)]), a.epochs, a.seed)
    out["_samples"] = samples
    return out


def shape_figures(samples: dict, train, test) -> dict:
    real, ctrl = Q.drawing_stats(test), Q.drawing_stats(train)
    out = {}
    for t, clips in samples.items():
        gen = Q.drawing_stats(clips)
        out[f"temperature_{t:g}"] = {k: D.compare(gen[k], real[k], ctrl[k]) for k in real}
    out["note"] = "generated vs the test split; control: the training split vs the test split"
    return out


def ending_figures(a, model, codec, limit, side, test) -> dict:
    by_t = {}
    for i, t in enumerate(a.end_temperatures):
        clips, ended = Q.sample_drawings(model, codec, a.n_end, t, limit, seed=a.seed + 7000 + i)
        pts = Q.drawing_stats(clips)["points"]
        by_t[f"{t:g}"] = {"ended": round(float(ended.mean()), 4), "n": len(ended),
                          "median_points": float(np.median(pts)), "knot_rate": round(Q.knot_rate(clips, side), 4)}
    return {"limit_points": limit, "by_temperature": by_t, "real_test_knot_rate": round(Q.knot_rate(test, side), 4)}


def picture_figures(a, model, codec, meta, side) -> dict:
    """Knots in the README's picture, made by the same generate_clips call as `seqart sample`."""
    t, n, seed = a.picture[0], int(a.picture[1]), int(a.picture[2])
    clips = generate_clips(model, codec, meta, n, temperature=t, seed=seed)
    return {"command": f"seqart sample {a.model} --out sheep.png -n {n} --temperature {t:g} --seed {seed}",
            "drawings": n, "knotted": [i for i, c in enumerate(clips) if Q.has_knot(c, side)]}


if __name__ == "__main__":
    main()
