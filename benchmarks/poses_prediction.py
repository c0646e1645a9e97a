"""Short-term motion prediction on held-out clips, as in Martinez et al. 2017, beside zero-velocity.

Protocol (Martinez, Black & Romero, "On human motion prediction using
recurrent neural networks", CVPR 2017, sec. 4): prime with 2 s of a held-out
clip (50 frames at 25 fps), predict the next 400 ms, convert every joint's
rotation to Euler angles (radians), leave out the root (global translation
and rotation), and take the Euclidean distance between predicted and true
angle vectors at 80, 160, 320 and 400 ms; average over many seeds. The
zero-velocity baseline repeats the last primed pose. Both are scored on the
same seeds: every `--stride` frames along each clip of the held-out split.

Our prediction is deterministic: the sampler's greedy mode (the most likely
mixture component's mean at every step). `drift=1` scores the same model
decoded from its absolute 6-D rotations only (no velocity integration).

    python benchmarks/poses_prediction.py runs/salsa ../shared/datasets/mocap/cmu_salsa
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy/torch load)

import numpy as np

from _common import emit, header, load_run, run_args
from seqart.codecs.poses import clip_to_motion
from seqart.codecs.poses.kinematics import wrap_angle
from seqart.sample import Sampler

HORIZONS_MS = (80, 160, 320, 400)


def euler_rows(clip, drift: float | None) -> np.ndarray:
    """A poses clip -> (T, n) Euler angles in radians of every joint but the root."""
    m = clip_to_motion(clip, drift)
    sk = m.skeleton
    cols = [sl.start + i for j, sl in enumerate(sk.channel_slices()) if sk.parents[j] >= 0
            for i, c in enumerate(sk.channels[j]) if c.endswith("rotation")]
    return np.radians(m.values[:, cols])


def seeds(clips, prime: int, ahead: int, stride: int):
    for clip in clips:
        for s in range(prime, len(clip) - ahead + 1, stride):
            yield clip, s


def score(model, codec, clips, prime: int, ahead: int, stride: int, drifts: dict) -> dict:
    """Mean Euler error per predicted frame (ahead,) for each method, over the same seeds."""
    sampler = Sampler(model, codec, greedy=True, seed=0)
    errs: dict[str, list] = {name: [] for name in ["zero_velocity", *drifts]}
    wrapped: dict[str, list] = {name: [] for name in errs}
    for clip, s in seeds(clips, prime, ahead, stride):
        primer = clip.slice(s - prime, s)
        truth = euler_rows(clip.slice(s - prime, s + ahead), None)
        gen = sampler.generate(ahead, prime=primer)
        joined = codec.join(primer, gen)
        preds = {"zero_velocity": np.repeat(truth[prime - 1 : prime], ahead, 0)}
        preds |= {name: euler_rows(joined, d)[prime:] for name, d in drifts.items()}
        for name, p in preds.items():
            diff = p - truth[prime:]
            errs[name].append(np.linalg.norm(diff, axis=1))
            wrapped[name].append(np.linalg.norm(wrap_angle(diff), axis=1))
    return {name: np.mean(v, 0) for name, v in errs.items()}, {n: np.mean(v, 0) for n, v in wrapped.items()}, len(errs["zero_velocity"])


def main() -> None:
    ap = run_args()
    ap.add_argument("--stride", type=int, default=5, help="frames between seeds")
    a = ap.parse_args()
    model, codec, meta, clips = load_run(a)
    fps = float(codec.options["fps"])
    prime, ahead = int(round(a.prime_seconds * fps)), int(round(max(HORIZONS_MS) / 1000 * fps))
    drifts = {"model": None, "model_absolute_only": 1.0}
    mean, mean_wrapped, n = score(model, codec, clips, prime, ahead, a.stride, drifts)
    at = {ms: int(round(ms / 1000 * fps)) - 1 for ms in HORIZONS_MS}
    table = {name: {f"{ms}ms": round(float(v[i]), 4) for ms, i in at.items()} for name, v in mean.items()}
    result = header("poses_prediction") | {
        "run": str(a.run), "checkpoint_step": meta.get("step"), "valid_nll": meta.get("metrics", {}).get("valid", {}).get("nll"),
        "held_out": sorted({c.meta["name"] for c in clips}), "split": a.split, "fps": fps,
        "prime_frames": prime, "seeds": n, "stride_frames": a.stride, "decode_drift": codec.options["drift"],
        "mean_euler_error_rad": table,
        "mean_euler_error_rad_wrapped": {name: {f"{ms}ms": round(float(v[i]), 4) for ms, i in at.items()}
                                         for name, v in mean_wrapped.items()},
        "model_beats_zero_velocity_at_every_horizon": all(table["model"][k] < table["zero_velocity"][k] for k in table["model"]),
    }
    emit("poses_prediction", result, a.out)


if __name__ == "__main__":
    main()
