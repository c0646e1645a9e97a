"""Hershey `.jhf` vector fonts: one Clip per glyph.

A glyph record is a 5-character id, a 3-character vertex count, then that many
character pairs. Each coordinate is `ord(c) - ord("R")` (font units, y down).
The first pair is the glyph's left and right bound (spacing, not ink; kept in
meta as `left`/`right`); the pair `" R"` lifts the pen. Older copies wrap long
records onto following lines, so a record is read by its vertex count, not by
its line.

The 96-glyph text fonts hold ASCII 32..127 in order, so their glyphs get
`meta["char"]`. Glyphs without ink (the space) are skipped. Each glyph is its
own split group: grouping by font would put a one-font file in one split.
"""

from __future__ import annotations

from pathlib import Path

from seqart import limits
from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.formats.sketches import drawing_clip

_PEN_UP = " R"


def read_jhf(path: Path, options: dict) -> list[Clip]:
    try:
        text = limits.read_bytes(path).decode("ascii").replace("\r", "")
    except UnicodeDecodeError as e:
        raise SeqartError(f"{path}: not a Hershey font (non-ASCII byte at {e.start})") from None
    records = _records(path, text)
    if not records:
        raise SeqartError(f"{path}: no glyphs (the file is empty)")
    clips = []
    for i, (line, gid, pairs) in enumerate(records):
        strokes = _strokes(pairs)
        if not strokes:
            continue  # a space: spacing only
        meta = {"font": path.stem, "glyph": i, "hershey_id": gid, "source": f"{path.name}:{i}"}
        meta |= {"group": f"{path.stem}:{i}", "left": _coord(pairs[0]), "right": _coord(pairs[1])}
        if len(records) == 96:
            meta["char"] = chr(32 + i)
        clips.append(drawing_clip(strokes, f"{path}: glyph {i} (line {line})", options, **meta))
    if not clips:
        raise SeqartError(f"{path}: no glyph has any strokes")
    return clips


def _records(path: Path, text: str) -> list[tuple[int, str, str]]:
    """[(line number, id, 2*count characters)], reading across wrapped lines."""
    out, pos, line = [], 0, 1
    while pos < len(text):
        if text[pos] == "\n":
            pos, line = pos + 1, line + 1
            continue
        start_line, head = line, text[pos : pos + 8]
        count = head[5:8].strip()
        if "\n" in head or not count.isdigit() or int(count) < 1:
            raise SeqartError(f"{path}: line {line}: not a glyph header (5-char id, 3-digit vertex count)")
        pos += 8
        need, body = 2 * int(count), []
        while need and pos < len(text):
            if text[pos] == "\n":
                line += 1
            else:
                body.append(text[pos])
                need -= 1
            pos += 1
        if need:
            raise SeqartError(f"{path}: line {start_line}: glyph is cut short ({need // 2} vertices missing)")
        out.append((start_line, head[:5].strip(), "".join(body)))
    return out


def _coord(c: str) -> int:
    return ord(c) - ord("R")


def _strokes(pairs: str) -> list[list[tuple[int, int]]]:
    """Vertex pairs after the bound pair -> polylines of (x, y) font units."""
    strokes, cur = [], []
    for k in range(2, len(pairs), 2):
        pair = pairs[k : k + 2]
        if pair == _PEN_UP:
            strokes.append(cur)
            cur = []
        else:
            cur.append((_coord(pair[0]), _coord(pair[1])))
    strokes.append(cur)
    return [s for s in strokes if s]
