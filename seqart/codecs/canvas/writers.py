"""Canvas clips (DRAW) to files: the painting as a GIF, the finished canvases as PNG, the pen path as SVG.

* `.gif`: every clip in a grid, one animation frame per DRAW step, the write window
  drawn on each canvas (a red square spanning the filter grid, N x stride pixels,
  and a dot at its centre); the finished canvases are held at the end.
* `.png`: the grid of finished canvases (each clip's last frame).
* `.svg`: the write window's centre over the steps, one `<path>` per clip, in mm, on
  a grid of cells the size of one image: a plotter draws the route the attention took.

Ink is black on white paper. Images are palette images with a fixed palette (greys,
then the window's colour), so no per-frame quantising can differ between runs: the
same clips give the same bytes.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.export import output, register_writer
from seqart.export.provenance import provenance_text

GREYS = 250  # palette entries 0..249: white paper (0) to black ink (249)
WINDOW_INDEX = 250  # palette entry of the window's colour
WINDOW_RGB = (220, 40, 40)
WINDOW = 4  # x, y, stride, sigma: the frame's first channels (seqart.codecs.canvas)


def _palette() -> list[int]:
    greys = [v for g in range(GREYS) for v in (255 - round(g * 255 / (GREYS - 1)),) * 3]
    return greys + list(WINDOW_RGB) + [0] * 3 * (256 - GREYS - 1)


def _size(clip: Clip) -> tuple[int, int]:
    """(H, W) of a canvas clip: square unless the clip's meta says otherwise."""
    if "size" in clip.meta:
        h, w = clip.meta["size"]
        return int(h), int(w)
    side = math.isqrt(clip.frames.shape[1] - WINDOW)
    return side, side


def _check(clips: list[Clip], columns: int, scale: int) -> tuple[int, int]:
    if scale < 1 or columns < 1:
        raise SeqartError(f"scale ({scale}) and columns ({columns}) must be at least 1")
    sizes = {_size(c) for c in clips}
    if len(sizes) > 1 or any(len(c) == 0 for c in clips):
        raise SeqartError("canvas clips in one file must share one image size and hold at least one frame")
    return sizes.pop()


