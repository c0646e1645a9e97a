"""Poses out: BVH on the source skeleton, stick-figure GIF/MP4, joint positions as npz/CSV.

Every poses clip carries its skeleton in `meta["poses"]`, so these writers
need nothing else. Several clips go into one file one after another (the
root keeps moving from where the previous clip stopped), except in the
animations, which show them side by side.

Animation: orthographic view from `azimuth` degrees around the vertical and
`elevation` degrees above the floor; the camera follows the root on the
ground with a 1-second lag so travel shows against the floor grid. Left
limbs are blue, right limbs red. Pillow draws the frames; MP4 is encoded by
ffmpeg (libx264, bit-exact flags) when it is installed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqart.clip import Clip
from seqart.codecs.poses.features import mirror_name
from seqart.codecs.poses import clip_to_motion
from seqart.errors import SeqartError
from seqart.export import output, register_writer
from seqart.export.gif_timing import frame_durations_ms
from seqart.formats.bvh import Motion, bvh_text
from seqart.codecs.poses.kinematics import forward_kinematics, joint_positions

# Frames are palette images with these five colours, so GIFs need no quantising (fast, deterministic).
PALETTE = [(255, 255, 255), (200, 200, 200), (40, 90, 200), (200, 50, 40), (40, 40, 40)]
BACKGROUND, FLOOR, LEFT, RIGHT, MIDDLE = range(5)


def clips_motion(clips: list[Clip], drift: float | None = None) -> Motion:
    """All clips decoded as one motion (their frames one after another)."""
    fps = {c.fps for c in clips}
    if len(fps) > 1:
        raise SeqartError(f"cannot join pose clips with different frame rates {sorted(fps)}")
    joined = clips[0].with_frames(np.concatenate([c.frames for c in clips]))
    return clip_to_motion(joined, drift)


@register_writer("poses", ".bvh")
def write_bvh(clips: list[Clip], dest, *, drift: float | None = None) -> None:
    """BVH on the skeleton the model was trained on (Euler angles in its channel orders)."""
    text = bvh_text(clips_motion(clips, drift))
    with output(dest, binary=False) as f:
        f.write(text)


def positions(clip: Clip, drift: float | None = None) -> tuple[np.ndarray, Motion]:
    """World joint positions (T, J, 3) in the skeleton's units, and the decoded motion."""
    motion = clip_to_motion(clip, drift)
    return joint_positions(motion.skeleton, motion.values), motion


@register_writer("poses", ".npz")
def write_npz(clips: list[Clip], dest, *, drift: float | None = None) -> None:
    """positions (T, J, 3) float32, joints (J,) names, parents (J,), fps, clip (T,) index of each frame."""
    pos, motion = positions(clips[0].with_frames(np.concatenate([c.frames for c in clips])), drift)
    which = np.concatenate([np.full(len(c), i) for i, c in enumerate(clips)]).astype(np.int32)
    buf = io.BytesIO()
    np.savez(buf, positions=pos.astype(np.float32), joints=np.array(motion.skeleton.names),
             parents=np.array(motion.skeleton.parents, np.int32), fps=np.float32(1.0 / motion.frame_time),
             clip=which)
    with output(dest, binary=True) as f:
        f.write(buf.getvalue())


@register_writer("poses", ".csv")
def write_csv(clips: list[Clip], dest, *, drift: float | None = None) -> None:
    """One row per frame: clip, frame, seconds, then JOINT_x, JOINT_y, JOINT_z for every joint."""
    rows, start = [], 0
    for i, clip in enumerate(clips):
        pos, motion = positions(clip, drift)
        if not rows:
            rows.append("clip,frame,seconds," + ",".join(f"{n}_{a}" for n in motion.skeleton.names for a in "xyz"))
        for k, p in enumerate(pos, start):
            rows.append(f"{i},{k},{k * motion.frame_time:.4f}," + ",".join(f"{v:.3f}" for v in p.ravel()))
        start += len(pos)
    with output(dest, binary=False) as f:
        f.write("\n".join(rows) + "\n")


