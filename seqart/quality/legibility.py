"""Handwriting legibility, judged by a reader seqart did not write: Tesseract OCR.

A written line is drawn to a greyscale PNG (`line_image`) and read by the
`tesseract` program; the character error rate is the edit distance
(insertions, deletions, substitutions; rapidfuzz) from what was meant to what
was read, over the length of what was meant. Whitespace runs count as one
space on both sides. The ceiling is the font itself: the same text laid out by
the Hershey script font with no slant, jitter or wobble (`font_line`).

How the line is drawn matters as much as who wrote it. Tesseract (5.3, the
LSTM `eng` model) is a print reader; the settings in `READER` were chosen by
`benchmarks/handwriting_ocr_setup.py` on the 100 held-out phrases written by
the plain font and by the synthetic set itself (never on a model's lines, and
with no word list), one change at a time:

* a fixed scale (0.25 px a tablet unit: a 90-unit x-height is ~22 px), a 5 px
  anti-aliased pen, then a 1 px Gaussian blur, 20 px of white left and right;
* a fixed band about the body: the image spans 2.6 x-heights above and 1.8
  below the median height of the line's points, whatever the ink's extent.
  Raw-line mode (`--psm 13`, tried first; `--psm 7` only where it reads
  nothing) takes the whole image as the line and scales it to its own line
  height, so the band gives every line the same scale whether its letters
  reach up and down ("Read gold") or not ("seed");
* a shear that undoes the line's own slant: the slant is measured (`slant`:
  dx/dy of the downstrokes) and the line sheared so it leans like the plain
  font (dx/dy = -1/3). The synthetic hands lean -0.05 to 0.45 rad more.

Measured CER, font / training hand, 100 phrases, 1,083 characters
(`benchmarks/results/handwriting_ocr_setup.json`, and `handwriting_ocr.json`
of the commit before this reader for the first line):

| reader | font | training hand |
|---|---|---|
| earlier: the export page (5 mm margins, the line centred in a cell a third as tall as long), 0.315 px a unit, 7.9 px pen, psm 7 then 13, no shear | 0.194 | 0.242 |
| the same scale, pen and modes on a 20 px margin | 0.127 | 0.156 |
| **`READER`** | **0.087** | **0.084** |
| `READER`, but the ink's own box (20 px all round) | 0.091 | 0.113 |
| ... psm 7 first | 0.108 | 0.115 |
| ... no shear / sheared upright (dx/dy = 0) | 0.086 / 0.159 | 0.111 / 0.176 |
| ... band 2.2 + 2.2 / 3 + 3 x-heights | 0.105 / 0.139 | 0.124 / 0.143 |
| ... no blur, pen 3 or 7 px, 0.18 or 0.35 px a unit | 0.088-0.094 | 0.083-0.099 |

Tesseract is not smooth in its input: a sub-pixel change moves a set's CER by
up to ~0.01, so the last row's settings are as good as `READER`'s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError

X_HEIGHT_UNITS = 90.0  # tablet units: the synthetic set's x-height at size 1 (9 font units x 10)
FONT_SLANT = -1 / 3  # dx/dy of the plain script font's downstrokes (y down), as `slant` measures it


@dataclass(frozen=True)
class Setup:
    """How a line is drawn for Tesseract and which page modes read it (the defaults are `READER`)."""

    px_per_unit: float = 0.25  # image px per tablet unit: a 90-unit x-height is ~22 px
    pen_px: float = 5.0  # stroke width, px (anti-aliased, round caps)
    margin_px: float = 20.0  # white space left and right of the ink (and above/below it when band is None)
    band: tuple[float, float] | None = (2.6, 1.8)  # x-heights kept above / below the body's centre; None: ink box
    deslant_to: float | None = FONT_SLANT  # shear the line so its measured slant is this; None: as written
    blur_px: float = 1.0  # Gaussian blur radius after drawing, px (0: none)
    psms: tuple[str, ...] = ("13", "7")  # Tesseract page modes, tried in turn until one reads something


READER = Setup()


def polylines(clip: Clip) -> list[np.ndarray]:
    """A handwriting (or strokes) clip's pen-down polylines [(K, 2) tablet units, y down]."""
    from seqart.formats.stroke3 import clip_to_stroke3, stroke3_to_strokes

    return [p.astype(np.float64) for p in stroke3_to_strokes(clip_to_stroke3(clip))]