class Grid:
    """Clips placed in rows of `columns` cells of H x W pixels, each pixel `scale` x `scale`, 1 cell gap."""

    def __init__(self, n: int, size: tuple[int, int], columns: int, scale: int):
        self.size, self.scale = size, scale
        self.columns = min(columns, n)
        self.rows = math.ceil(n / self.columns)
        h, w = size
        self.cell = ((w + 1) * scale, (h + 1) * scale)  # (x, y) pitch in output pixels
        self.pixels = (self.columns * self.cell[0] + scale, self.rows * self.cell[1] + scale)

    def origin(self, i: int) -> tuple[int, int]:
        return (self.scale + (i % self.columns) * self.cell[0], self.scale + (i // self.columns) * self.cell[1])

    def paint(self, frames: list[np.ndarray], windows: list[np.ndarray | None], write_n: list[int]) -> Image.Image:
        """One image: each clip's canvas (H*W,) in [0, 1], and its window (4,) or None."""
        h, w = self.size
        img = Image.new("P", self.pixels, 0)
        img.putpalette(_palette())
        draw = ImageDraw.Draw(img)
        for i, (canvas, win, n) in enumerate(zip(frames, windows, write_n)):
            idx = np.rint(np.clip(canvas.reshape(h, w), 0, 1) * (GREYS - 1)).astype(np.uint8)
            tile = Image.fromarray(idx, "P").resize((w * self.scale, h * self.scale), Image.Resampling.NEAREST)
            img.paste(tile, self.origin(i))
            if win is not None:
                self._window(draw, i, win, n)
        return img

    def _window(self, draw: ImageDraw.ImageDraw, i: int, win: np.ndarray, n: int) -> None:
        ox, oy = self.origin(i)
        x, y, stride = (float(v) * self.scale for v in win[:3])
        half = max(n * stride / 2, self.scale / 2)
        cx, cy = ox + x, oy + y
        draw.rectangle((cx - half, cy - half, cx + half, cy + half), outline=WINDOW_INDEX, width=max(1, self.scale // 4))
        r = max(1.0, self.scale / 3)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WINDOW_INDEX)


@register_writer("canvas", ".png")
def write_png(clips: list[Clip], dest, *, columns: int = 8, scale: int = 4) -> None:
    """The finished canvases (each clip's last frame) in a grid; `scale` output pixels per image pixel."""
    size = _check(clips, columns, scale)
    grid = Grid(len(clips), size, columns, scale)
    img = grid.paint([c.frames[-1, WINDOW:] for c in clips], [None] * len(clips), [1] * len(clips))
    with output(dest, binary=True) as f:
        img.save(f, format="PNG", optimize=False)


@register_writer("canvas", ".gif")
def write_gif(clips: list[Clip], dest, *, columns: int = 8, scale: int = 4, hold_s: float = 2.0) -> None:
    """Every clip drawn step by step with its write window, at the clips' fps; the end held `hold_s` seconds."""
    size = _check(clips, columns, scale)
    grid = Grid(len(clips), size, columns, scale)
    steps = max(len(c) for c in clips)
    ns = [int(c.meta.get("write_n", 1)) for c in clips]
    frames = []
    for t in range(steps):
        rows = [c.frames[min(t, len(c) - 1)] for c in clips]
        wins = [r[:WINDOW] if t < len(c) and r[2] > 0 else None for r, c in zip(rows, clips)]
        frames.append(grid.paint([r[WINDOW:] for r in rows], wins, ns))
    frames.append(grid.paint([c.frames[-1, WINDOW:] for c in clips], [None] * len(clips), ns))
    step_ms = max(20, round(1000.0 / float(clips[0].fps or 16.0)))  # GIF players clamp shorter frames
    durations = [step_ms] * steps + [max(20, round(hold_s * 1000))]
    with output(dest, binary=True) as f:
        frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, optimize=False, disposal=1)


@register_writer("canvas", ".svg")
def write_svg(clips: list[Clip], dest, *, columns: int = 8, cell_mm: float = 40.0,
              stroke_width_mm: float = 0.3) -> None:
    """The write window's centre path, one `<path>` per clip, each in a cell_mm square (1 mm gap)."""
    if not (cell_mm > 0 and stroke_width_mm > 0):
        raise SeqartError(f"cell_mm ({cell_mm}) and stroke_width_mm ({stroke_width_mm}) must be positive")
    h, w = _check(clips, columns, 1)
    cols = min(columns, len(clips))
    rows = math.ceil(len(clips) / cols)
    mm = cell_mm / max(h, w)  # mm per image pixel
    width, height = cols * (cell_mm + 1) + 1, rows * (cell_mm + 1) + 1
    paths = []
    for i, c in enumerate(clips):
        ox, oy = 1 + (i % cols) * (cell_mm + 1), 1 + (i // cols) * (cell_mm + 1)
        pts = [(ox + x * mm, oy + y * mm) for x, y in c.frames[:, :2]]
        if len(pts) == 1:  # a plotter needs a segment: a dash half a pen width long
            pts.append((pts[0][0] + stroke_width_mm / 2, pts[0][1]))
        d = "M " + " L ".join(f"{_f(x)} {_f(y)}" for x, y in pts)
        paths.append(f'  <path d="{d}"/>')
    made = provenance_text(clips)
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        f'width="{_f(width)}mm" height="{_f(height)}mm" viewBox="0 0 {_f(width)} {_f(height)}">',
        *([f'<metadata id="seqart-provenance">{escape(made)}</metadata>'] if made else []),
        f'<g inkscape:groupmode="layer" inkscape:label="window path" fill="none" stroke="black" '
        f'stroke-width="{_f(stroke_width_mm)}" stroke-linecap="round" stroke-linejoin="round">',
        *paths, "</g>", "</svg>", ""])
    with output(dest, binary=False) as f:
        f.write(text)


def _f(v: float) -> str:
    """mm with 3 decimals, no trailing zeros, never "-0"."""
    s = f"{float(v):.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s
