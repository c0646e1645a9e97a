"""A synthetic handwriting set: text written with Hershey's script fonts, varied line by line.

Each line draws its own hand (`Style`): a font (script simplex or cursive),
slant, size, letter spacing, word spacing, a slowly wandering baseline and
per-point jitter. Letters are placed by the font's own left/right bounds and
joined where the font joins them: when one letter's last point meets the next
letter's first point (within `JOIN_TOL` font units), the pen stays down. The
lines are written in IAM-OnDB's own layout (`formats.iam_ondb.write_form`), in
tablet units of `TABLET_UNITS` per font unit, so the same reader and the same
command train on either.

Deterministic: the same seed gives the same files, byte for byte. The fonts
ship in `fonts/` with `hershey.txt`, whose notice must travel with them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqart.codecs.handwriting.corpus import heldout_phrases, training_phrases
from seqart.errors import SeqartError

FONTS_DIR = Path(__file__).parent / "fonts"
FONTS = ("scripts", "cursive")
TABLET_UNITS = 10.0  # tablet units per font unit: a script x-height of ~9 font units -> ~90 units
JOIN_TOL = 1.0  # font units: a letter whose start lies this close to the previous letter's end joins it
SPACE = 16.0  # font units: the width of a space in both fonts (bounds -8..8)
LINES_PER_FORM = 10


@dataclass(frozen=True)
class Glyph:
    left: float  # font units, the pen position's left bound
    right: float
    strokes: tuple[np.ndarray, ...]  # (K, 2) font units, y down, origin at the glyph's centre


@dataclass(frozen=True)
class Style:
    """One line's hand. Angles in radians, lengths in font units (before `size`)."""

    font: str
    slant: float  # shear: tops lean right when > 0
    size: float  # scale factor
    spacing: float  # extra gap after each letter
    word_space: float  # factor on the space's width
    wobble: float  # baseline amplitude
    wobble_period: float  # letters per baseline wave
    wobble_phase: float
    jitter: float  # per-point Gaussian noise (std)


def load_font(name: str) -> dict[str, Glyph]:
    """A 96-glyph Hershey font from fonts/ as {character: Glyph} (the space has no ink, so is absent)."""
    from seqart.codecs.strokes import clip_to_stroke3, stroke3_to_strokes
    from seqart.formats.hershey import read_jhf

    path = FONTS_DIR / f"{name}.jhf"
    if not path.is_file():
        raise SeqartError(f"{path}: no such font (known: {', '.join(FONTS)})")
    glyphs = {}
    for clip in read_jhf(path, {}):
        strokes = stroke3_to_strokes(clip_to_stroke3(clip))
        glyphs[clip.meta["char"]] = Glyph(float(clip.meta["left"]), float(clip.meta["right"]),
                                          tuple(s.astype(np.float64) for s in strokes))
    return glyphs


def draw_style(rng: np.random.Generator, fonts=FONTS) -> Style:
    return Style(font=str(fonts[int(rng.integers(len(fonts)))]), slant=float(rng.uniform(-0.05, 0.45)),
                 size=float(rng.uniform(0.8, 1.25)), spacing=float(rng.uniform(-0.5, 2.5)),
                 word_space=float(rng.uniform(0.7, 1.3)), wobble=float(rng.uniform(0.0, 1.5)),
                 wobble_period=float(rng.uniform(6.0, 20.0)), wobble_phase=float(rng.uniform(0, 2 * math.pi)),
                 jitter=float(rng.uniform(0.05, 0.3)))


def layout_line(text: str, glyphs: dict[str, Glyph], style: Style) -> list[np.ndarray]:
    """Text -> pen strokes [(K, 2) font units, y down], letters placed and joined, before slant and noise."""
    strokes: list[np.ndarray] = []
    x, prev_tail = 0.0, None  # prev_tail: the last letter's end, relative to its right bound (or None)
    for i, ch in enumerate(text):
        if ch == " ":
            x, prev_tail = x + SPACE * style.word_space, None
            continue
        if ch not in glyphs:
            raise SeqartError(f"{text!r}: no glyph for {ch!r} in font {style.font}")
        g = glyphs[ch]
        y = style.wobble * math.sin(2 * math.pi * i / style.wobble_period + style.wobble_phase)
        placed = [s + (x - g.left, y) for s in g.strokes]
        head = g.strokes[0][0] - (g.left, 0.0)  # first point relative to the left bound
        if prev_tail is not None and np.abs(head - prev_tail).max() <= JOIN_TOL:
            strokes[-1] = np.concatenate([strokes[-1], placed[0]])  # the font joins: pen stays down
            placed = placed[1:]
        strokes += placed
        prev_tail = g.strokes[-1][-1] - (g.right, 0.0)
        x += g.right - g.left + style.spacing
    return strokes


def render_line(text: str, glyphs: dict[str, Glyph], style: Style, rng: np.random.Generator) -> list[np.ndarray]:
    """Text -> strokes [(K, 2) tablet units, y down]: laid out, slanted, sized, jittered."""
    out = []
    for s in layout_line(text, glyphs, style):
        p = s.copy()
        p[:, 0] -= math.tan(style.slant) * (p[:, 1] - 9.0)  # shear about the baseline (y = 9 in both fonts)
        p += rng.normal(0.0, style.jitter, p.shape)
        out.append(p * style.size * TABLET_UNITS)
    return out


def write_set(out: Path, lines: int, seed: int = 0, heldout: int = 100, phrases: list[str] | None = None) -> dict:
    """Write `lines` synthetic lines to `out` in IAM-OnDB's layout, plus `heldout-phrases.txt`.

    Training phrases never include the `heldout` held-out ones; with `phrases` given, those are
    written instead (e.g. the held-out phrases, for a test set). Returns a summary (JSON-able).
    """
    from seqart.formats.iam_ondb import write_form

    if lines < 1:
        raise SeqartError(f"lines = {lines}: write at least one line")
    out = Path(out)
    held = heldout_phrases(heldout, seed) if heldout else []
    texts = list(phrases) if phrases else training_phrases(lines, seed, set(held))
    texts = (texts * (lines // len(texts) + 1))[:lines]
    fonts = {name: load_font(name) for name in FONTS}
    rng = np.random.default_rng([seed, 2])
    styles, points = [], 0
    for f in range(0, lines, LINES_PER_FORM):
        form = []
        for text in texts[f : f + LINES_PER_FORM]:
            style = draw_style(rng)
            strokes = render_line(text, fonts[style.font], style, rng)
            points += sum(len(s) for s in strokes)
            form.append((strokes, text))
            styles.append(asdict(style))
        write_form(out, f"syn{seed:03d}-{f // LINES_PER_FORM:04d}", form)
    out.mkdir(parents=True, exist_ok=True)
    (out / "heldout-phrases.txt").write_text("".join(p + "\n" for p in held))
    return {"folder": str(out), "lines": lines, "points_per_line": points / lines, "heldout_phrases": len(held),
            "seed": seed}
