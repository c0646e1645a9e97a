"""Quality of a long generated dance against held-out real dancing (issue 9, "Measure: poses").

    .venv/bin/python benchmarks/quality_poses.py --model salsa --stage before     # a 10-minute dance: a few minutes
    .venv/bin/python benchmarks/quality_poses.py --quick --data datasets/mocap

One generation of `--minutes` at the model's fps through the one Sampler, primed with the first
`--prime-seconds` of the first held-out clip (the primer is not measured). Figures
(seqart/codecs/poses/quality.py): per joint group, the ratio of generated to held-out mean speed and
acceleration (1.0 is right; control: the training clips against the held-out ones); foot sliding
in contact, as a ratio to the held-out dancing; and stability: NaN frames, frozen seconds (slower
than the slowest real second), exploded seconds (NaN, or more than twice the fastest real second,
or a body stretched past 1.5x its largest real extent), root height against the real range, the
root's distance from where it started, and the energy (mean squared joint speed) of each minute
as a ratio to the held-out dancing. The held-out clips are the test split, else the validation
split (the shipped salsa holds out one dance pair as validation). Thresholds from the issue are
judged under "checks". Writes benchmarks/results/quality_poses_<model>[_<stage>].json.
"""

from __future__ import annotations

import _common as C  # noqa: F401  (pins threads before numpy/torch load)

import numpy as np

from seqart.codecs.poses import quality as Q

THRESHOLDS = {"speed_ratio": [0.8, 1.2], "sliding_over_real": 1.5, "drift_m": 5.0}


def ratios(gen: dict, real: dict) -> dict:
    return {g: {k: round(gen[g][k] / real[g][k], 4) for k in ("speed", "acceleration")} for g in real}


def main() -> None:
    a = C.dance_args(__doc__, 10.0).parse_args()
    model, codec, meta, data, split, which, primer, gen_clip = C.dance(a)
    train = [Q.Positions(c) for c in split.clips["train"]]
    held = [Q.Positions(c) for c in split.clips[which]]
    fps = float(codec.options["fps"])
    finite = bool(np.isfinite(gen_clip.frames).all())
    gen = Q.Positions(gen_clip)
    real_groups, sk = Q.group_motion(held), held[0].skeleton
    ground, contact = Q.ground_level(train), 0.05 * Q.leg_length(sk)
    slide = {"generated": Q.foot_sliding([gen], ground, contact), "real_held_out": Q.foot_sliding(held, ground, contact),
             "real_train": Q.foot_sliding(train, ground, contact)}
    result = C.model_header("quality_poses", a, meta) | {
        "config": {"data": str(data), "minutes": a.minutes, "fps": fps, "temperature": a.temperature, "seed": a.seed,
                   "primer": f"{primer.meta.get('name', '')}, first {a.prime_seconds:g} s ({which} split)", "quick": a.quick},
        "data": {"split": split.rule, "held_out": which, "train_clips": len(train), "held_out_clips": len(held),
                 "groups": {g: [sk.names[j] for j in idx] for g, idx in Q.joint_groups(sk).items()},
                 "feet": [sk.names[j] for j in Q.feet(sk)], "ground_cm": round(ground, 2), "contact_cm": round(contact, 2)},
        "target": THRESHOLDS,
        "speed_ratio": {"generated": ratios(Q.group_motion([gen]), real_groups),
                        "control_train": ratios(Q.group_motion(train), real_groups)},
        "foot_sliding": slide | {
            "generated_over_real": round(slide["generated"]["contact_speed"] / slide["real_held_out"]["contact_speed"], 4),
            "control_train_over_real": round(slide["real_train"]["contact_speed"] / slide["real_held_out"]["contact_speed"], 4)},
        "long_run": stability(gen, held + train, finite),
    }
    sr = result["speed_ratio"]["generated"]
    lo, hi = THRESHOLDS["speed_ratio"]
    result["checks"] = {
        "speed_ratio_in_range_every_group": all(lo <= v["speed"] <= hi for v in sr.values()),
        "sliding_at_most_1.5x_real": result["foot_sliding"]["generated_over_real"] <= THRESHOLDS["sliding_over_real"],
        "no_nan": finite, "no_frozen_seconds": result["long_run"]["frozen_seconds"] == 0,
        "no_exploded_seconds": result["long_run"]["exploded_seconds"] == 0,
        "root_bounded": result["long_run"]["root_height_in_real_range"]
        and result["long_run"]["max_distance_from_start_m"] <= THRESHOLDS["drift_m"],
    }
    result["loadavg_end"] = C.loadavg()
    C.emit(C.model_stem("quality_poses", a), result, a.out)


def stability(gen: Q.Positions, real: list[Q.Positions], finite: bool) -> dict:
    secs = Q.per_second(gen)
    ref = [Q.per_second(p) for p in real]
    slowest, fastest = min(r["speed"].min() for r in ref), max(r["speed"].max() for r in ref)
    widest = max(r["extent"].max() for r in ref)
    energy = np.mean(np.concatenate([r["energy"] for r in ref]))
    per_min = int(round(60))
    minutes = [secs["energy"][i : i + per_min] for i in range(0, len(secs["energy"]), per_min)]
    root = gen.world[:, 0]
    heights = np.concatenate([p.world[:, 0, 1] for p in real])
    lo, hi = heights.min(), heights.max()
    margin = 0.2 * (hi - lo)
    dist = np.linalg.norm(root[:, [0, 2]] - root[0, [0, 2]], axis=-1) / 100.0  # file units are cm
    return {
        "seconds": len(secs["speed"]), "finite": finite,
        "frozen_seconds": int(np.sum(secs["speed"] < slowest)),
        "exploded_seconds": int(np.sum(~np.isfinite(secs["speed"]) | (secs["speed"] > 2 * fastest) | (secs["extent"] > 1.5 * widest))),
        "energy_ratio_per_minute": [round(float(m.mean() / energy), 4) for m in minutes if len(m)],
        "root_height_cm": [round(float(root[:, 1].min()), 1), round(float(root[:, 1].max()), 1)],
        "real_root_height_cm": [round(float(lo), 1), round(float(hi), 1)],
        "root_height_in_real_range": bool(root[:, 1].min() >= lo - margin and root[:, 1].max() <= hi + margin),
        "max_distance_from_start_m": round(float(dist.max()), 2),
        "distance_from_start_m_per_minute": [round(float(dist[i : i + int(60 * gen.fps)].max()), 2)
                                             for i in range(0, len(dist), int(60 * gen.fps))],
    }


if __name__ == "__main__":
    main()