def slant(strokes: list[np.ndarray], rounds: int = 3) -> float:
    """The line's slant as dx/dy of its downstrokes (y down: a forward lean is negative).

    The length-weighted median over segments within 45 degrees of vertical, re-measured after
    undoing the estimate so far (a steep lean puts its own downstrokes past 45 degrees at first)."""
    segs = np.concatenate([np.diff(s, axis=0) for s in strokes if len(s) > 1] or [np.zeros((0, 2))])
    k = 0.0
    for _ in range(rounds):
        d = segs - np.outer(segs[:, 1], (k, 0.0))
        d = d[np.abs(d[:, 1]) > np.abs(d[:, 0])]
        if not len(d):
            break
        ratio, weight = d[:, 0] / d[:, 1], np.abs(d[:, 1])
        order = np.argsort(ratio)
        cum = np.cumsum(weight[order])
        k += float(ratio[order][np.searchsorted(cum, cum[-1] / 2)])
    return k


def line_image(clip: Clip, setup: Setup = READER):
    """One line as a greyscale Pillow image, drawn as `setup` says."""
    from PIL import ImageFilter

    from seqart.codecs.strokes.raster import Canvas, ink_palette, sheet_items
    from seqart.codecs.strokes.sheet import Drawing, Sheet

    strokes = polylines(clip)
    if not strokes:
        raise SeqartError(f"{clip.meta.get('text', 'a line')!r}: nothing written to read")
    if setup.deslant_to is not None:
        k = slant(strokes) - setup.deslant_to
        strokes = [p - np.outer(p[:, 1], (k, 0.0)) for p in strokes]
    strokes = [p * setup.px_per_unit for p in strokes]  # image px from here on
    xy = np.concatenate(strokes)
    m = setup.margin_px
    if setup.band is None:
        y0, y1 = xy[:, 1].min() - m, xy[:, 1].max() + m
    else:  # a fixed height about the body: psm 13 scales the whole image, so a line of x-height letters only
        h, centre = X_HEIGHT_UNITS * setup.px_per_unit, float(np.median(xy[:, 1]))  # is not read as capitals
        y0, y1 = centre - setup.band[0] * h, centre + setup.band[1] * h
    x0, x1 = xy[:, 0].min() - m, xy[:, 0].max() + m
    starts = np.cumsum([0] + [len(p) for p in strokes[:-1]]).tolist()
    sheet = Sheet(float(x1 - x0), float(y1 - y0), [Drawing([p - (x0, y0) for p in strokes], starts, 1.0, "")])
    dpi = 25.4  # one px per sheet mm
    canvas = Canvas(sheet, dpi, setup.pen_px, ink_palette("black", "white"))
    canvas.ink(sheet_items(sheet, dpi, setup.pen_px)[0])
    image = canvas.image().convert("L")
    return image.filter(ImageFilter.GaussianBlur(setup.blur_px)) if setup.blur_px > 0 else image


def line_png(clip: Clip, path: Path, setup: Setup = READER) -> Path:
    """Render one handwriting (or strokes) line to a PNG for Tesseract (see `line_image`)."""
    line_image(clip, setup).save(path, format="PNG")
    return Path(path)


def tesseract_program() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise SeqartError("tesseract: not found on PATH (apt install tesseract-ocr tesseract-ocr-eng)")
    return path


def read_png(path: Path, program: str | None = None, psms: tuple[str, ...] = READER.psms) -> str:
    """What Tesseract reads in a one-line PNG, whitespace runs made single spaces.

    Each page mode in `psms` is tried in turn until one reads something. One thread per call
    (OMP_THREAD_LIMIT=1): the callers run one line at a time on a shared machine."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    for psm in psms:
        done = subprocess.run([program or tesseract_program(), str(path), "-", "--psm", psm, "-l", "eng"],
                              capture_output=True, text=True, timeout=120, env=env)
        if done.returncode != 0:
            raise SeqartError(f"{path}: tesseract failed: {done.stderr.strip().splitlines()[-1:]}")
        read = " ".join(done.stdout.split())
        if read:
            return read
    return ""


def read_lines(clips: list[Clip], folder: Path, tag: str, setup: Setup = READER, program: str | None = None,
               jobs: int = 1) -> list[tuple[str, str]]:
    """(what Tesseract read, what was meant) for each clip (meta["text"]), drawn into `folder` as
    `<tag>-NNN.png` with `setup`; `jobs` Tesseract calls at once (each one thread)."""
    from concurrent.futures import ThreadPoolExecutor

    pngs = [line_png(c, Path(folder) / f"{tag}-{i:03d}.png", setup) for i, c in enumerate(clips)]
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        reads = list(pool.map(lambda png: read_png(png, program, setup.psms), pngs))
    return [(r, c.meta["text"]) for r, c in zip(reads, clips)]


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
