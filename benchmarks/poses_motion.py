"""Does a long generated dance move like the real one? Speed per joint group, foot sliding, stability.

Generates `--minutes` of dance (at the model's fps, from a 2 s held-out primer) and
compares it with the real held-out clips, measured the same way:

* speed and acceleration per joint group (cm/s, cm/s^2; mean over the group's
  joints and frames) of body-frame joint positions (root at the origin, facing +z,
  so travel and turning are left out), and the root's own ground speed; reported
  as generated / real (1.0 is right). Groups come from the skeleton's shape: each
  subtree under the root, with the spine's subtree cut at its first branching
  joint (CMU salsa: abdomen-chest, neck-head, both arms, both legs).
* foot sliding: the feet's horizontal world speed (cm/s) in the frames where a
  foot is on the floor, i.e. lower than the real feet's 5th height percentile plus
  3% of the body's height (feet: the codec's, else the rest pose's lowest joint and
  its mirror partner). Generated / real, the fraction of frames in contact, and the
  feet's speed when lifted, for scale. The real
  clips are decoded as recorded; the generated one as the model decodes (pinning feet
  when its codec says so), and also unpinned.
* stability: NaN, frozen and exploded seconds (as in poses_generation.py), the
  variance of body-frame positions per minute / real, and how far the root
  wandered from its start (m).

    python benchmarks/poses_motion.py seqart/models/salsa ../shared/datasets/mocap/cmu_salsa --minutes 10
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy/torch load)

import numpy as np

from _common import emit, header, load_run, run_args
from poses_generation import body_frame_positions, variance_per_second
from seqart.codecs.poses import features as pf
from seqart.formats.bvh import Skeleton
from seqart.codecs.poses.kinematics import joint_positions
from seqart.sample import Sampler


def joint_groups(sk: Skeleton) -> dict[str, list[int]]:
    """Group name -> joints: each subtree under the root; the biggest (the spine's) cut at its first branch."""
    children = {j: [c for c, p in enumerate(sk.parents) if p == j] for j in range(len(sk.names))}

    def subtree(j):
        return [j] + [d for c in children[j] for d in subtree(c)]

    groups = {sk.names[c]: subtree(c) for c in children[0]}
    spine = max(children[0], key=lambda c: len(subtree(c)))
    chain, j = [spine], spine
    while len(children[j]) == 1:
        j = children[j][0]
        chain.append(j)
    if len(children[j]) > 1:
        del groups[sk.names[spine]]
        groups[sk.names[spine]] = chain
        groups |= {sk.names[c]: subtree(c) for c in children[j]}
    return groups


def motion_figures(clip, groups, feet: list[int], floor: np.ndarray, contact_height: float, pin: bool) -> dict:
    """Speeds, accelerations, foot sliding and contact of one clip (see module doc); pin: decode pinning feet."""
    fps = clip.fps
    body = body_frame_positions(clip)  # (T, J, 3)
    vel = np.linalg.norm(np.diff(body, axis=0), axis=-1) * fps  # (T - 1, J)
    acc = np.linalg.norm(np.diff(body, 2, axis=0), axis=-1) * fps * fps
    m = pf.decode(clip.frames, clip.meta["poses"], pin=pin)
    world = joint_positions(m.skeleton, m.values)
    root = np.linalg.norm(np.diff(world[:, 0, [0, 2]], axis=0), axis=-1) * fps
    foot = world[:, feet]  # (T, n_feet, 3)
    on = (foot[1:, :, 1] < floor + contact_height)
    slide = np.linalg.norm(np.diff(foot[..., [0, 2]], axis=0), axis=-1) * fps
    return {"speed": {g: vel[:, j].mean() for g, j in groups.items()} | {"root_ground": root.mean()},
            "accel": {g: acc[:, j].mean() for g, j in groups.items()},
            "slide_sum": float(slide[on].sum()), "contact_frames": int(on.sum()), "frames": on.size,
            "swing_sum": float(slide[~on].sum()),
            "body": body, "root_xz": world[:, 0, [0, 2]]}


def pooled(figs: list[dict]) -> dict:
    """Frame-weighted means over clips."""
    w = np.asarray([f["frames"] for f in figs], float)
    out = {k: {g: float(np.average([f[k][g] for f in figs], weights=w)) for g in figs[0][k]} for k in ("speed", "accel")}
    on = sum(f["contact_frames"] for f in figs)
    out["foot_slide_cm_s"] = sum(f["slide_sum"] for f in figs) / max(on, 1)
    out["contact_fraction"] = on / w.sum()
    out["foot_swing_cm_s"] = sum(f["swing_sum"] for f in figs) / max(w.sum() - on, 1)
    return out


def stability(gen: dict, fps: float, real_var: list[float], real_median_var: float) -> dict:
    sec = np.asarray(variance_per_second(gen["body"], fps))
    per_min = [float(np.median(sec[i : i + 60])) / real_median_var for i in range(0, len(sec), 60)]
    drift = np.linalg.norm(gen["root_xz"] - gen["root_xz"][0], axis=-1)
    return {"finite": bool(np.isfinite(gen["body"]).all()),
            "frozen_seconds": int(np.sum(sec < min(real_var))), "exploded_seconds": int(np.sum(~np.isfinite(sec) | (sec > 2 * max(real_var)))),
            "seconds": len(sec), "median_variance_ratio_per_minute": [round(x, 3) for x in per_min],
            "root_max_distance_from_start_m": round(float(drift.max()) / 100, 2),
            "root_distance_at_end_m": round(float(drift[-1]) / 100, 2)}


def main() -> None:
    ap = run_args()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drift", type=float, help="decoding drift (default: the model's)")
    a = ap.parse_args()
    model, codec, meta, held_out = load_run(a)
    info = codec.info()
    fps = float(codec.options["fps"])
    sk = Skeleton.from_json(info["skeleton"])
    feet_names = list(info.get("feet") or pf.fit_feet(sk, np.zeros((1, sk.n_channels)), None))
    feet = [sk.names.index(n) for n in feet_names]
    real_world = [joint_positions(sk, pf.decode(c.frames, info, pin=False).values) for c in held_out]
    floor = np.percentile(np.concatenate([w[:, feet, 1] for w in real_world]), 5, axis=0)
    contact_height = 0.03 * pf.body_height(sk)
    groups = pf_groups = joint_groups(sk)
    real = [motion_figures(c, groups, feet, floor, contact_height, pin=False) for c in held_out]  # as recorded
    primer = held_out[0].slice(0, int(round(a.prime_seconds * fps)))
    gen_clip = Sampler(model, codec, temperature=a.temperature, seed=a.seed).generate(int(round(a.minutes * 60 * fps)), prime=primer)
    gen_clip.meta["poses"] = info
    pins = pf.PoseDecoder(info).pin
    gen = motion_figures(gen_clip, groups, feet, floor, contact_height, pin=pins)
    free = motion_figures(gen_clip, groups, feet, floor, contact_height, pin=False) if pins else gen
    r, g, f = pooled(real), pooled([gen]), pooled([free])
    ratio = {k: {n: round(g[k][n] / r[k][n], 3) for n in r[k]} for k in ("speed", "accel")}
    real_var = [x for f in real for x in variance_per_second(f["body"], fps)]
    result = header("poses_motion") | {
        "run": str(a.run), "checkpoint_step": meta.get("step"), "fps": fps, "minutes": a.minutes,
        "temperature": a.temperature, "seed": a.seed, "decode_drift": codec.options["drift"], "pinned_feet": pins,
        "primer": f"{held_out[0].meta['name']}, first {a.prime_seconds:g} s (held out)",
        "real": sorted(c.meta["name"] for c in held_out), "groups": {n: [sk.names[j] for j in js] for n, js in pf_groups.items()},
        "feet": feet_names, "contact_rule": "foot lower than the real feet's 5th height percentile + 3% of body height",
        "speed_cm_s": {"real": _round(r["speed"]), "generated": _round(g["speed"])},
        "speed_ratio": ratio["speed"], "accel_ratio": ratio["accel"],
        "speed_ratio_range": [min(ratio["speed"].values()), max(ratio["speed"].values())],
        "foot_slide_cm_s": {"real": round(r["foot_slide_cm_s"], 2), "generated": round(g["foot_slide_cm_s"], 2)},
        "foot_slide_ratio": round(g["foot_slide_cm_s"] / r["foot_slide_cm_s"], 3),
        "foot_slide_cm_s_unpinned": round(f["foot_slide_cm_s"], 2),
        "foot_speed_lifted_cm_s": {"real": round(r["foot_swing_cm_s"], 2), "generated": round(g["foot_swing_cm_s"], 2)},
        "contact_fraction": {"real": round(r["contact_fraction"], 3), "generated": round(g["contact_fraction"], 3)},
        "speed_ratio_unpinned_root_ground": round(f["speed"]["root_ground"] / r["speed"]["root_ground"], 3),
        "stability": stability(gen, fps, real_var, float(np.median(real_var))),
    }
    emit("poses_motion", result, a.out)


def _round(d: dict) -> dict:
    return {k: round(v, 2) for k, v in d.items()}


if __name__ == "__main__":
    main()
