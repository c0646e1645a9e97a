"""Plotter-ready SVG of stroke clips: one <path> per stroke, sized in mm.

What plotter tools (vpype, Inkscape, AxiDraw) expect, and why:

* `width`/`height` in mm and a `viewBox` in mm, so one user unit is 1 mm and
  the file prints at its true size;
* one top-level group marked as an Inkscape layer: vpype turns each top-level
  group into a layer (a pen), so the drawings are nested inside one layer
  rather than each being a pen of its own;
* one `<path d="M x y L x y ...">` per stroke, straight segments only, so
  `vpype read --no-crop` counts exactly one path per stroke;
* a stroke of a single point (a dot) becomes a segment half a pen-width long:
  a plotter has to put the pen down somewhere, and renderers draw a round dot;
* no background rectangle (a plotter would draw its outline).

Output is deterministic: coordinates are written with 3 decimals (1 micron)
and nothing depends on the clock.

With `animate=True` each path also carries a SMIL animation that draws it at
the clip's drawing rate (browsers play it; static renderers and plotters see
the finished drawing, because the path's own dash offset is 0).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import ImageColor

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.export import output, register_writer
from seqart.export.provenance import provenance_text
from seqart.codecs.strokes.sheet import Sheet, lay_out


def fmt(v: float) -> str:
    """A coordinate in mm with at most 3 decimals, no trailing zeros, never "-0"."""
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def stroke_points(stroke: np.ndarray, stroke_width_mm: float) -> list[tuple[str, str]]:
    """Formatted points of one stroke with repeats dropped; a lone point becomes a short dash."""
    pts: list[tuple[str, str]] = []
    for x, y in stroke:
        p = (fmt(x), fmt(y))
        if not pts or p != pts[-1]:
            pts.append(p)
    if len(pts) == 1:
        x, y = stroke[0]
        h = max(stroke_width_mm / 4, 0.001)
        pts = [(fmt(x - h), fmt(y)), (fmt(x + h), fmt(y))]
    return pts


def path_data(pts: list[tuple[str, str]]) -> str:
    return f"M {pts[0][0]} {pts[0][1]} L " + " ".join(f"{x} {y}" for x, y in pts[1:])


def path_length(pts: list[tuple[str, str]]) -> float:
    xy = np.asarray(pts, dtype=np.float64)
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


@register_writer("strokes", ".svg")
def write_svg(clips, dest, *, page="a4", landscape: bool = False, margin_mm: float = 10.0,
              columns: int | None = None, gap_mm: float = 5.0, same_scale: bool = False,
              cell_mm: float = 60.0, stroke_width_mm: float = 0.35, color: str = "black",
              animate: bool = False, speed: float = 1.0, hold_s: float = 2.0) -> None:
    """Write stroke clips as a grid of drawings on one page (see the module notes)."""
    _check_positive("stroke_width_mm", stroke_width_mm)
    _check_positive("speed", speed)
    try:
        ImageColor.getrgb(color)  # the CSS colour names and #rgb forms SVG also knows
    except (ValueError, AttributeError):
        raise SeqartError(f"color={color!r}: not a colour name or #rrggbb") from None
    sheet = lay_out(_as_list(clips), page=page, landscape=landscape, margin_mm=margin_mm, columns=columns,
                    gap_mm=gap_mm, same_scale=same_scale, cell_mm=cell_mm)
    timing = (speed, max(0.0, float(hold_s))) if animate else None
    text = svg_text(sheet, stroke_width_mm, color, timing, provenance_text(_as_list(clips)))
    with output(dest, binary=False) as f:
        f.write(text)


def svg_text(sheet: Sheet, stroke_width_mm: float, color: str, timing: tuple[float, float] | None,
             made: str | None = None) -> str:
    w, h = fmt(sheet.width_mm), fmt(sheet.height_mm)
    n_strokes = sum(len(d.strokes) for d in sheet.drawings)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"'
        f' width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">',
        f"<title>seqart: {len(sheet.drawings)} drawing(s), {n_strokes} stroke(s)</title>",
        *([f'<metadata id="seqart-provenance">{escape(made)}</metadata>'] if made else []),
        f'<g id="layer1" inkscape:groupmode="layer" inkscape:label="1" fill="none" stroke={quoteattr(color)}'
        f' stroke-width="{fmt(stroke_width_mm)}" stroke-linecap="round" stroke-linejoin="round">',
    ]
    cycle = max(sheet.duration / timing[0] + timing[1], 0.01) if timing else 0.0
    for i, d in enumerate(sheet.drawings):
        lines.append(f'<g id="drawing-{i + 1}">' + (f"<title>{escape(d.name)}</title>" if d.name else ""))
        for stroke, start in zip(d.strokes, d.starts):
            pts = stroke_points(stroke, stroke_width_mm)
            if timing is None:
                lines.append(f'<path d="{path_data(pts)}"/>')
            else:
                t0 = start / d.rate / timing[0]
                t1 = (start + max(len(stroke) - 1, 1)) / d.rate / timing[0]
                lines.append(_animated_path(pts, stroke_width_mm, t0 / cycle, t1 / cycle, cycle))
        lines.append("</g>")
    lines += ["</g>", "</svg>", ""]
    return "\n".join(lines)


def _animated_path(pts, width: float, a: float, b: float, cycle: float) -> str:
    """A path drawn between fractions a and b of the cycle by sliding its dash along it.

    The dash and the gap are each longer than the path plus the round caps, so
    at offset `hide` the path lies wholly in the gap and no cap peeks out.
    """
    length = path_length(pts)
    dash = length + 2 * width
    hide = fmt(dash + width)
    return (f'<path d="{path_data(pts)}" stroke-dasharray="{fmt(dash)} {fmt(dash)}" stroke-dashoffset="0">'
            f'<animate attributeName="stroke-dashoffset" values="{hide};{hide};0;0"'
            f' keyTimes="0;{a:.4f};{max(a, b):.4f};1" dur="{cycle:.3f}s" repeatCount="indefinite"/></path>')


def _as_list(clips) -> list[Clip]:
    return [clips] if isinstance(clips, Clip) else list(clips)


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SeqartError(f"{name}={value!r}: must be a positive number")
