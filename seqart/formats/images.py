"""Images for the canvas modality: PNG/JPEG files, IDX arrays (MNIST's format) and rasterised drawings.

Every reader returns grey images as a float32 array (N, H, W) in [0, 1], ink = 1
(MNIST's convention: white digits on black). Pictures of dark ink on light paper
are inverted when `invert` is "auto" and their border is mostly light.

IDX (LeCun's MNIST files): a big-endian header, magic 0x00 0x00 type ndim, then
ndim big-endian uint32 sizes, then the data; seqart reads and writes unsigned
bytes (type 0x08) of 3 dimensions (N, rows, cols), optionally gzipped.
"""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from seqart import limits
from seqart.errors import SeqartError

IDX_UBYTE = 0x08
SUPERSAMPLE = 4  # drawings are rasterised at 4x and block-averaged: anti-aliased edges


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (N, H, W) -> float32 (N, H, W) in [0, 1]."""
    path = Path(path)
    data = limits.read_bytes(path)  # a regular file within the size limit
    if path.name.lower().endswith(".gz"):  # inflate no more than the same limit: a few KiB can hold GiBs
        cap = int(limits.get("file_mb") * 2**20)
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(cap + 1)
        except (OSError, EOFError) as e:
            raise SeqartError(f"{path}: cannot read ({e})") from None
        if len(data) > cap:
            raise limits.over("file_mb", f"{path}: inflates past")
    if len(data) < 4 or data[:2] != b"\0\0":
        raise SeqartError(f"{path}: not an IDX file (bad magic number)")
    kind, ndim = data[2], data[3]
    if kind != IDX_UBYTE or ndim != 3:
        raise SeqartError(f"{path}: IDX type 0x{kind:02x} with {ndim} dimensions; expected unsigned bytes (N, rows, cols)")
    if len(data) < 4 + 4 * ndim:
        raise SeqartError(f"{path}: IDX header is cut short")
    shape = struct.unpack(">3I", data[4:16])
    body = np.frombuffer(data, np.uint8, offset=16)
    if body.size != int(np.prod(shape)):
        raise SeqartError(f"{path}: IDX header says {shape} = {int(np.prod(shape))} bytes, the file holds {body.size}")
    return body.reshape(shape).astype(np.float32) / 255.0


def write_idx(images: np.ndarray, dest: Path) -> None:
    """(N, H, W) float in [0, 1] or uint8 -> an IDX file (gzipped if dest ends in .gz)."""
    a = np.asarray(images)
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    head = bytes([0, 0, IDX_UBYTE, 3]) + struct.pack(">3I", *a.shape)
    opener = gzip.open if str(dest).lower().endswith(".gz") else open
    with opener(dest, "wb") as f:
        f.write(head + a.tobytes())


def read_picture(path: Path, size: tuple[int, int], invert: str = "auto") -> np.ndarray:
    """A PNG/JPEG file -> float32 (H, W) in [0, 1]: greyscale, resized (area-averaged), ink = 1."""
    limits.check_regular(path)  # Image.open would block on a FIFO
    try:
        with Image.open(path) as im:
            im = im.convert("L").resize((size[1], size[0]), Image.Resampling.BOX)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as e:
        raise SeqartError(f"{path}: not a readable image ({e})") from None
    x = np.asarray(im, np.float32) / 255.0
    return 1.0 - x if _should_invert(x, invert) else x


def _should_invert(x: np.ndarray, invert: str) -> bool:
    if invert == "auto":  # light paper: the border is mostly light
        border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
        return float(border.mean()) > 0.5
    return invert == "yes"


def rasterise(strokes: list[np.ndarray], size: tuple[int, int], line_width: float = 1.5,
              margin: float = 2.0) -> np.ndarray:
    """A drawing as absolute polylines [(K, 2) in any units] -> float32 (H, W) in [0, 1], ink = 1.

    The drawing is scaled to fit the image less `margin` pixels on each side, keeping its
    aspect, centred; lines are `line_width` pixels wide with round joins.
    """
    h, w = size
    pts = np.concatenate(strokes) if strokes else np.zeros((1, 2))
    lo, hi = pts.min(0), pts.max(0)
    span = max(float((hi - lo).max()), 1e-6)
    scale = min(w - 2 * margin, h - 2 * margin) / span * SUPERSAMPLE
    offset = (np.array([w, h]) * SUPERSAMPLE - (hi - lo) * scale) / 2
    big = Image.new("L", (w * SUPERSAMPLE, h * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    lw = max(1, round(line_width * SUPERSAMPLE))
    for s in strokes:
        xy = [tuple(p) for p in ((s - lo) * scale + offset)]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=lw, joint="curve")
        r = lw / 2  # round caps (and a lone point becomes a dot)
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    a = np.asarray(big, np.float32).reshape(h, SUPERSAMPLE, w, SUPERSAMPLE).mean((1, 3))
    return a / 255.0
