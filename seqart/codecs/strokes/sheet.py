"""Page geometry shared by the stroke writers: page sizes, the grid, drawings placed in mm.

Every stroke writer (SVG, PNG, GIF) lays drawings out the same way, so a PNG is
a faithful preview of the plot:

* the page is `page` (a name or (width, height) in mm), or "auto": a page just
  big enough for the grid, with cells of about `cell_mm`;
* inside the margins, a grid of `columns` x rows cells separated by `gap_mm`;
  with `columns=None` the grid is the one that draws a typical drawing largest;
* each drawing is scaled uniformly (aspect kept) to fit its cell and centred
  in it; `same_scale=True` gives all drawings the smallest of those scales so
  their relative sizes survive.

Time: point i of a drawing (row i of its stroke-3) is reached at i / rate
seconds, rate being the clip's drawing rate in points per second. Pen-up
moves count as points, so pauses between strokes last as long as they did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from seqart.clip import Clip
from seqart.codecs.strokes import CHANNELS, DEFAULTS, clip_to_stroke3, stroke3_to_strokes
from seqart.errors import SeqartError

PAGES_MM = {
    "a5": (148.0, 210.0),
    "a4": (210.0, 297.0),
    "a3": (297.0, 420.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
}
LAYOUT_OPTIONS = ("page", "landscape", "margin_mm", "columns", "gap_mm", "same_scale", "cell_mm")


@dataclass(frozen=True)
class Drawing:
    """One clip placed on the page."""

    strokes: list[np.ndarray]  # absolute polylines in page mm, each (K, 2) float64
    starts: list[int]  # row of each stroke's first point in the clip's stroke-3
    rate: float  # points per second
    name: str  # where it came from, for titles (may be "")

    @property
    def n_points(self) -> int:
        return sum(len(s) for s in self.strokes)


@dataclass(frozen=True)
class Sheet:
    width_mm: float
    height_mm: float
    drawings: list[Drawing]

    @property
    def duration(self) -> float:
        """Seconds until the slowest drawing reaches its last point (point i comes at i / rate)."""
        return max(((d.n_points - 1) / d.rate for d in self.drawings if d.n_points), default=0.0)


def page_size(page, landscape: bool = False) -> tuple[float, float]:
    """A page name ("a4"), "WxH" or a (width, height) pair -> (width, height) in mm."""
    if isinstance(page, str):
        key = page.strip().lower()
        if key in PAGES_MM:
            w, h = PAGES_MM[key]
        else:
            try:
                w, h = (float(v) for v in key.split("x"))
            except ValueError:
                raise SeqartError(f"page {page!r}: not a page size (use {', '.join(PAGES_MM)}, 'auto', "
                                  "'WIDTHxHEIGHT' in mm or a (width, height) pair)") from None
    else:
        try:
            w, h = (float(v) for v in page)
        except (TypeError, ValueError):
            raise SeqartError(f"page {page!r}: expected a name or a (width, height) pair in mm") from None
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        raise SeqartError(f"page {page!r}: width and height must be positive mm")
    return (max(w, h), min(w, h)) if landscape else (w, h)


def clip_strokes(clip: Clip, index: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """A stroke Clip -> (absolute polylines in its own units, first stroke-3 row of each)."""
    name = clip.meta.get("source") or f"drawing {index + 1}"
    if clip.modality != "strokes" or tuple(clip.channels) != CHANNELS:
        raise SeqartError(f"{name}: not a stroke clip (modality {clip.modality!r}, channels {clip.channels})")
    if not clip.is_finite():
        raise SeqartError(f"{name}: offsets are not finite (NaN or inf)")
    strokes = [p.astype(np.float64) for p in stroke3_to_strokes(clip_to_stroke3(clip))]
    starts = np.cumsum([0] + [len(s) for s in strokes[:-1]]).tolist()
    return strokes, [int(s) for s in starts]


def lay_out(clips: list[Clip], *, page="a4", landscape: bool = False, margin_mm: float = 10.0,
            columns: int | None = None, gap_mm: float = 5.0, same_scale: bool = False,
            cell_mm: float = 60.0) -> Sheet:
    """Place each clip in its own grid cell on a page (see the module notes)."""
    if not clips:
        raise SeqartError("nothing to draw: no clips were given")
    parsed = [clip_strokes(c, i) for i, c in enumerate(clips)]
    boxes = [_bbox(strokes) for strokes, _ in parsed]
    aspect = _typical_aspect(boxes)
    _check_number("margin_mm", margin_mm, 0.0)
    _check_number("gap_mm", gap_mm, 0.0)
    if isinstance(page, str) and page.strip().lower() == "auto":
        _check_number("cell_mm", cell_mm, 1.0)
        cols = _check_columns(columns, len(clips)) or math.ceil(math.sqrt(len(clips)))
        rows = math.ceil(len(clips) / cols)
        cw, ch = (cell_mm, cell_mm / aspect) if aspect >= 1 else (cell_mm * aspect, cell_mm)
        width = 2 * margin_mm + cols * cw + (cols - 1) * gap_mm
        height = 2 * margin_mm + rows * ch + (rows - 1) * gap_mm
    else:
        width, height = page_size(page, landscape)
        inner = (width - 2 * margin_mm, height - 2 * margin_mm)
        cols = _check_columns(columns, len(clips)) or _best_columns(len(clips), inner, gap_mm, aspect)
        rows = math.ceil(len(clips) / cols)
        cw, ch = ((inner[0] - (cols - 1) * gap_mm) / cols, (inner[1] - (rows - 1) * gap_mm) / rows)
        if cw <= 0 or ch <= 0:
            raise SeqartError(f"margin_mm={margin_mm} and gap_mm={gap_mm} leave no room for {cols}x{rows} "
                              f"drawings on a {width:g}x{height:g} mm page")
    scales = [_fit_scale(b, cw, ch) for b in boxes]
    if same_scale:
        scales = [min(scales)] * len(scales)
    drawings = []
    for i, ((strokes, starts), box, s) in enumerate(zip(parsed, boxes, scales)):
        cx = margin_mm + (i % cols) * (cw + gap_mm) + cw / 2
        cy = margin_mm + (i // cols) * (ch + gap_mm) + ch / 2
        centre = (box[:2] + box[2:]) / 2
        placed = [(p - centre) * s + (cx, cy) for p in strokes]
        rate = float(clips[i].fps or DEFAULTS["rate"])
        drawings.append(Drawing(placed, starts, rate, str(clips[i].meta.get("source", ""))))
    return Sheet(float(width), float(height), drawings)


def _bbox(strokes: list[np.ndarray]) -> np.ndarray:
    """(x0, y0, x1, y1) of all points; zeros for an empty drawing."""
    if not strokes:
        return np.zeros(4)
    xy = np.concatenate(strokes)
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


def _typical_aspect(boxes: list[np.ndarray]) -> float:
    """Median width/height of the drawings, kept within [1/3, 3] so odd ones don't warp the grid."""
    sizes = [(b[2] - b[0], b[3] - b[1]) for b in boxes]
    ratios = [w / h for w, h in sizes if w > 0 and h > 0]
    return float(np.clip(np.median(ratios), 1 / 3, 3)) if ratios else 1.0


def _best_columns(n: int, inner: tuple[float, float], gap: float, aspect: float) -> int:
    """The column count that draws a drawing of the typical aspect largest (fewest columns on ties)."""
    best, best_scale = 1, -1.0
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        cw, ch = (inner[0] - (cols - 1) * gap) / cols, (inner[1] - (rows - 1) * gap) / rows
        scale = min(cw / aspect, ch)
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best


def _fit_scale(box: np.ndarray, cw: float, ch: float) -> float:
    """mm per source unit that fits a box in a cw x ch cell; a lone point needs no scale."""
    w, h = box[2] - box[0], box[3] - box[1]
    candidates = [c / s for c, s in ((cw, w), (ch, h)) if s > 0]
    return min(candidates) if candidates else 1.0


def _check_columns(columns, n: int) -> int | None:
    if columns is None:
        return None
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise SeqartError(f"columns={columns!r}: must be a whole number of at least 1")
    return min(columns, n)


def _check_number(name: str, value, low: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
        raise SeqartError(f"{name}={value!r}: must be a number of at least {low:g}")
