"""An artist's own SVG drawing -> one stroke Clip (all its shapes are its strokes).

svgelements parses the file, applies every transform and the viewBox, and gives
each shape (path, polyline, polygon, line, rect, circle, ellipse, and `<use>`
copies) as path segments. Units are the page's px (1/96 in; for an SVG without
physical width/height these are its user units), y grows downwards as in the
file. Each subpath becomes one stroke, so the pen lifts between shapes and
between subpaths; closed shapes end back at their start. Curves are sampled
finely, then each stroke is RDP-simplified with the codec option `rdp_epsilon`
(px). Text, images and hidden elements are not drawings and are ignored.

SVG viewers draw a path up to its first error; here a path with bad data is an
error, so a training set never holds half a drawing by accident.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import svgelements as se

from seqart.clip import Clip
from seqart.codecs.strokes import rdp_indices
from seqart.errors import SeqartError
from seqart.formats.sketches import clean_strokes, drawing_clip


def read_svg(path: Path, options: dict) -> list[Clip]:
    try:
        svg = se.SVG.parse(str(path))
    except ParseError as e:
        raise SeqartError(f"{path}: not valid SVG/XML ({e})") from None
    except OSError as e:
        raise SeqartError(f"{path}: cannot read ({e.strerror or e})") from None
    epsilon = float(options.get("rdp_epsilon", 2.0))
    strokes = []
    for el in svg.elements():
        if isinstance(el, se.Shape) and _visible(el):
            strokes += _shape_polylines(path, el, epsilon)
    if not strokes:
        raise SeqartError(f"{path}: no drawable shapes (expected path, polyline, polygon, line, rect, circle or ellipse)")
    strokes = clean_strokes(strokes, str(path))
    strokes = [s[rdp_indices(s, epsilon)] for s in strokes]
    meta = {"source": path.name, "name": path.stem, "group": path.stem, "units": "px"}
    return [drawing_clip(strokes, str(path), options, **meta)]


def _visible(el: se.Shape) -> bool:
    return el.values.get("visibility") not in ("hidden", "collapse") and el.values.get("display") != "none"


def _shape_polylines(path: Path, el: se.Shape, epsilon: float) -> list[np.ndarray]:
    """One shape -> [(K, 2) px polylines], one per subpath."""
    if isinstance(el, se.Path):
        _check_path_data(path, el)
    out = []
    # abs() bakes any transform svgelements left on the path (e.g. a rotated ellipse's
    # arcs) into the segments; without it their points would be in the element's own units.
    for sub in abs(se.Path(el)).as_subpaths():
        pts = _flatten(list(sub), epsilon)
        if len(pts):
            out.append(pts)
    return out


def _check_path_data(path: Path, el: se.Path) -> None:
    """Refuse `d` data that svgelements would silently cut short."""
    d = el.values.get("d") or ""
    lexer = se.SVGLexicalParser()
    try:
        lexer.parse(se.Path(), d)
        ok = not d[lexer.pos :].strip()
    except (ValueError, TypeError, IndexError):
        ok = False
    if not ok:
        name = f"path id={el.id!r}" if el.id else "a path"
        raise SeqartError(f"{path}: {name} has bad path data near character {lexer.pos}: {d[lexer.pos:lexer.pos + 20]!r}")


def _flatten(segments: list, epsilon: float) -> np.ndarray:
    """Path segments of one subpath -> (K, 2) points; curves sampled every ~epsilon/2 px."""
    pts: list = []
    step = max(epsilon, 0.2) / 2
    for seg in segments:
        if seg.end is None:
            continue
        if isinstance(seg, (se.Move, se.Line, se.Close)) or seg.start is None:
            pts.append((seg.end.x, seg.end.y))
            continue
        length = seg.length(error=1e-4)
        n = int(np.clip(np.ceil(length / step), 4, 2000)) if np.isfinite(length) else 4
        pts.extend(map(tuple, seg.npoint(np.linspace(0.0, 1.0, n + 1)[1:])))
    a = np.asarray(pts, np.float64).reshape(-1, 2)
    if len(a) > 1:  # drop repeated points (a Close that lands where the path already is)
        a = a[np.concatenate([[True], np.any(np.diff(a, axis=0) != 0, axis=1)])]
    return a
