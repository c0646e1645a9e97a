"""Dance: how much each part of the body moves, feet that stay planted, long-run stability.

Positions come from forward kinematics of the decoded BVH motion, in file
units (centimetres for CMU), Y up. Limbs and spine are measured in the body's
own frame (root at the origin, heading removed), so a spin or a walk does not
count as arm motion; the root group is the root's own world trajectory.

* **joint groups** (`joint_groups`): a joint belongs to the group of its
  nearest ancestor-or-self whose name says leg (thigh, shin, knee, foot, toe,
  buttock, upleg, ...) or arm (collar, clavicle, shoulder, arm, elbow, hand,
  wrist, fingers); other non-root joints are spine/head; the root is its own;
* **speed** (cm/s) and **acceleration** (cm/s^2): mean over frames and the
  group's joints of |dp| * fps and |d2p| * fps^2;
* **feet**: leg joints with no leg joint below them (the ankles in CMU).
  **Contact**: the foot is within `contact_cm` of the ground, where the ground
  is the 5th percentile of real foot heights (robust to a few low frames) and
  contact_cm is 5% of the leg length (4.3 cm for CMU, whose real ankle heights
  run 6.3 cm at the 5th percentile and 9.0 cm at the 25th; with this threshold
  38% of real salsa frames are in contact, and a contact foot moves at a
  quarter of the speed of a lifted one: 23 against 97 cm/s). **Sliding**: the
  mean horizontal speed of a foot in contact; `slide_share` is the share of contact frames
  faster than `SLIDE_CM_S` (20 cm/s: 0.8 cm per frame at 25 fps, well above
  marker noise, so a foot moving that fast while down is skating).
"""

from __future__ import annotations

import re

import numpy as np

from seqart.clip import Clip
from seqart.codecs.poses import clip_to_motion
from seqart.codecs.poses.kinematics import heading, joint_positions, local_transforms, yaw_matrix

LEG = re.compile(r"thigh|shin|knee|foot|toe|ankle|buttock|upleg|leg|calf|hip", re.I)
ARM = re.compile(r"collar|clavicle|shoulder|shldr|arm|elbow|hand|wrist|thumb|index|mid|ring|pinky|finger", re.I)
GROUPS = ("legs", "arms", "spine_head", "root")
SLIDE_CM_S = 20.0


def joint_groups(skeleton) -> dict[str, list[int]]:
    """Group name -> joint indices (see the module doc)."""
    names, parents = skeleton.names, skeleton.parents
    out = {g: [] for g in GROUPS}
    for j in range(len(names)):
        if parents[j] < 0:
            out["root"].append(j)
            continue
        group, k = "spine_head", j
        while k >= 0 and parents[k] >= 0:
            if LEG.search(names[k]):
                group = "legs"
                break
            if ARM.search(names[k]):
                group = "arms"
                break
            k = parents[k]
        out[group].append(j)
    return out


def feet(skeleton) -> list[int]:
    legs = set(joint_groups(skeleton)["legs"])
    return [j for j in legs if not any(skeleton.parents[c] == j for c in legs)]


def leg_length(skeleton) -> float:
    """Mean over feet of the bone lengths from the top of the leg down to the foot (file units)."""
    legs, off = set(joint_groups(skeleton)["legs"]), skeleton.offsets_array()
    out = []
    for f in feet(skeleton):
        total, k = 0.0, f
        while skeleton.parents[k] in legs:
            total += float(np.linalg.norm(off[k]))
            k = skeleton.parents[k]
        out.append(total)
    return float(np.mean(out)) if out else 1.0


class Positions:
    """A clip's world and body-frame joint positions, (T, J, 3) each, and its skeleton."""

    def __init__(self, clip: Clip):
        m = clip_to_motion(clip)
        self.skeleton, self.fps = m.skeleton, float(clip.fps)
        self.world = joint_positions(m.skeleton, m.values)
        rots, _ = local_transforms(m.skeleton, m.values)
        yaw = heading(rots[:, 0], clip.meta["poses"]["forward"])
        self.body = np.einsum("tba,tjb->tja", yaw_matrix(yaw), self.world - self.world[:, :1])


def _motion(p: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) -> per-frame-and-joint speed (T-1, J) and acceleration (T-2, J)."""
    v = np.diff(p, axis=0) * fps
    return np.linalg.norm(v, axis=-1), np.linalg.norm(np.diff(v, axis=0) * fps, axis=-1)


def group_motion(clips: list[Positions]) -> dict[str, dict[str, float]]:
    """Mean speed and acceleration of each joint group over all frames of all clips."""
    groups = joint_groups(clips[0].skeleton)
    sums = {g: [0.0, 0, 0.0, 0] for g in GROUPS}
    for c in clips:
        for g, idx in groups.items():
            p = c.world[:, idx] if g == "root" else c.body[:, idx]
            s, a = _motion(p, c.fps)
            sums[g][0] += float(s.sum())
            sums[g][1] += s.size
            sums[g][2] += float(a.sum())
            sums[g][3] += a.size
    return {g: {"speed": v[0] / max(v[1], 1), "acceleration": v[2] / max(v[3], 1)} for g, v in sums.items() if groups[g]}


def ground_level(clips: list[Positions]) -> float:
    heights = np.concatenate([c.world[:, feet(c.skeleton), 1].ravel() for c in clips])
    return float(np.percentile(heights, 5))


def foot_sliding(clips: list[Positions], ground: float, contact: float) -> dict:
    """Horizontal foot speed (cm/s) in contact and lifted, and the share of contact frames that skate."""
    down, up = [], []
    for c in clips:
        for f in feet(c.skeleton):
            p = c.world[:, f]
            speed = np.linalg.norm(np.diff(p[:, [0, 2]], axis=0), axis=-1) * c.fps
            on = p[1:, 1] <= ground + contact
            down.append(speed[on])
            up.append(speed[~on])
    down, up = np.concatenate(down), np.concatenate(up)
    mean = lambda x: float(x.mean()) if len(x) else float("nan")  # noqa: E731
    return {"contact_speed": mean(down), "lifted_speed": mean(up), "contact_share": len(down) / max(len(down) + len(up), 1),
            "slide_share": float(np.mean(down > SLIDE_CM_S)) if len(down) else float("nan")}


def per_second(pos: Positions) -> dict[str, np.ndarray]:
    """Per whole second: mean body-frame joint speed (cm/s), its mean square, and the body's extent (cm)."""
    n = int(round(pos.fps))
    speed, _ = _motion(pos.body, pos.fps)  # (T-1, J)
    extent = np.linalg.norm(pos.body, axis=-1).max(-1)  # (T,) farthest joint from the root
    k = len(speed) // n
    s = speed[: k * n].reshape(k, n, -1)
    return {"speed": s.mean((1, 2)), "energy": (s ** 2).mean((1, 2)), "extent": extent[: k * n].reshape(k, n).max(1)}
