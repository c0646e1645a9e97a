"""Hostile input files, one function each: small files that once hung a reader or swamped memory.

Each maker writes into a folder and returns the path. `scale` makes the honest-looking
ones (long strokes, many notes, many joints) bigger for the benchmark; the fuzz tests use
the defaults, with lowered limits where a case would take long to refuse.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">'


# --- .npz ------------------------------------------------------------------------------------------
def npz_bytes(arrays: dict, compress: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=True)
            zf.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()


def npz_shared_list(folder: Path, copies: int = 1_000_000, points: int = 1000) -> Path:
    """An object array whose items are all one shared list: a tiny pickle, a huge drawing set."""
    shared = [[1, 1, 0]] * points
    items = np.empty(copies, object)
    for i in range(copies):
        items[i] = shared
    path = folder / "shared_list.npz"
    path.write_bytes(npz_bytes({"train": items}))
    return path


def npz_shared_array(folder: Path, copies: int = 200_000, points: int = 1000) -> Path:
    """The same with one shared (points, 3) array: every drawing valid, the total enormous."""
    shared = np.ones((points, 3), np.int16)
    shared[:, 2] = 0
    items = np.empty(copies, object)
    for i in range(copies):
        items[i] = shared
    path = folder / "shared_array.npz"
    path.write_bytes(npz_bytes({"train": items}))
    return path


def npz_bomb(folder: Path, mb: int = 64) -> Path:
    """A member that inflates to `mb` MiB of zeros from a few hundred KiB."""
    header = io.BytesIO()
    n = mb * 2**20 // 2
    np.lib.format.write_array_header_1_0(header, {"descr": "<i2", "fortran_order": False, "shape": (n // 3, 3)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("train.npy", "w", force_zip64=True) as f:
            f.write(header.getvalue())
            zeros = bytes(2**20)
            for _ in range(mb):
                f.write(zeros)
    path = folder / "bomb.npz"
    path.write_bytes(buf.getvalue())
    return path


def npz_lying_sizes(folder: Path, mb: int = 64) -> Path:
    """A bomb whose headers declare 1 KiB: only reading with a cap finds out."""
    data = bytearray(npz_bomb(folder, mb).read_bytes())
    # Patch the central directory's uncompressed size (offset 24 in its record) to 1024.
    cd = data.rfind(b"PK\x01\x02")
    if struct.unpack("<I", data[cd + 24 : cd + 28])[0] != 0xFFFFFFFF:
        data[cd + 24 : cd + 28] = struct.pack("<I", 1024)
    else:  # zip64: the real size sits in the extra field
        name_len, extra_len = struct.unpack("<HH", data[cd + 28 : cd + 32])
        extra = cd + 46 + name_len
        data[extra + 4 : extra + 12] = struct.pack("<Q", 1024)
    path = folder / "lying.npz"
    path.write_bytes(bytes(data))
    return path


def npz_values(folder: Path, name: str, rows) -> Path:
    path = folder / f"{name}.npz"
    path.write_bytes(npz_bytes({"train": np.asarray(rows)}))
    return path


# --- .ndjson ----------------------------------------------------------------------------------------
def ndjson_long_stroke(folder: Path, points: int = 1_000_000, seed: int = 0) -> Path:
    """One raw stroke of a random walk: RDP keeps most of it, the worst honest case."""
    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.integers(-3, 4, (points, 2)), axis=0)
    t = np.arange(points) * 10
    rec = {"word": "walk", "drawing": [[xy[:, 0].tolist(), xy[:, 1].tolist(), t.tolist()]]}
    path = folder / "long_stroke.ndjson"
    path.write_text(json.dumps(rec) + "\n")
    return path


def ndjson_deep(folder: Path, depth: int = 100_000) -> Path:
    path = folder / "deep.ndjson"
    path.write_text('{"drawing": ' + "[" * depth + "]" * depth + "}\n")
    return path


# --- .svg -------------------------------------------------------------------------------------------
def svg_huge_coordinates(folder: Path) -> Path:
    path = folder / "huge.svg"
    path.write_text(SVG_HEAD + '<path d="M0 0 C1e308 1e308 -1e308 1e308 1e308 -1e308 A1e308 1e308 0 1 1 -1e308 0"/></svg>')
    return path


def svg_nested_use(folder: Path, levels: int = 9, fan: int = 10) -> Path:
    """<use> of <use> of ...: fan**levels copies of one path from a 2 KB file."""
    parts = [SVG_HEAD, '<defs><g id="u0"><path d="M0 0 L10 10 L20 0"/></g>']
    for i in range(1, levels + 1):
        parts.append(f'<g id="u{i}">' + f'<use xlink:href="#u{i - 1}"/>' * fan + "</g>")
    parts.append(f'</defs><use xlink:href="#u{levels}"/></svg>')
    path = folder / "nested_use.svg"
    path.write_text("".join(parts))
    return path


def svg_use_loop(folder: Path) -> Path:
    path = folder / "use_loop.svg"
    path.write_text(SVG_HEAD + '<g id="a"><path d="M0 0 L1 1"/><use xlink:href="#b"/></g>'
                    '<g id="b"><use xlink:href="#a"/></g></svg>')
    return path


def svg_deep_groups(folder: Path, depth: int = 5000) -> Path:
    path = folder / "deep_groups.svg"
    path.write_text(SVG_HEAD + "<g>" * depth + '<path d="M0 0 L1 1"/>' + "</g>" * depth + "</svg>")
    return path


def svg_many_curves(folder: Path, curves: int = 20_000) -> Path:
    """Long curves, each worth the 2,000 sampled points a curve may get: 40 M points from 600 KB."""
    d = "M0 0" + " C9000 9000 -9000 9000 0 1" * curves
    path = folder / "many_curves.svg"
    path.write_text(SVG_HEAD + f'<path d="{d}"/></svg>')
    return path


# --- MIDI -------------------------------------------------------------------------------------------
def _varlen(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def smf(tracks: list[bytes], ppq: int = 480) -> bytes:
    head = b"MThd" + struct.pack(">IHHH", 6, 1 if len(tracks) > 1 else 0, len(tracks), ppq)
    return head + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


def midi_overlapping(folder: Path, notes: int = 1_000_000) -> Path:
    """`notes` note-ons of one pitch, then as many note-offs: first in, first out pairing."""
    on = (b"\x00\x90\x3c\x64" + b"\x00\x3c\x64" * (notes - 1))  # running status after the first
    off = b"\x01\x80\x3c\x00" + b"\x00\x3c\x00" * (notes - 1)
    path = folder / "overlapping.mid"
    path.write_bytes(smf([on + off + b"\x00\xff\x2f\x00"]))
    return path


def midi_tempo(folder: Path, tempo: int = 0) -> Path:
    track = b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big") + b"\x00\x90\x3c\x64\x60\x80\x3c\x00\x00\xff\x2f\x00"
    path = folder / f"tempo{tempo}.mid"
    path.write_bytes(smf([track]))
    return path


def midi_scale(folder: Path, notes: int = 10_000) -> Path:
    """An honest melody: `notes` notes up and down a scale (for the benchmark)."""
    body = bytearray()
    for i in range(notes):
        p = 48 + (i * 7) % 36
        body += b"\x00\x90" + bytes([p, 80]) + b"\x60\x80" + bytes([p, 0])
    path = folder / "scale.mid"
    path.write_bytes(smf([bytes(body) + b"\x00\xff\x2f\x00"]))
    return path


# --- BVH --------------------------------------------------------------------------------------------
def bvh_text(parents: list[int], frames: int = 2) -> str:
    """A BVH of joints with the given parents (in file order, -1 = root), 3 rotation channels each."""
    children: dict[int, list[int]] = {}
    for j, p in enumerate(parents):
        children.setdefault(p, []).append(j)
    lines, stack = ["HIERARCHY"], [(0, 0, False)]
    while stack:  # iterative: a deep chain must not need recursion here either
        j, depth, closing = stack.pop()
        pad = " " * min(depth, 4)
        if closing:
            lines.append(pad + "}")
            continue
        lines += [f"{pad}{'ROOT' if j == 0 else 'JOINT'} j{j}", pad + "{", f"{pad} OFFSET 0 1 0",
                  f"{pad} CHANNELS {6 if j == 0 else 3}" + (" Xposition Yposition Zposition" if j == 0 else "")
                  + " Zrotation Xrotation Yrotation"]
        stack.append((j, depth, True))
        stack += [(c, depth + 1, False) for c in reversed(children.get(j, []))]
    n_ch = 3 * len(parents) + 3
    row = " ".join(["0"] * n_ch)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"] + [row] * frames
    return "\n".join(lines) + "\n"


def bvh_star(folder: Path, joints: int = 10_000) -> Path:
    path = folder / "star.bvh"
    path.write_text(bvh_text([-1] + [0] * (joints - 1)))
    return path


def bvh_chain(folder: Path, depth: int = 3000) -> Path:
    path = folder / "chain.bvh"
    path.write_text(bvh_text([-1] + list(range(depth - 1))))
    return path


def bvh_frames(folder: Path, frames: int = 1000, joints: int = 20) -> Path:
    """An honest skeleton (a root and a chain) moving for `frames` frames (for the benchmark)."""
    rng = np.random.default_rng(0)
    text = bvh_text([-1] + list(range(joints - 1)), frames=0)
    head = text.replace("Frames: 0", f"Frames: {frames}")
    rows = rng.uniform(-30, 30, (frames, 3 * joints + 3)).round(3)
    path = folder / "frames.bvh"
    with open(path, "w") as f:
        f.write(head)
        np.savetxt(f, rows, fmt="%.3f")
    return path


# --- JSON and TOML ------------------------------------------------------------------------------------
def deep_json(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def deep_toml(depth: int = 100_000) -> str:
    return "[model]\nhidden = " + "[" * depth + "]" * depth + "\n"
