"""An artist's own handwriting: a folder of written lines, each with its transcript.

Each line is a drawing file that seqart already reads (`svg_in`, `ndjson`),
and its text comes from, in order:

* `.svg`: a `.txt` of the same name beside it (its first non-empty line), else the
  SVG's own top-level `<title>`;
* `.ndjson` (one drawing per line): each object's `"text"`, else line n of a
  `.txt` of the same name (its n-th non-empty line).

A line without a transcript is an error naming the file: training on
unlabelled lines would teach the window nothing. Units stay the files' own
(SVG px, ndjson pixels); the handwriting codec fits its scale to them when
training from scratch and keeps the model's when fine-tuning (`--init`).
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from seqart.clip import Clip
from seqart.errors import SeqartError

MAX_TEXT_BYTES = 1024 * 1024
SUFFIXES = (".svg", ".ndjson")


def read_folder(path: Path, options: dict) -> list[Clip]:
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise SeqartError(f"{path}: no handwritten lines here (expected .svg or .ndjson files with a .txt beside each)")
    clips = []
    for f in files:
        clips += read_svg_line(f, options) if f.suffix.lower() == ".svg" else read_ndjson_lines(f, options)
    return clips


def read_svg_line(path: Path, options: dict) -> list[Clip]:
    from seqart.formats.svg_in import read_svg

    text = _txt_lines(path)[:1] or [svg_title(path)]
    if not text[0]:
        raise SeqartError(f"{path}: no transcript (put it in {path.with_suffix('.txt').name} or the SVG's <title>)")
    (clip,) = read_svg(path, options)
    return [clip.with_frames(clip.frames, meta=clip.meta | {"text": text[0]})]


def read_ndjson_lines(path: Path, options: dict) -> list[Clip]:
    from seqart.formats.ndjson import read_ndjson

    clips, beside = read_ndjson(path, options), _txt_lines(path)
    texts = _ndjson_texts(path)
    out = []
    for i, clip in enumerate(clips):
        text = texts[i] or (beside[i] if i < len(beside) else "")
        if not text:
            raise SeqartError(f"{path}: drawing {i + 1} has no transcript (a \"text\" key, or line {i + 1} of "
                              f"{path.with_suffix('.txt').name})")
        out.append(clip.with_frames(clip.frames, meta=clip.meta | {"text": text}))
    return out


def _ndjson_texts(path: Path) -> list[str]:
    """Each non-empty line's "text" (or ""), in order; read_ndjson has already checked the JSON."""
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    texts = [json.loads(ln).get("text", "") for ln in lines]
    return [t.strip() if isinstance(t, str) else "" for t in texts]


def _txt_lines(path: Path) -> list[str]:
    txt = Path(path).with_suffix(".txt")
    if not txt.is_file():
        return []
    if txt.stat().st_size > MAX_TEXT_BYTES:
        raise SeqartError(f"{txt}: larger than {MAX_TEXT_BYTES // 1024} KiB, not a transcript")
    try:
        return [ln.strip() for ln in txt.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except UnicodeDecodeError as e:
        raise SeqartError(f"{txt}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def svg_title(path: Path) -> str:
    """The text of the SVG root's own <title> child, or "" (svg_in reports XML errors)."""
    from seqart.limits import read_bytes

    try:
        root = ET.fromstring(read_bytes(path))  # a regular file only: a FIFO would block ET.parse
    except (ET.ParseError, OSError, SeqartError):
        return ""
    for child in root:
        if child.tag.rsplit("}", 1)[-1] == "title":
            return " ".join((child.text or "").split())
    return ""
