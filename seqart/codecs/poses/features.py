"""BVH motion <-> pose feature frames (the channels of a poses Clip).

Per frame, at the codec's fps (units in brackets):

* `root.dx`, `root.dz` [file units per frame]: how far the root moved on the
  ground since the previous frame, in the body's facing frame at that frame
  (z = forward, x = sideways), so the same step reads the same in any
  direction; `root.dyaw` [radians per frame]: the heading change; `root.y`
  [file units]: the root's height.
* `J.r0..r5`: the 6-D rotation (first two matrix columns) of every moving
  joint J with three rotation channels; for the root, only its tilt relative
  to its heading (the heading lives in root.dyaw).
* `J.v0..v5` (option `velocity`): the change of J.r0..r5 since the previous
  frame. Decoding fuses both: pose_t = GS((1 - drift) (pose_{t-1} + v_t) + drift r_t),
  a complementary filter whose velocity term keeps short-term motion exact
  and whose absolute term stops long-term drift (drift = 1: absolute only).
* `J.Xrotation` etc.: joints with one or two rotation axes, and position
  channels of non-root joints, are passed through as they are (degrees, units).

* `J.contact` (option `contact`): 1 while foot joint J touches the floor (within
  a few percent of the body's height above its lowest, and nearly still), else 0;
  a two-class categorical the model predicts. Decoding pins a foot in contact:
  the root moves on the ground so that the planted foot stays where it landed.

Joints that never move in the data (fingers, eyes) carry no channels: their
mean Euler angles are kept in `info["static"]` and restored when decoding; so
are raw channels that never change (`info["constant"]`: e.g. the constant
per-joint positions of skeletons whose every joint has six channels).
`info` is a JSON dict (skeleton, kept joints, static angles, fps, options)
that every clip carries in `meta["poses"]`, so a clip can be decoded alone.
"""

from __future__ import annotations

import re

import numpy as np

from seqart.errors import SeqartError
from seqart.formats.bvh import Motion, Skeleton
from seqart.codecs.poses.kinematics import (forward_kinematics, heading, joint_positions, local_transforms, matrix_to_6d,
                               matrix_to_euler, rotation_order, sixd_to_matrix, wrap_angle, yaw_matrix)

ROOT_CHANNELS = ("root.dx", "root.dz", "root.dyaw", "root.y")


def joint_kind(channels) -> str:
    """'euler' (three distinct rotation axes), 'raw' (one or two), or 'none'."""
    order = rotation_order(channels)
    if not order:
        return "none"
    return "euler" if len(order) == 3 and len(set(order)) == 3 else "raw"


def channel_names(info: dict) -> tuple[str, ...]:
    sk = Skeleton.from_json(info["skeleton"])
    names = list(ROOT_CHANNELS)
    for j in info["kept"]:
        names += [f"{sk.names[j]}.r{i}" for i in range(6)]
        if info["velocity"]:
            names += [f"{sk.names[j]}.v{i}" for i in range(6)]
    for j, ch in raw_channels(sk, info.get("constant")):
        names.append(f"{sk.names[j]}.{ch}")
    return tuple(names) + contact_channels(info)


def contact_channels(info: dict) -> tuple[str, ...]:
    """The foot-contact channels ("lFoot.contact", ...), last in every frame; () without option contact."""
    return tuple(f"{name}.contact" for name in (info.get("feet") or {})) if info.get("contact") else ()


def raw_channels(sk: Skeleton, constant: dict | None = None) -> list[tuple[int, str]]:
    """(joint, channel) pairs carried as they are: rotations of 'raw' joints, non-root positions,
    except those named "joint.channel" in `constant` (never changing, so restored, not modelled)."""
    out = []
    for j, chans in enumerate(sk.channels):
        kind = joint_kind(chans)
        for c in chans:
            if (c.endswith("position") and sk.parents[j] >= 0) or (c.endswith("rotation") and kind == "raw"):
                if f"{sk.names[j]}.{c}" not in (constant or {}):
                    out.append((j, c))
    return out


def resample(rots: np.ndarray, trans: np.ndarray, raw: np.ndarray, src_fps: float, fps: float):
    """Linear in time: rotations in 6-D then Gram-Schmidt, translations and raw values as they are."""
    n = len(rots)
    if abs(src_fps - fps) < 1e-9 or n < 2:
        return rots, trans, raw
    t = np.arange(0.0, (n - 1) / src_fps + 1e-9, 1.0 / fps) * src_fps  # source frame index per output frame
    i0 = np.minimum(np.floor(t).astype(int), n - 2)
    w = t - i0
    return sixd_to_matrix(_lerp(matrix_to_6d(rots), i0, w)), _lerp(trans, i0, w), _lerp(raw, i0, w)


