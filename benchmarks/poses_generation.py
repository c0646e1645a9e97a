"""A long generated dance: does it keep moving without blowing up? Variance per second, and a GIF.

Primes the model with the first seconds of a held-out clip, generates
`--seconds` more, and measures, for every second of the result, the variance
of the joint positions (cm^2, over that second's frames, averaged over joints
and axes) in the body's own frame (root at the origin, facing +z), so it
tracks how much the pose changes, not how far the dancer travels. A frozen
dance drops towards 0; an exploding one grows without bound or turns NaN.
The same measure over the real held-out clips is the reference: a second
counts as frozen when it is stiller than the stillest real second, and as
exploded when it is NaN or more than twice the wildest real second. Writes JSON
and a stick-figure GIF (the first temperature) to benchmarks/results/.

    python benchmarks/poses_generation.py runs/salsa ../shared/datasets/mocap/cmu_salsa --temperature 0.5 1.0
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy/torch load)

import numpy as np

from _common import RESULTS, emit, header, load_run, run_args
from seqart.codecs.poses import clip_to_motion
from seqart.export import export_clips
from seqart.codecs.poses.kinematics import heading, joint_positions, local_transforms, yaw_matrix
from seqart.sample import Sampler


def body_frame_positions(clip) -> np.ndarray:
    """(T, J, 3) joint positions relative to the root, turned so the body faces +z."""
    m = clip_to_motion(clip)
    pos = joint_positions(m.skeleton, m.values)
    rots, _ = local_transforms(m.skeleton, m.values)
    yaw = heading(rots[:, 0], clip.meta["poses"]["forward"])
    rel = pos - pos[:, :1]
    return np.einsum("tba,tjb->tja", yaw_matrix(yaw), rel)


def variance_per_second(pos: np.ndarray, fps: float) -> list[float]:
    n = int(round(fps))
    return [float(pos[s : s + n].var(0).mean()) for s in range(0, len(pos) - n + 1, n)]


def stats(seconds: list[float], reference: dict) -> dict:
    v = np.asarray(seconds)
    return {"variance_cm2_per_second": [round(x, 2) for x in v],
            "min": round(float(v.min()), 2), "median": round(float(np.median(v)), 2), "max": round(float(v.max()), 2),
            "finite": bool(np.isfinite(v).all()),
            # stiller than the stillest second of the real held-out dances / twice as wild as the wildest
            "frozen_seconds": int(np.sum(v < reference["min"])),
            "exploded_seconds": int(np.sum(~np.isfinite(v) | (v > 2 * reference["max"])))}


def main() -> None:
    ap = run_args()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--temperature", type=float, nargs="+", default=[0.5])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drift", type=float, help="decoding drift (default: the model's)")
    ap.add_argument("--gif", default=str(RESULTS / "poses_generation.gif"))
    a = ap.parse_args()
    model, codec, meta, held_out = load_run(a)
    fps = float(codec.options["fps"])
    ref_seconds = [x for c in held_out for x in variance_per_second(body_frame_positions(c), fps)]
    reference = {"median": float(np.median(ref_seconds)), "min": float(np.min(ref_seconds)), "max": float(np.max(ref_seconds))}
    primer = held_out[0].slice(0, int(round(a.prime_seconds * fps)))
    n = int(round(a.seconds * fps))
    runs = {}
    for i, t in enumerate(a.temperature):
        gen = Sampler(model, codec, temperature=t, seed=a.seed).generate(n, prime=primer)
        runs[f"temperature_{t:g}"] = stats(variance_per_second(body_frame_positions(gen), fps), reference)
        travel = clip_to_motion(gen).values[:, :3]
        runs[f"temperature_{t:g}"]["root_travel_m"] = round(float(np.linalg.norm(np.diff(travel[:, [0, 2]], axis=0), axis=1).sum() / 100), 2)
        if i == 0 and a.gif:
            export_clips([codec.join(primer, gen)], a.gif, fps=12.5, size=240)
    result = header("poses_generation") | {
        "run": str(a.run), "checkpoint_step": meta.get("step"), "fps": fps, "seconds": a.seconds,
        "primer": f"{held_out[0].meta['name']}, first {a.prime_seconds:g} s (held out)", "seed": a.seed, "decode_drift": codec.options["drift"],
        "measure": "variance of body-frame joint positions within each second, mean over joints and axes (cm^2)",
        "reference_held_out_real": {k: round(v, 2) for k, v in reference.items()} | {"seconds": len(ref_seconds)},
        "generated": runs, "gif": a.gif, "gif_note": "primer (2 s) then the generation; 12.5 fps, 240 px",
    }
    emit("poses_generation", result, a.out)


if __name__ == "__main__":
    main()
