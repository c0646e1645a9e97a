"""Per joint, how fast a generated dance turns and moves against held-out real dancing.

    .venv/bin/python benchmarks/poses_joint_speed.py --model salsa
    .venv/bin/python benchmarks/poses_joint_speed.py --quick --data datasets/mocap

For every joint that moves: the ratio of generated to real mean angular speed of the joint's own
local rotation (degrees a second, the angle of R_t^T R_{t+1}), and of its position's speed in the
body's own frame (root at the origin, heading removed; `seqart.codecs.poses.quality`). A joint
whose position moves faster than real while every rotation on its chain turns slower than real
is moved by joints that turn without the counter-turns of real bodies (a dancer keeps the head
steady), not by its own rotation. One generation of `--minutes` at the model's fps, primed with
the first `--prime-seconds` of the first held-out clip; the held-out clips are the test split,
else the validation split. Writes benchmarks/results/poses_joint_speed_<model>.json.
"""

from __future__ import annotations

import _common as C  # noqa: F401  (pins threads before numpy/torch load)

import numpy as np

from seqart.codecs.poses import clip_to_motion
from seqart.codecs.poses import quality as Q
from seqart.codecs.poses.kinematics import local_transforms


def angular_speed(clips) -> np.ndarray:
    """(J,) mean angular speed of each joint's local rotation over the clips, degrees a second."""
    per_frame = []
    for c in clips:
        motion = clip_to_motion(c)
        rots, _ = local_transforms(motion.skeleton, motion.values)  # (T, J, 3, 3)
        turn = np.einsum("tjba,tjbc->tjac", rots[:-1], rots[1:])  # (T-1, J, 3, 3) R_t^T R_t+1
        cos = np.clip((np.trace(turn, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
        per_frame.append(np.degrees(np.arccos(cos)) * float(c.fps))
    return np.concatenate(per_frame).mean(0)


def position_speed(clips: list[Q.Positions]) -> np.ndarray:
    """(J,) mean speed of each joint in the body's own frame, cm a second."""
    return np.concatenate([np.linalg.norm(np.diff(p.body, axis=0), axis=-1) * p.fps for p in clips]).mean(0)


def main() -> None:
    a = C.dance_args(__doc__, 2.0).parse_args()
    model, codec, meta, data, split, which, primer, gen = C.dance(a)
    held = split.clips[which]
    fps = float(codec.options["fps"])
    real_pos = [Q.Positions(c) for c in held]
    sk = real_pos[0].skeleton
    ang_real, ang_gen = angular_speed(held), angular_speed([gen])
    pos_real, pos_gen = position_speed(real_pos), position_speed([Q.Positions(gen)])
    groups = Q.joint_groups(sk)
    joints = {}
    for group, idx in groups.items():
        for j in idx:
            if ang_real[j] < 1.0:  # a joint that never turns in the data (fingers, eyes): nothing to compare
                continue
            joints[sk.names[j]] = {"group": group, "angular_speed_deg_s_real": round(float(ang_real[j]), 2),
                                   "angular_speed_ratio": round(float(ang_gen[j] / ang_real[j]), 4),
                                   "position_speed_cm_s_real": round(float(pos_real[j]), 2),
                                   # the root sits at the body frame's origin: no position speed to compare
                                   "position_speed_ratio": round(float(pos_gen[j] / pos_real[j]), 4) if pos_real[j] > 1e-6 else None}
    result = C.model_header("poses_joint_speed", a, meta) | {
        "config": {"data": str(data), "minutes": a.minutes, "fps": fps, "temperature": a.temperature, "seed": a.seed,
                   "primer": f"{primer.meta.get('name', '')}, first {a.prime_seconds:g} s ({which} split)", "quick": a.quick},
        "joints": joints,
        "angular_speed_ratio_range": [min(v["angular_speed_ratio"] for v in joints.values()),
                                      max(v["angular_speed_ratio"] for v in joints.values())],
    }
    C.emit(C.model_stem("poses_joint_speed", a), result, a.out)


if __name__ == "__main__":
    main()
