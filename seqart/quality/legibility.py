"""Handwriting legibility, judged by a reader seqart did not write: Tesseract OCR.

A written line is rendered to a PNG at a fixed scale (`MM_PER_UNIT` mm per
tablet unit, so a synthetic x-height of ~90 units is ~3.6 mm, ~28 px at
`DPI`) with a thick pen (`PEN_MM`): Tesseract reads thin single-line script
poorly, and on the synthetic set's own held-out lines this pen halved its
errors against the plotter's 0.35 mm. The PNG is read by the `tesseract`
program (`--psm 7`: the image holds one line of text), and the character
error rate is the edit distance (insertions, deletions, substitutions;
rapidfuzz) from what was meant to what was read, over the length of what was
meant. Whitespace runs count as one space on both sides. A line Tesseract's
line mode finds nothing in is read again in raw-line mode (`read_png`).

The ceiling is the font itself: the same text laid out by the Hershey script
font with no slant, jitter or wobble (`font_line`), rendered and read the same
way.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError

MM_PER_UNIT = 0.04  # page mm per tablet unit
PEN_MM = 1.0  # stroke width of the rendered line
DPI = 200.0


def line_png(clip: Clip, path: Path) -> Path:
    """Render one handwriting (or strokes) clip to a PNG at the fixed scale above."""
    from seqart.codecs.strokes import clip_to_stroke3
    from seqart.export import export_clips

    xy = np.cumsum(clip_to_stroke3(clip)[:, :2], axis=0)  # absolute points (N, 2), tablet units
    longest = float(np.ptp(xy, axis=0).max()) if len(xy) else 0.0
    cell = max(longest * MM_PER_UNIT, 1.0)  # the page's cell bounds the longer side; 1 mm is its floor
    export_clips([clip.with_frames(clip.frames, modality="strokes")], path, page="auto", cell_mm=cell,
                 margin_mm=5.0, dpi=DPI, stroke_width_mm=PEN_MM)
    return Path(path)


def tesseract_program() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise SeqartError("tesseract: not found on PATH (apt install tesseract-ocr tesseract-ocr-eng)")
    return path


def read_png(path: Path, program: str | None = None) -> str:
    """What Tesseract reads in a one-line PNG, whitespace runs made single spaces.

    Line mode (`--psm 7`) now and then finds no text at all in a clear line (6 to 14 lines
    of 100 in every set measured, the plain font's included); those are read again in
    raw-line mode (`--psm 13`), which skips Tesseract's own layout analysis."""
    for psm in ("7", "13"):
        done = subprocess.run([program or tesseract_program(), str(path), "-", "--psm", psm, "-l", "eng"],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise SeqartError(f"{path}: tesseract failed: {done.stderr.strip().splitlines()[-1:]}")
        read = " ".join(done.stdout.split())
        if read:
            return read
    return ""


def edits(read: str, meant: str) -> int:
    """Levenshtein distance between what was read and what was meant (whitespace runs as one space)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(" ".join(read.split()), " ".join(meant.split()))


def cer(pairs: list[tuple[str, str]]) -> float:
    """Character error rate over (read, meant) pairs: total edits / total characters meant."""
    chars = sum(len(" ".join(m.split())) for _, m in pairs)
    return sum(edits(r, m) for r, m in pairs) / max(chars, 1)


def font_line(text: str, font: str = "scripts") -> Clip:
    """`text` in the plain Hershey font: no slant, no jitter, a flat baseline (the legibility ceiling)."""
    from seqart.codecs.handwriting.synthetic import Style, load_font, render_line
    from seqart.formats.sketches import drawing_clip

    plain = Style(font=font, slant=0.0, size=1.0, spacing=0.0, word_space=1.0, wobble=0.0, wobble_period=10.0,
                  wobble_phase=0.0, jitter=0.0)
    strokes = render_line(text, load_font(font), plain, np.random.default_rng(0))
    clip = drawing_clip(strokes, text, {}, source=text)
    return clip.with_frames(clip.frames, modality="handwriting", meta=clip.meta | {"text": text})
