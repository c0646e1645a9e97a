"""PNG and animated GIF of stroke clips, laid out exactly like the SVG (see sheet.py).

Rendering: Pillow draws lines without anti-aliasing, so ink is drawn as a
mask at SUPERSAMPLE times the resolution (each segment a thick line plus a
disc at each end: round caps and joins, like the SVG's) and then reduced by
averaging SUPERSAMPLE x SUPERSAMPLE blocks. Block averaging is local, so the
GIF can reduce only the part of the page a frame changed and still end on
exactly the PNG's pixels.

Images are palette images whose 256 entries run from the background to the
ink colour, so the mask is the image and no per-frame quantising can differ
between runs. Pillow writes no timestamps: same input, same bytes.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from seqart.errors import SeqartError
from seqart.export import output, register_writer
from seqart.export.gif_timing import frame_durations_ms
from seqart.codecs.strokes.sheet import Sheet, lay_out
from seqart.codecs.strokes.svg import _as_list, _check_positive

SUPERSAMPLE = 4  # drawn at 4x, then 4x4 blocks averaged: 17 grey levels of anti-aliasing
MM_PER_INCH = 25.4
MAX_PIXELS = 40 * 10**6  # the supersampled mask takes SUPERSAMPLE**2 bytes per pixel: 640 MB at this limit

# One drawable item: (stroke-3 row at which it appears, (2, 2) segment ends in supersampled pixels).
Item = tuple[int, np.ndarray]


def sheet_items(sheet: Sheet, dpi: float, stroke_width_mm: float) -> list[list[Item]]:
    """Per drawing, its segments in drawing order; segment j of a stroke appears when its end point is reached."""
    px = dpi / MM_PER_INCH * SUPERSAMPLE  # supersampled pixels per mm
    out = []
    for d in sheet.drawings:
        items: list[Item] = []
        for stroke, start in zip(d.strokes, d.starts):
            xy = stroke * px
            if len(xy) == 1 or np.all(xy == xy[0]):
                # A dot: a dash half a pen-width long, as in the SVG.
                h = stroke_width_mm * px / 4
                items.append((start, np.array([xy[0] - (h, 0), xy[0] + (h, 0)])))
                continue
            items += [(start + j, xy[j - 1 : j + 1]) for j in range(1, len(xy))]
        out.append(items)
    return out


class Canvas:
    """A supersampled ink mask and its reduced, anti-aliased copy."""

    def __init__(self, sheet: Sheet, dpi: float, stroke_width_mm: float, palette: list[int]):
        self.size = tuple(max(1, round(mm / MM_PER_INCH * dpi)) for mm in (sheet.width_mm, sheet.height_mm))
        if self.size[0] * self.size[1] > MAX_PIXELS:
            raise SeqartError(f"dpi={dpi:g}: a {self.size[0]}x{self.size[1]} px image is too large "
                              f"(at most {MAX_PIXELS // 10**6} megapixels); lower the dpi")
        self.hi = Image.new("L", (self.size[0] * SUPERSAMPLE, self.size[1] * SUPERSAMPLE), 0)
        self.lo = Image.new("L", self.size, 0)
        self.draw = ImageDraw.Draw(self.hi)
        # Supersampled px; never under one output pixel, so hairlines stay visible in small previews.
        self.width = max(SUPERSAMPLE, round(stroke_width_mm * dpi / MM_PER_INCH * SUPERSAMPLE))
        self.palette = palette

    def ink(self, items: list[Item]) -> None:
        """Draw items on the mask and refresh the reduced copy where they landed."""
        if not items:
            return
        r = self.width / 2
        for _, seg in items:
            (x0, y0), (x1, y1) = seg[0], seg[-1]
            self.draw.line([(x0, y0), (x1, y1)], fill=255, width=self.width)
            for x, y in ((x0, y0), (x1, y1)):
                self.draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
        pts = np.concatenate([seg for _, seg in items])
        lo_box = np.concatenate([np.floor((pts.min(axis=0) - r - 2) / SUPERSAMPLE),
                                 np.ceil((pts.max(axis=0) + r + 2) / SUPERSAMPLE)])
        x0, y0 = (max(0, int(v)) for v in lo_box[:2])
        x1, y1 = min(self.size[0], int(lo_box[2])), min(self.size[1], int(lo_box[3]))
        if x1 > x0 and y1 > y0:
            box = (x0 * SUPERSAMPLE, y0 * SUPERSAMPLE, x1 * SUPERSAMPLE, y1 * SUPERSAMPLE)
            self.lo.paste(self.hi.crop(box).reduce(SUPERSAMPLE), (x0, y0))

    def image(self) -> Image.Image:
        """The reduced mask as a palette image (index = ink amount, 0..LEVELS-1)."""
        im = self.lo.point(_MASK_TO_INDEX).convert("P")
        im.putpalette(self.palette)
        return im


# Ink amount 0..255 -> palette index 0..254: index 255 stays free, so the GIF
# writer can use it as the transparent colour of pixels a frame leaves unchanged.
LEVELS = 255
_MASK_TO_INDEX = [round(m * (LEVELS - 1) / 255) for m in range(256)]


def ink_palette(color: str, background: str) -> list[int]:
    """LEVELS RGB entries blending background (index 0) to ink (index LEVELS-1)."""
    try:
        ink, bg = (np.array(ImageColor.getrgb(c)[:3], float) for c in (color, background))
    except (ValueError, AttributeError):
        raise SeqartError(f"color={color!r}, background={background!r}: not colours Pillow knows") from None
    t = np.arange(LEVELS)[:, None] / (LEVELS - 1)
    return np.rint(bg + (ink - bg) * t).astype(np.uint8).ravel().tolist()


def render(clips, *, page="a4", landscape: bool = False, margin_mm: float = 10.0, columns: int | None = None,
           gap_mm: float = 5.0, same_scale: bool = False, cell_mm: float = 60.0, stroke_width_mm: float = 0.35,
           dpi: float = 150.0, color: str = "black", background: str = "white") -> Image.Image:
    """The finished drawings as one palette image."""
    _check_positive("dpi", dpi)
    _check_positive("stroke_width_mm", stroke_width_mm)
    sheet = lay_out(_as_list(clips), page=page, landscape=landscape, margin_mm=margin_mm, columns=columns,
                    gap_mm=gap_mm, same_scale=same_scale, cell_mm=cell_mm)
    canvas = Canvas(sheet, dpi, stroke_width_mm, ink_palette(color, background))
    canvas.ink([it for items in sheet_items(sheet, dpi, stroke_width_mm) for it in items])
    return canvas.image()


@register_writer("strokes", ".png")
def write_png(clips, dest, *, page="a4", landscape: bool = False, margin_mm: float = 10.0,
              columns: int | None = None, gap_mm: float = 5.0, same_scale: bool = False, cell_mm: float = 60.0,
              stroke_width_mm: float = 0.35, dpi: float = 150.0, color: str = "black",
              background: str = "white") -> None:
    """A PNG of the same page the SVG would plot, at `dpi` pixels per inch."""
    im = render(clips, page=page, landscape=landscape, margin_mm=margin_mm, columns=columns, gap_mm=gap_mm,
                same_scale=same_scale, cell_mm=cell_mm, stroke_width_mm=stroke_width_mm, dpi=dpi,
                color=color, background=background)
    with output(dest, binary=True) as f:
        im.save(f, format="PNG", optimize=False, compress_level=9, dpi=(dpi, dpi))


def frame_plan(sheet: Sheet, speed: float, frame_ms: int, max_frames: int) -> tuple[int, int]:
    """(frame count, ms per frame): at least frame_ms a frame, at most max_frames frames."""
    seconds = sheet.duration / speed
    ms = max(frame_ms, 10 * math.ceil(seconds * 1000 / max_frames / 10))  # GIF counts in 10 ms steps
    return max(1, math.ceil(seconds * 1000 / ms)), ms


def gif_frames(clips, *, speed: float = 1.0, frame_ms: int = 40, max_frames: int = 300, dpi: float = 150.0,
               max_px: int = 1000, stroke_width_mm: float = 0.5, color: str = "black", background: str = "white",
               **layout) -> tuple[list[Image.Image], int]:
    """Frames of the drawings being drawn, each drawing at its own rate; and ms per frame.

    The resolution is `dpi`, lowered if needed so that the longer side is at most `max_px`.
    """
    for name, value in (("speed", speed), ("dpi", dpi), ("stroke_width_mm", stroke_width_mm),
                        ("frame_ms", frame_ms), ("max_frames", max_frames), ("max_px", max_px)):
        _check_positive(name, value)
    sheet = lay_out(_as_list(clips), **layout)
    dpi = min(dpi, max_px * MM_PER_INCH / max(sheet.width_mm, sheet.height_mm))
    n, ms = frame_plan(sheet, speed, int(frame_ms), int(max_frames))
    canvas = Canvas(sheet, dpi, stroke_width_mm, ink_palette(color, background))
    pending = [list(items) for items in sheet_items(sheet, dpi, stroke_width_mm)]
    frames = []
    for f in range(n):
        t = (f + 1) * ms / 1000 * speed  # seconds of drawing time shown by the end of this frame
        due = []
        for d, items in zip(sheet.drawings, pending):
            last_row = math.inf if f == n - 1 else t * d.rate + 1e-9  # the last frame shows everything
            k = 0
            while k < len(items) and items[k][0] <= last_row:
                k += 1
            due += items[:k]
            del items[:k]
        canvas.ink(due)
        frames.append(canvas.image())
    return frames, ms


@register_writer("strokes", ".gif")
def write_gif(clips, dest, *, page="auto", landscape: bool = False, margin_mm: float = 5.0,
              columns: int | None = None, gap_mm: float = 5.0, same_scale: bool = False, cell_mm: float = 60.0,
              stroke_width_mm: float = 0.5, dpi: float = 150.0, max_px: int = 1000, color: str = "black",
              background: str = "white", speed: float = 1.0, frame_ms: int = 40, max_frames: int = 300,
              hold_s: float = 2.0) -> None:
    """An animated GIF of the drawings being drawn at their drawing rate, looping, holding the end."""
    frames, ms = gif_frames(clips, speed=speed, frame_ms=frame_ms, max_frames=max_frames, dpi=dpi, max_px=max_px,
                            stroke_width_mm=stroke_width_mm, color=color, background=background, page=page,
                            landscape=landscape, margin_mm=margin_mm, columns=columns, gap_mm=gap_mm,
                            same_scale=same_scale, cell_mm=cell_mm)
    durations = frame_durations_ms(len(frames), ms / 1000)
    durations[-1] += 10 * max(0, round(float(hold_s) * 100))  # GIF delays count hundredths
    with output(dest, binary=True) as f:
        frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, optimize=True)  # optimize: unchanged pixels become transparent