# --- animation ------------------------------------------------------------------------------------------
class StickFigure:
    """Projects one clip's joints and draws a frame of it."""

    def __init__(self, clip: Clip, size: int, azimuth: float, elevation: float, drift: float | None):
        self.pos, motion = positions(clip, drift)
        sk = motion.skeleton
        self.parents = sk.parents
        self.side = [_side(n, sk.names) for n in sk.names]
        self.head = sk.names.index("head") if "head" in sk.names else None
        self.size = size
        a, e = np.radians(azimuth), np.radians(elevation)
        self.view = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
        self.view = np.array([[1, 0, 0], [0, np.cos(e), np.sin(e)], [0, -np.sin(e), np.cos(e)]]) @ self.view
        self.scale = 0.8 * size / max(_rest_height(sk), 1e-6)
        self.centre = _follow(self.pos[:, 0, [0, 2]], fps=1.0 / motion.frame_time)
        self.unit = _rest_height(sk) / 4  # floor grid spacing: a quarter of the body height

    def _screen(self, pts: np.ndarray, t: int) -> np.ndarray:
        """(N, 3) world points -> (N, 2) pixels, centred on the followed root, feet near the bottom."""
        c = np.array([self.centre[t, 0], 0.0, self.centre[t, 1]])
        v = (pts - c) @ self.view.T
        return np.stack([self.size / 2 + self.scale * v[:, 0], self.size * 0.9 - self.scale * v[:, 1]], 1)

    def draw(self, img: ImageDraw.ImageDraw, t: int, dx: int) -> None:
        c, u = self.centre[t], self.unit
        base = np.round(c / u) * u
        for k in range(-4, 5):  # floor grid lines, fixed to the world
            for a, b in (([k, 0, -4], [k, 0, 4]), ([-4, 0, k], [4, 0, k])):
                p = self._screen(np.array([a, b], float) * u + [base[0], 0, base[1]], t)
                img.line([tuple(p[0] + (dx, 0)), tuple(p[1] + (dx, 0))], fill=FLOOR, width=1)
        p = self._screen(self.pos[t], t) + (dx, 0)
        w = max(2, self.size // 100)
        for j, par in enumerate(self.parents):
            if par >= 0:
                img.line([tuple(p[par]), tuple(p[j])], fill=self.side[j], width=w)
        if self.head is not None:
            r = self.scale * self.unit * 0.25
            x, y = p[self.head]
            img.ellipse([x - r, y - 1.6 * r, x + r, y + 0.4 * r], outline=MIDDLE, width=w)


def _side(name: str, names) -> tuple[int, int, int]:
    other = mirror_name(name, names)
    if other == name:
        return MIDDLE
    return LEFT if name.lower().startswith("l") or "left" in name.lower() else RIGHT


def _rest_height(sk) -> float:
    rots = np.broadcast_to(np.eye(3), (1, len(sk.names), 3, 3))
    pos, _ = forward_kinematics(sk.parents, sk.offsets_array(), rots, np.zeros((1, len(sk.names), 3)))
    return float(np.ptp(pos[0, :, 1]) * 1.15)


def _follow(xz: np.ndarray, fps: float) -> np.ndarray:
    """Exponentially smoothed ground position (time constant 1 s): the camera's centre."""
    out = np.empty_like(xz)
    a = 1.0 - np.exp(-1.0 / max(fps, 1e-6))
    out[0] = xz[0]
    for t in range(1, len(xz)):
        out[t] = out[t - 1] + a * (xz[t] - out[t - 1])
    return out


def render_frames(clips: list[Clip], size: int, fps: float | None, azimuth: float, elevation: float,
                  drift: float | None) -> tuple[list[Image.Image], float]:
    """Palette frames with the clips side by side, subsampled to `fps` (default: the clips' rate)."""
    if size < 32:
        raise SeqartError(f"animation size must be at least 32 pixels, not {size}")
    figs = [StickFigure(c, size, azimuth, elevation, drift) for c in clips]
    src = float(clips[0].fps or 25.0)
    rate = min(float(fps or src), src)
    n = max(len(f.pos) for f in figs)
    picks = np.floor(np.arange(int(n * rate / src + 1e-9)) * (src / rate) + 1e-9).astype(int)
    palette = [v for rgb in PALETTE for v in rgb]
    frames = []
    for t in picks:
        img = Image.new("P", (size * len(figs), size), BACKGROUND)
        img.putpalette(palette)
        draw = ImageDraw.Draw(img)
        for i, fig in enumerate(figs):
            fig.draw(draw, min(int(t), len(fig.pos) - 1), i * size)
        frames.append(img)
    return frames, rate


@register_writer("poses", ".gif")
def write_gif(clips: list[Clip], dest, *, size: int = 320, fps: float | None = None, azimuth: float = 30.0,
              elevation: float = 15.0, drift: float | None = None) -> None:
    """Stick-figure animation; `fps` below the clips' rate drops frames to keep files small."""
    frames, rate = render_frames(clips, size, fps, azimuth, elevation, drift)
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_durations_ms(len(frames), 1.0 / rate),
                loop=0, optimize=False, disposal=1)
    with output(dest, binary=True) as f:
        f.write(buf.getvalue())


@register_writer("poses", ".mp4")
def write_mp4(clips: list[Clip], dest, *, size: int = 320, fps: float | None = None, azimuth: float = 30.0,
              elevation: float = 15.0, drift: float | None = None) -> None:
    """The same animation as H.264 MP4 through ffmpeg (needs ffmpeg on PATH)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SeqartError(f"{dest}: writing .mp4 needs ffmpeg on PATH (or write a .gif)")
    frames, rate = render_frames(clips, size + size % 2, fps, azimuth, elevation, drift)
    w, h = frames[0].size
    with tempfile.TemporaryDirectory() as tmp:
        mp4 = os.path.join(tmp, "out.mp4")
        cmd = [ffmpeg, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
               "-r", f"{rate:g}", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-threads", "1",
               "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", mp4]
        proc = subprocess.run(cmd, input=b"".join(f.convert("RGB").tobytes() for f in frames), capture_output=True)
        if proc.returncode != 0:
            raise SeqartError(f"{dest}: ffmpeg failed ({proc.stderr.decode(errors='replace').strip()[-200:]})")
        data = Path(mp4).read_bytes()
    with output(dest, binary=True) as f:
        f.write(data)