def _lerp(a: np.ndarray, i0: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Between rows i0 and i0 + 1 of a (T, ...) at weights w (N,)."""
    w = w.reshape((-1,) + (1,) * (a.ndim - 1))
    return a[i0] * (1 - w) + a[i0 + 1] * w


def encode(motion: Motion, info: dict, src_fps: float) -> np.ndarray:
    """BVH motion -> (T - 1, C) feature frames at info['fps'] (the first frame only anchors velocities)."""
    sk = motion.skeleton
    rots, trans = local_transforms(sk, motion.values)
    raw_idx = _raw_columns(sk, info.get("constant"))
    rots, trans, raw = resample(rots, trans, motion.values[:, raw_idx], src_fps, info["fps"])
    contact = _contact_labels(sk, rots, trans, info) if contact_channels(info) else np.zeros((len(rots), 0))
    root_pos = sk.offsets_array()[0] + trans[:, 0]  # (T, 3)
    yaw = heading(rots[:, 0], info["forward"])  # (T,)
    rots = rots.copy()
    rots[:, 0] = np.swapaxes(yaw_matrix(yaw), -1, -2) @ rots[:, 0]  # root tilt only
    step = np.einsum("tba,tb->ta", yaw_matrix(yaw[:-1]), root_pos[1:] - root_pos[:-1])  # into facing frame
    cols = [step[:, 0], step[:, 2], wrap_angle(np.diff(yaw)), root_pos[1:, 1]]
    six = matrix_to_6d(rots[:, info["kept"]])  # (T, K, 6)
    parts = [np.stack(cols, 1)]
    for k in range(len(info["kept"])):
        parts.append(six[1:, k])
        if info["velocity"]:
            parts.append(six[1:, k] - six[:-1, k])
    parts += [raw[1:], contact[1:]]
    return np.concatenate(parts, 1).astype(np.float32)


def _contact_labels(sk: Skeleton, rots: np.ndarray, trans: np.ndarray, info: dict) -> np.ndarray:
    """(T, n_feet) 1.0 where a foot is near its floor height and slower than the speed limit, else 0.0."""
    pos, _ = forward_kinematics(sk.parents, sk.offsets_array(), rots, trans)
    feet = info["feet"]
    idx = [sk.names.index(n) for n in feet]
    low = pos[:, idx, 1] < np.asarray(list(feet.values())) + info["contact_height"] * info["body_height"]
    speed = np.linalg.norm(np.diff(pos[:, idx][..., [0, 2]], axis=0), axis=-1) * info["fps"]  # (T - 1, n)
    still = np.concatenate([speed[:1], speed]) < info["contact_speed"] * info["body_height"]
    return (low & still).astype(np.float64)


def fit_feet(sk: Skeleton, values: np.ndarray, names: list[str] | None) -> dict[str, float]:
    """Foot joints -> their floor height (5th percentile of their height in the data, file units).

    names None or empty: the lowest joint of the rest pose and its left/right partner.
    """
    if not names:
        rest = joint_positions(sk, np.zeros((1, sk.n_channels)))[0]
        lowest = sk.names[int(np.argmin(rest[1:, 1])) + 1]
        names = sorted({lowest, mirror_name(lowest, sk.names)})
    unknown = [n for n in names if n not in sk.names]
    if unknown:
        raise SeqartError(f"poses option feet: no joint named {', '.join(unknown)} in the skeleton")
    pos = joint_positions(sk, values)
    return {n: float(np.percentile(pos[:, sk.names.index(n), 1], 5)) for n in names}


def body_height(sk: Skeleton) -> float:
    """Height of the rest pose (file units): top to bottom over joints and end sites."""
    pos, glob = forward_kinematics(sk.parents, sk.offsets_array(), np.eye(3)[None, None].repeat(len(sk.names), 1),
                                   np.zeros((1, len(sk.names), 3)))
    ends = [pos[0, j] + np.asarray(o) for j, o in sk.end_sites]
    ys = np.concatenate([pos[0, :, 1], [e[1] for e in ends]])
    return float(max(ys.max() - ys.min(), 1e-6))


def constant_channels(sk: Skeleton, values: np.ndarray, static_deg: float) -> dict[str, float]:
    """Raw channels that never change in the data -> their value ("joint.channel": value).

    Positions count as constant when they vary less than 1e-4 body heights (std), rotations less
    than static_deg degrees: modelling them would only add noise (and their near-zero std would
    blow up any error, e.g. a left/right swap of slightly asymmetric offsets, in normalised units).
    """
    slices, tol = sk.channel_slices(), 1e-4 * body_height(sk)
    out = {}
    for j, c in raw_channels(sk):
        col = values[:, slices[j].start + sk.channels[j].index(c)]
        if col.std() < (tol if c.endswith("position") else static_deg):
            out[f"{sk.names[j]}.{c}"] = float(col.mean())
    return out


def _raw_columns(sk: Skeleton, constant: dict | None = None) -> list[int]:
    slices = sk.channel_slices()
    return [slices[j].start + sk.channels[j].index(c) for j, c in raw_channels(sk, constant)]


def decode(frames: np.ndarray, info: dict, drift: float | None = None, pin: bool | None = None) -> Motion:
    """(T, C) feature frames -> BVH motion on the stored skeleton, from the rest offset, facing forward.

    pin: keep planted feet in place (default: when the codec pins feet and the clip was generated).
    """
    dec = PoseDecoder(info, drift, pin)
    return Motion(dec.skeleton, 1.0 / info["fps"], dec(frames))


class PoseDecoder:
    """Feature frames -> BVH rows, a block or a frame at a time.

    It keeps the root's place (3,), heading (radians) and the last fused 6-D
    rotations (K, 6) between calls, so a live stream decoded frame by frame
    gives the same rows as the whole clip decoded at once.
    """

    def __init__(self, info: dict, drift: float | None = None, pin: bool | None = None):
        self.info = info
        self.skeleton = Skeleton.from_json(info["skeleton"])
        self.drift = info["drift"] if drift is None else drift
        self.K, self.width = len(info["kept"]), 12 if info["velocity"] else 6
        self.raw_columns = _raw_columns(self.skeleton, info.get("constant"))
        self.flags = len(contact_channels(info))  # predicted contact channels, else contact is detected
        self.feet = list(info.get("feet") or {}) if (self.flags or info.get("pin_feet")) else []
        pin = not info.get("recorded") if pin is None else pin  # a recorded clip decodes as it was captured
        self.pin = bool(self.feet) and pin and "Xposition" in self.skeleton.channels[0]
        # the stage (info "stage_seconds" > 0, generated clips only): where no foot is planted, the root
        # drifts back toward where the dance began, closing 1/(stage_seconds * fps) of the gap a frame
        stage = float(info.get("stage_seconds") or 0.0) if pin else 0.0
        self.stage_rate = 1.0 / (stage * info["fps"]) if stage > 0 and "Xposition" in self.skeleton.channels[0] else 0.0
        self.reset()

    def reset(self, place: bool = True) -> None:
        """Forget the rotations (the next frame is taken as it is); with place, also the root's place and heading."""
        self.six = None
        self.anchors, self.last_feet = {}, None  # foot -> (x, z) where it was planted; last (n_feet, 3) positions
        if place:
            self.pos, self.yaw = self.skeleton.offsets_array()[0].astype(np.float64), 0.0
            self.centre = self.pos[[0, 2]].copy()  # the stage's centre (x, z), file units

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(T, C) feature frames -> (T, n_channels) BVH rows (degrees, file units)."""
        sk, info, K = self.skeleton, self.info, self.K
        frames = np.atleast_2d(np.asarray(frames, np.float64))
        T = len(frames)
        block = frames[:, 4 : 4 + K * self.width].reshape(T, K, self.width)
        six = _fuse(block[..., :6], block[..., 6:] if info["velocity"] else None, self.drift, self.six)
        yaw = self.yaw + np.cumsum(frames[:, 2])
        prev_yaw = np.concatenate([[self.yaw], yaw[:-1]])
        ground = np.stack([frames[:, 0], 0 * frames[:, 0], frames[:, 1]], 1)  # (T, 3) step in the facing frame
        step = np.einsum("tab,tb->ta", yaw_matrix(prev_yaw), ground)
        pos = self.pos + np.cumsum(step, 0)
        pos[:, 1] = frames[:, 3]
        rots = np.broadcast_to(np.eye(3), (T, len(sk.names), 3, 3)).copy()
        rots[:, info["kept"]] = sixd_to_matrix(six)
        rots[:, 0] = yaw_matrix(yaw) @ rots[:, 0]
        raw_end = 4 + K * self.width + len(self.raw_columns)
        values = _to_values(sk, info, rots, pos, frames[:, 4 + K * self.width : raw_end], self.raw_columns)
        if (self.pin or self.stage_rate) and T:
            flags = frames[:, raw_end : raw_end + self.flags] >= 0.5 if self.flags else None
            pos[:, [0, 2]] += self._ground_shifts(values, flags, pos[:, [0, 2]])
            values[:, [sk.channels[0].index("Xposition"), sk.channels[0].index("Zposition")]] = pos[:, [0, 2]]
        if T:
            self.pos, self.yaw, self.six = pos[-1].copy(), float(yaw[-1]), six[-1].copy()
            if not (np.isfinite(self.pos).all() and np.isfinite(self.yaw)):  # one bad frame must not spoil the rest
                self.reset()
        return values

    def _ground_shifts(self, values: np.ndarray, contact: np.ndarray | None, root: np.ndarray) -> np.ndarray:
        """BVH rows (T, n), contact flags (T, n_feet) or None, root (x, z) (T, 2) -> (T, 2) ground
        shifts of the root (x, z): planted feet pinned (when the decoder pins) and the stage's pull.

        Without flags a foot is in contact when it is low and slow (the rule of the labels, see
        `_contact_labels`, on the pose as decoded so far). A foot that lands is anchored where it
        is; while it stays in contact the root is shifted (from then on) so that the foot keeps to
        its anchor. Two planted feet share the shift (their mean). With a stage, the frames where
        no foot is in contact also move the root toward the centre, so a planted foot never slides.
        """
        sk, info = self.skeleton, self.info
        if not self.pin:  # a stage alone: every frame pulls
            shift, out = np.zeros(2), np.zeros((len(values), 2))
            for t in range(len(values)):
                shift -= self.stage_rate * (root[t] + shift - self.centre)
                out[t] = shift
            return out
        feet = joint_positions(sk, values)[:, [sk.names.index(n) for n in self.feet]]  # (T, n_feet, 3)
        if contact is None:
            floor = np.asarray(list(info["feet"].values())) + info["contact_height"] * info["body_height"]
            limit = info["contact_speed"] * info["body_height"] / info["fps"]  # file units per frame
        shift, out = np.zeros(3), np.zeros((len(values), 2))
        for t in range(len(values)):
            here = feet[t] + shift
            if contact is None:
                moved = np.zeros(len(here)) if self.last_feet is None else np.linalg.norm((here - self.last_feet)[:, [0, 2]], axis=1)
                on = (here[:, 1] < floor) & (moved < limit)
            else:
                on = contact[t]
            pulls = [self.anchors[f] - here[i, [0, 2]] for i, f in enumerate(self.feet) if on[i] and f in self.anchors]
            if pulls:
                shift[[0, 2]] += np.mean(pulls, 0)
            elif self.stage_rate and not on.any():
                shift[[0, 2]] -= self.stage_rate * (root[t] + shift[[0, 2]] - self.centre)
            out[t] = shift[[0, 2]]
            self.last_feet = feet[t] + shift
            self.anchors = {f: self.last_feet[i, [0, 2]] for i, f in enumerate(self.feet) if on[i]}
        return out


def _fuse(absolute: np.ndarray, velocity: np.ndarray | None, drift: float,
          prev: np.ndarray | None = None) -> np.ndarray:
    """(T, K, 6) absolute [+ velocity] -> (T, K, 6) fused 6-D rotations (see module doc).

    prev: the fused rotations (K, 6) of the frame before, when continuing a stream.
    """
    if velocity is None or drift >= 1.0:
        return absolute
    out = np.empty_like(absolute)
    for t in range(len(absolute)):
        last = out[t - 1] if t else prev
        if last is None:
            out[t] = absolute[t]
            continue
        guess = (1.0 - drift) * (last + velocity[t]) + drift * absolute[t]
        out[t] = matrix_to_6d(sixd_to_matrix(guess))
    return out


def _to_values(sk: Skeleton, info: dict, rots: np.ndarray, root_pos: np.ndarray, raw: np.ndarray,
               raw_columns: list[int]) -> np.ndarray:
    """Local rotations (T, J, 3, 3), root position (T, 3), raw columns -> BVH rows (T, n_channels)."""
    T = len(rots)
    values = np.zeros((T, sk.n_channels))
    slices = sk.channel_slices()
    kept = set(info["kept"])
    for j, chans in enumerate(sk.channels):
        sl, order = slices[j], rotation_order(chans)
        rot_cols = [slices[j].start + i for i, c in enumerate(chans) if c.endswith("rotation")]
        if joint_kind(chans) == "euler":
            if j in kept:
                values[:, rot_cols] = matrix_to_euler(rots[:, j], order)
            else:
                values[:, rot_cols] = np.asarray(info["static"].get(sk.names[j], [0.0, 0.0, 0.0]))
        if sk.parents[j] < 0:
            for i, c in enumerate(chans):
                if c.endswith("position"):
                    values[:, sl.start + i] = root_pos[:, "XYZ".index(c[0])]
    values[:, raw_columns] = raw
    for name, value in (info.get("constant") or {}).items():
        joint, _, chan = name.rpartition(".")
        j = sk.names.index(joint)
        values[:, slices[j].start + sk.channels[j].index(chan)] = value
    return values


def static_angles(sk: Skeleton, values: np.ndarray, threshold_deg: float) -> dict[str, list[float]]:
    """Euler joints whose angles vary less than threshold (std, degrees) -> their mean angles."""
    out = {}
    for j, (chans, sl) in enumerate(zip(sk.channels, sk.channel_slices())):
        if sk.parents[j] < 0 or joint_kind(chans) != "euler":
            continue
        cols = [sl.start + i for i, c in enumerate(chans) if c.endswith("rotation")]
        if values[:, cols].std(0).max() < threshold_deg:
            out[sk.names[j]] = [float(v) for v in values[:, cols].mean(0)]
    return out


def time_warp(frames: np.ndarray, channels, speed: float) -> np.ndarray:
    """The same motion played `speed` times as fast: (T, C) -> (about T / speed, C).

    Frames are interpolated linearly; per-frame changes (root.dx/dz/dyaw and
    6-D velocities) are scaled by speed, absolute 6-D rotations re-orthonormalised.
    """
    n = len(frames)
    if n < 2 or abs(speed - 1.0) < 1e-6:
        return frames
    t = np.arange(0.0, n - 1 + 1e-9, speed)
    i0 = np.minimum(np.floor(t).astype(int), n - 2)
    out = _lerp(frames.astype(np.float64), i0, t - i0)
    rate = [i for i, c in enumerate(channels) if c in ROOT_CHANNELS[:3] or re.search(r"\.v\d$", c)]
    out[:, rate] *= speed
    flags = [i for i, c in enumerate(channels) if c.endswith(".contact")]
    out[:, flags] = np.round(out[:, flags])  # a class, not a quantity
    for i, c in enumerate(channels):
        if c.endswith(".r0"):  # six consecutive absolute channels r0..r5 of one joint
            out[:, i : i + 6] = matrix_to_6d(sixd_to_matrix(out[:, i : i + 6]))
    return out.astype(np.float32)


def mirror_name(name: str, names) -> str:
    """The left/right partner of a joint name, or the name itself."""
    rules = [(r"^l(?=[A-Z_])", "r"), (r"^r(?=[A-Z_])", "l"), (r"^left", "right"), (r"^right", "left"),
             (r"^Left", "Right"), (r"^Right", "Left"), (r"^L(?=[_.A-Z])", "R"), (r"^R(?=[_.A-Z])", "L"),
             (r"([_.])L$", r"\1R"), (r"([_.])R$", r"\1L"), (r"Left", "Right"), (r"Right", "Left"),
             (r"left", "right"), (r"right", "left")]
    for pattern, repl in rules:
        other = re.sub(pattern, repl, name, count=1)
        if other != name and other in names:
            return other
    return name


def mirror_map(info: dict) -> tuple[np.ndarray, np.ndarray]:
    """Channel permutation (C,) and signs (C,) that reflect a clip across the body's X = 0 plane.

    A reflection M = diag(-1, 1, 1) maps each rotation R to M R M, which flips
    the signs of 6-D entries (1, -1, -1, -1, 1, 1); left and right joints swap.
    """
    sk = Skeleton.from_json(info["skeleton"])
    chans = channel_names(info)
    index = {c: i for i, c in enumerate(chans)}
    perm, sign = np.arange(len(chans)), np.ones(len(chans), np.float32)
    sign[[index["root.dx"], index["root.dyaw"]]] = -1
    six_sign = [1, -1, -1, -1, 1, 1]
    for c, i in index.items():
        joint, _, part = c.rpartition(".")
        if joint == "root":
            continue
        partner = mirror_name(joint, sk.names)
        src = f"{partner}.{part}"
        perm[i] = index.get(src, i)
        if part[0] in "rv" and part[1:].isdigit():
            sign[i] = six_sign[int(part[1:])]
        elif part in ("Xposition", "Yrotation", "Zrotation"):
            sign[i] = -1
    return perm, sign
