"""IAM-OnDB's own files: handwritten lines as pen points, with their transcriptions.

The IAM On-Line Handwriting Database (Liwicki & Bunke 2005) is read where it
unpacks; seqart never ships it (its licence forbids that). Two kinds of file:

* `lineStrokes/<a01>/<a01-000>/<a01-000u>-<NN>.xml`: one text line, as
      <WhiteboardCaptureSession> ... <StrokeSet>
        <Stroke colour="black" start_time="769.05" end_time="769.64">
          <Point x="1073" y="1058" time="769.05"/> ...
  x, y in the whiteboard's tablet units (integers, y grows downwards), time in
  seconds. Each <Stroke> is one pen-down trace.
* `ascii/<a01>/<a01-000>/<a01-000u>.txt`: the form's text; after the line
  `CSR:` come its lines, one per line of the form, in order: line NN of the
  form is the NN-th non-empty line after `CSR:`.

A folder is read whole (both trees anywhere below it); each stroke file finds
its transcription by its form's name (the file name without `-NN`). A stroke
file without one is an error naming it, not a silently unlabelled line.

Strict and bounded: at most `MAX_BYTES` per file and `MAX_POINTS` per line,
no DOCTYPE or entities, every coordinate a finite number. `write_form` writes
the same layout (seqart's synthetic handwriting uses it, so one reader serves
both).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.formats.sketches import drawing_clip

MAX_BYTES = 8 * 1024 * 1024  # a real line file is 20-200 KB
MAX_POINTS = 50_000  # a real line has a few thousand points
MAX_COORD = 1e7  # tablet units; anything larger is not a whiteboard
_LINE_NAME = re.compile(r"^(?P<form>.+)-(?P<line>\d{1,3})$")


def is_line_file(path: Path) -> bool:
    """Named as an IAM-OnDB line file: `<form>-NN.xml`."""
    return path.suffix.lower() == ".xml" and _LINE_NAME.match(path.stem) is not None


def read_folder(path: Path, options: dict) -> list[Clip]:
    """Every `<form>-NN.xml` below path, with its line of `<form>.txt`, as stroke Clips (meta `text`)."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*.xml") if p.is_file()) if path.is_dir() else [path]
    if not files:
        raise SeqartError(f"{path}: no IAM-OnDB stroke files (*.xml) here")
    root = path if path.is_dir() else path.parent
    texts = {p.stem: p for p in root.rglob("*.txt") if p.is_file()}
    cache: dict[str, list[str]] = {}
    return [read_line(f, _transcript(f, texts, cache), options) for f in files]


def _transcript(xml: Path, texts: dict[str, Path], cache: dict[str, list[str]]) -> str:
    m = _LINE_NAME.match(xml.stem)
    if not m:
        raise SeqartError(f"{xml}: not an IAM-OnDB line file name (expected <form>-<NN>.xml, e.g. a01-000u-01.xml)")
    form, n = m["form"], int(m["line"])
    if form not in texts:
        raise SeqartError(f"{xml}: no transcription {form}.txt found beside or below {xml.parent}")
    if form not in cache:
        cache[form] = read_csr(texts[form])
    lines = cache[form]
    if not 1 <= n <= len(lines):
        raise SeqartError(f"{xml}: line {n}, but {texts[form]} has {len(lines)} line(s) after CSR:")
    return lines[n - 1]


def read_csr(path: Path) -> list[str]:
    """The non-empty lines after `CSR:` in an IAM-OnDB ascii file."""
    text = _read_bounded(path).decode("latin-1")  # IAM's files are ISO-8859-1
    head, found, body = text.replace("\r", "").partition("\nCSR:")
    if not found and not text.startswith("CSR:"):
        raise SeqartError(f"{path}: no 'CSR:' section (not an IAM-OnDB transcription)")
    body = body if found else text[4:]
    return [ln.strip() for ln in body.split("\n") if ln.strip()]


def read_line(path: Path, text: str, options: dict) -> Clip:
    """One lineStrokes XML -> a stroke Clip in tablet units, its transcript in meta["text"]."""
    strokes, duration = parse_strokes(path)
    form = _LINE_NAME.match(path.stem)
    meta = {"text": text, "source": path.name, "group": form["form"] if form else path.stem,
            "units": "tablet", "duration_s": duration}
    return drawing_clip(strokes, str(path), options, **meta)


