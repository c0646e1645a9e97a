"""Rotations and forward kinematics for BVH skeletons (numpy, any batch shape).

Conventions:
* a rotation matrix R maps a joint's local vectors into its parent's frame;
* Euler angles follow BVH: the listed axes are applied left to right, so the
  order "ZXY" with angles (z, x, y) gives R = Rz(z) @ Rx(x) @ Ry(y);
* the 6-D form is R's first two columns, (c0, c1) concatenated (Zhou et al.,
  "On the Continuity of Rotation Representations in Neural Networks", CVPR
  2019): continuous, unlike Euler angles, and any 6 numbers map back to a
  rotation by Gram-Schmidt.
"""

from __future__ import annotations

import numpy as np

AXES = {"X": 0, "Y": 1, "Z": 2}


def axis_matrix(axis: str, radians: np.ndarray) -> np.ndarray:
    """Elementary rotations about one axis: (...,) -> (..., 3, 3)."""
    c, s = np.cos(radians), np.sin(radians)
    o, z = np.ones_like(c), np.zeros_like(c)
    rows = {"X": [[o, z, z], [z, c, -s], [z, s, c]],
            "Y": [[c, z, s], [z, o, z], [-s, z, c]],
            "Z": [[c, -s, z], [s, c, z], [z, z, o]]}[axis]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def euler_to_matrix(degrees: np.ndarray, order: str) -> np.ndarray:
    """(..., k) angles in degrees about the k axes of `order` (e.g. "ZXY") -> (..., 3, 3)."""
    degrees = np.asarray(degrees, np.float64)
    out = np.broadcast_to(np.eye(3), degrees.shape[:-1] + (3, 3)).copy()
    for i, axis in enumerate(order):
        out = out @ axis_matrix(axis, np.radians(degrees[..., i]))
    return out


def matrix_to_euler(R: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) degrees for a Tait-Bryan order of three distinct axes.

    For R = Ra(a) Rb(b) Rc(c) with axis indices (i, j, k) and sign s = +1 when
    (i, j, k) is cyclic (XYZ, YZX, ZXY): sin b = s R[i,k], a = atan2(-s R[j,k], R[k,k]),
    c = atan2(-s R[i,j], R[i,i]). The middle angle lies in [-90, 90].
    """
    i, j, k = (AXES[a] for a in order)
    if len({i, j, k}) != 3:
        raise ValueError(f"Euler order {order!r} needs three distinct axes")
    s = 1.0 if (j - i) % 3 == 1 else -1.0
    R = np.asarray(R, np.float64)
    b = np.arcsin(np.clip(s * R[..., i, k], -1.0, 1.0))
    a = np.arctan2(-s * R[..., j, k], R[..., k, k])
    c = np.arctan2(-s * R[..., i, j], R[..., i, i])
    # Gimbal lock (cos b ~ 0): a and c turn about the same axis; put it all in a.
    lock = np.abs(s * R[..., i, k]) > 1.0 - 1e-9
    if np.any(lock):
        a = np.where(lock, np.arctan2(s * R[..., k, j], R[..., j, j]), a)
        c = np.where(lock, 0.0, c)
    return np.degrees(np.stack([a, b, c], -1))


def matrix_to_6d(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6): first column then second column."""
    return np.concatenate([R[..., :, 0], R[..., :, 1]], -1)


def sixd_to_matrix(x: np.ndarray) -> np.ndarray:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt; works for any non-degenerate 6 numbers."""
    x = np.asarray(x, np.float64)
    a, b = x[..., :3], x[..., 3:]
    c0 = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-8)
    b = b - (c0 * b).sum(-1, keepdims=True) * c0
    c1 = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-8)
    return np.stack([c0, c1, np.cross(c0, c1)], -1)


def yaw_matrix(radians: np.ndarray) -> np.ndarray:
    """Rotation about the vertical Y axis: (...,) -> (..., 3, 3)."""
    return axis_matrix("Y", np.asarray(radians, np.float64))


def heading(R: np.ndarray, forward=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Yaw (radians, about +Y) of where a body's local `forward` points on the ground: (..., 3, 3) -> (...)."""
    f = R @ np.asarray(forward, np.float64)
    return np.arctan2(f[..., 0], f[..., 2]) - np.arctan2(forward[0], forward[2])


def forward_kinematics(parents, offsets: np.ndarray, local_R: np.ndarray, translations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global joint positions and rotations.

    parents (J,) with parents before children; offsets (J, 3); local_R (T, J, 3, 3);
    translations (T, J, 3) added to each joint's offset (the root's position
    channels, zero elsewhere unless a joint has position channels).
    Returns positions (T, J, 3) and global rotations (T, J, 3, 3).
    """
    T, J = local_R.shape[:2]
    pos = np.zeros((T, J, 3))
    glob = np.zeros((T, J, 3, 3))
    local_t = offsets[None] + translations
    for j, p in enumerate(parents):
        if p < 0:
            glob[:, j], pos[:, j] = local_R[:, j], local_t[:, j]
        else:
            glob[:, j] = glob[:, p] @ local_R[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", glob[:, p], local_t[:, j])
    return pos, glob


def wrap_angle(radians: np.ndarray) -> np.ndarray:
    """Into [-pi, pi)."""
    return (np.asarray(radians) + np.pi) % (2 * np.pi) - np.pi


def rotation_order(channels) -> str:
    """'ZXY' from ('Xposition', ..., 'Zrotation', 'Xrotation', 'Yrotation'); '' when none."""
    return "".join(c[0] for c in channels if c.endswith("rotation"))


def local_transforms(skeleton, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BVH rows (T, n_channels) -> local rotations (T, J, 3, 3) and translations (T, J, 3).

    A joint without rotation channels keeps the identity. Position channels
    replace the offset along their axis, as Blender and pybvh read them (the
    root's channels are its position), so translation = value - offset there.
    """
    values = np.asarray(values, np.float64)
    T, J = len(values), len(skeleton.names)
    rots = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    trans = np.zeros((T, J, 3))
    by_order: dict[str, tuple[list[int], list[list[int]]]] = {}  # order -> (joints, their rotation columns)
    for j, (chans, sl) in enumerate(zip(skeleton.channels, skeleton.channel_slices())):
        for i, c in enumerate(chans):
            if c.endswith("position"):
                trans[:, j, AXES[c[0]]] = values[:, sl.start + i] - skeleton.offsets[j][AXES[c[0]]]
        cols = [sl.start + i for i, c in enumerate(chans) if c.endswith("rotation")]
        if cols:
            joints, columns = by_order.setdefault(rotation_order(chans), ([], []))
            joints.append(j)
            columns.append(cols)
    for order, (joints, columns) in by_order.items():  # one batched conversion per rotation order
        rots[:, joints] = euler_to_matrix(values[:, np.asarray(columns)], order)
    return rots, trans


def joint_positions(skeleton, values: np.ndarray) -> np.ndarray:
    """BVH rows (T, n_channels) -> world joint positions (T, J, 3) in file units."""
    rots, trans = local_transforms(skeleton, values)
    pos, _ = forward_kinematics(skeleton.parents, skeleton.offsets_array(), rots, trans)
    return pos
