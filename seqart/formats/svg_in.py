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

Before svgelements sees the file, its element tree is walked once (`_check_structure`):
nesting deeper than the `depth` limit, a `<use>` that refers back to itself, or more
elements than the `svg_elements` limit once every `<use>` is expanded (a 2 KB file of
nested `<use>` can stand for a billion paths) is refused. Coordinates must stay within
the `coordinate` limit, and sampling stops at the `points` limit.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse

import numpy as np
import svgelements as se

from seqart import limits
from seqart.clip import Clip
from seqart.formats.stroke3 import rdp_indices
from seqart.errors import SeqartError
from seqart.formats.sketches import check_coordinates, clean_strokes, drawing_clip


def read_svg(path: Path, options: dict) -> list[Clip]:
    data = limits.read_bytes(path)
    _check_structure(path, data)
    try:
        svg = se.SVG.parse(io.BytesIO(data))
    except ParseError as e:
        raise SeqartError(f"{path}: not valid SVG/XML ({e})") from None
    except Exception as e:  # noqa: BLE001 - svgelements raises what it meets (ValueError, IndexError...)
        raise SeqartError(f"{path}: unreadable SVG ({type(e).__name__}: {str(e)[:120]})") from None
    epsilon = float(options.get("rdp_epsilon", 2.0))
    strokes, budget = [], _Budget(path)
    try:
        for el in svg.elements():
            if isinstance(el, se.Shape) and _visible(el):
                strokes += _shape_polylines(path, el, epsilon, budget)
    except (ValueError, ArithmeticError, TypeError, IndexError, AttributeError) as e:  # svgelements on odd shapes
        raise SeqartError(f"{path}: a shape svgelements cannot draw ({type(e).__name__}: {str(e)[:120]})") from None
    if not strokes:
        raise SeqartError(f"{path}: no drawable shapes (expected path, polyline, polygon, line, rect, circle or ellipse)")
    strokes = clean_strokes(strokes, str(path))
    strokes = [s[rdp_indices(s, epsilon)] for s in strokes]
    meta = {"source": path.name, "name": path.stem, "group": path.stem, "units": "px"}
    return [drawing_clip(strokes, str(path), options, **meta)]


def _check_structure(path: Path, data: bytes) -> None:
    """Refuse deep nesting, `<use>` loops and too many elements once `<use>` is expanded, in O(elements)."""
    max_depth, max_count = limits.get("depth"), limits.get("svg_elements")
    ids, refs, kids, stack = {}, [], [], []  # per element: its <use> target, its children
    try:
        for event, el in iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "end":
                stack.pop()
                el.clear()  # keep memory flat: only the counts are needed
                continue
            k = len(refs)
            if stack:
                kids[stack[-1]].append(k)
            stack.append(k)
            if len(stack) > max_depth:
                raise limits.over("depth", f"{path}: elements nested deeper than")
            limits.check("svg_elements", k + 1, f"{path}: holds at least")
            if el.get("id") is not None:
                ids.setdefault(el.get("id"), k)
            href = el.get("{http://www.w3.org/1999/xlink}href") or el.get("href") or ""
            refs.append(href[1:] if el.tag.endswith("}use") and href.startswith("#") else None)
            kids.append([])
    except ParseError as e:
        raise SeqartError(f"{path}: not valid SVG/XML ({e})") from None
    if refs:
        _check_expansion(path, [ids.get(r) if r else None for r in refs], kids, max_depth, max_count)


def _check_expansion(path: Path, target: list, kids: list, max_depth: float, max_count: float) -> None:
    """Elements and depth of the tree once each <use> stands for a copy of its target (iterative DFS)."""
    size, depth, state = [0] * len(kids), [0] * len(kids), [0] * len(kids)  # state: 0 new, 1 open, 2 done
    todo = [0]
    while todo:
        k = todo[-1]
        nxt = kids[k] + ([target[k]] if target[k] is not None else [])
        if state[k] == 0:
            state[k] = 1
            for c in nxt:
                if state[c] == 1:
                    raise SeqartError(f"{path}: a <use> refers back to an element that contains it (a loop)")
                if state[c] == 0:
                    todo.append(c)
            continue
        todo.pop()
        if state[k] == 2:
            continue
        state[k] = 2
        size[k] = 1 + sum(size[c] for c in nxt)
        depth[k] = 1 + max((depth[c] for c in nxt), default=0)
        limits.check("svg_elements", size[k], f"{path}: with every <use> expanded it holds at least")
        if depth[k] > max_depth:
            raise limits.over("depth", f"{path}: with every <use> expanded, elements nest deeper than")


class _Budget:
    """Counts sampled points across a drawing so that sampling stops at the `points` limit."""

    def __init__(self, path: Path):
        self.path, self.left = path, limits.get("points")

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise limits.over("points", f"{self.path}: its curves, sampled every rdp_epsilon/2 px, reach")


def _visible(el: se.Shape) -> bool:
    return el.values.get("visibility") not in ("hidden", "collapse") and el.values.get("display") != "none"


def _shape_polylines(path: Path, el: se.Shape, epsilon: float, budget: _Budget) -> list[np.ndarray]:
    """One shape -> [(K, 2) px polylines], one per subpath."""
    if isinstance(el, se.Path):
        _check_path_data(path, el)
    out = []
    # abs() bakes any transform svgelements left on the path (e.g. a rotated ellipse's
    # arcs) into the segments; without it their points would be in the element's own units.
    for sub in abs(se.Path(el)).as_subpaths():
        pts = _flatten(path, list(sub), epsilon, budget)
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


def _flatten(path: Path, segments: list, epsilon: float, budget: _Budget) -> np.ndarray:
    """Path segments of one subpath -> (K, 2) points; curves sampled every ~epsilon/2 px.

    A curve's length is estimated from 16 points on it (cheap whatever its coordinates, where
    svgelements' exact length can take minutes on 1e308), after its ends and control points
    pass the coordinate limit."""
    pts: list = []
    step = max(epsilon, 0.2) / 2
    for seg in segments:
        if seg.end is None:
            continue
        if isinstance(seg, (se.Move, se.Line, se.Close)) or seg.start is None:
            pts.append(np.array([[seg.end.x, seg.end.y]], np.float64))
            budget.take(1)
            continue
        check_coordinates(_control_points(seg), str(path))
        probe = np.asarray(seg.npoint(np.linspace(0.0, 1.0, 16)), np.float64)
        check_coordinates(probe, str(path))
        length = float(np.hypot(*np.diff(probe, axis=0).T).sum()) * 1.05
        n = int(np.clip(np.ceil(length / step), 4, 2000))
        budget.take(n)
        pts.append(np.asarray(seg.npoint(np.linspace(0.0, 1.0, n + 1)[1:]), np.float64).reshape(-1, 2))
    a = np.concatenate(pts) if pts else np.zeros((0, 2))
    if len(a) > 1:  # drop repeated points (a Close that lands where the path already is)
        a = a[np.concatenate([[True], np.any(np.diff(a, axis=0) != 0, axis=1)])]
    return a


def _control_points(seg) -> np.ndarray:
    """Ends, control points and (for arcs) radii of a segment, as an (K, 2) array."""
    pts = [getattr(seg, k, None) for k in ("start", "end", "control", "control1", "control2", "center")]
    pts = [(p.x, p.y) for p in pts if p is not None]
    if isinstance(seg, se.Arc):
        pts.append((seg.rx, seg.ry))
    return np.asarray(pts, np.float64).reshape(-1, 2)