def parse_strokes(path: Path) -> tuple[list[np.ndarray], float]:
    """([(K, 2) float64 absolute points per stroke], seconds from first to last point)."""
    data = _read_bounded(path)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise SeqartError(f"{path}: has a DOCTYPE or entities; IAM-OnDB files have neither")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise SeqartError(f"{path}: not valid XML ({e})") from None
    if root.tag != "WhiteboardCaptureSession" or root.find("StrokeSet") is None:
        raise SeqartError(f"{path}: not an IAM-OnDB line (expected <WhiteboardCaptureSession> with a <StrokeSet>)")
    strokes, times, count = [], [], 0
    for k, stroke in enumerate(root.find("StrokeSet").iter("Stroke")):
        pts = []
        for point in stroke.iter("Point"):
            count += 1
            if count > MAX_POINTS:
                raise SeqartError(f"{path}: more than {MAX_POINTS} points in one line")
            x, y = _number(path, k, point, "x"), _number(path, k, point, "y")
            if point.get("time") is not None:
                times.append(_number(path, k, point, "time"))
            pts.append((x, y))
        strokes.append(np.asarray(pts, np.float64).reshape(-1, 2))
    if count == 0:
        raise SeqartError(f"{path}: no <Point> in its <StrokeSet>")
    return strokes, (max(times) - min(times)) if times else 0.0


def _number(path: Path, k: int, point, name: str) -> float:
    raw = point.get(name)
    try:
        v = float(raw)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or abs(v) > MAX_COORD:
        raise SeqartError(f"{path}: stroke {k}: <Point {name}={raw!r}> is not a finite number within ±{MAX_COORD:g}")
    return v


def _read_bounded(path: Path) -> bytes:
    from seqart.limits import check_regular

    check_regular(path)  # open() would block on a FIFO and never end on /dev/zero
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise SeqartError(f"{path}: cannot read ({e.strerror or e})") from None
    if len(data) > MAX_BYTES:
        raise SeqartError(f"{path}: larger than {MAX_BYTES // 2**20} MiB, not an IAM-OnDB file")
    return data


# --- writing the same layout ------------------------------------------------------------


def write_form(root: Path, form: str, lines: list[tuple[list[np.ndarray], str]], rate: float = 100.0) -> None:
    """Write one form: lineStrokes/<form>/<form>-NN.xml per line and ascii/<form>.txt.

    lines: [(strokes [(K, 2) tablet units, y down], transcript)]; points are timed at
    `rate` per second, with a tenth of a second between strokes.
    """
    strokes_dir, ascii_dir = Path(root) / "lineStrokes" / form, Path(root) / "ascii"
    strokes_dir.mkdir(parents=True, exist_ok=True)
    ascii_dir.mkdir(parents=True, exist_ok=True)
    for n, (strokes, _) in enumerate(lines, 1):
        (strokes_dir / f"{form}-{n:02d}.xml").write_text(_line_xml(strokes, rate), encoding="latin-1")
    csr = "\n".join(text for _, text in lines)
    (ascii_dir / f"{form}.txt").write_text(f"Form: {form} (seqart synthetic)\n\nCSR:\n\n{csr}\n", encoding="latin-1")


def _line_xml(strokes: list[np.ndarray], rate: float) -> str:
    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>', "<WhiteboardCaptureSession>", "  <StrokeSet>"]
    t = 0.0
    for s in strokes:
        pts = np.rint(np.asarray(s, np.float64)).astype(np.int64)
        t0 = t
        rows = []
        for x, y in pts:
            rows.append(f'      <Point x="{x}" y="{y}" time="{t:.3f}"/>')
            t += 1.0 / rate
        out.append(f'    <Stroke colour="black" start_time="{t0:.3f}" end_time="{t - 1.0 / rate:.3f}">')
        out += rows + ["    </Stroke>"]
        t += 0.1
    return "\n".join(out + ["  </StrokeSet>", "</WhiteboardCaptureSession>", ""])
