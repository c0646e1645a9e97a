"""Writing text with a text-conditioned model (Graves 2013 sec. 5): a line of text in, pen strokes out.

The one Sampler steps the model with the text in its window; Graves' stopping
rule ends the line when the window has passed the last character, and a
generous point budget (`POINTS_PER_CHAR` per character) ends a model that
never gets there. The clip's meta holds the text (also as its `source`, so
the SVG names the drawing after it) and the provenance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.generate import check_generation, model_name, provenance
from seqart.modelio import load_model
from seqart.sample import Sampler

POINTS_PER_CHAR = 60  # IAM-OnDB averages ~25 points a character, the synthetic set ~13
MM_PER_CHAR = 7.5  # the default wrap, --width-mm / 7.5 characters a line (20 at 150 mm): the synthetic
#                    set's lines hold at most 20 characters, and longer ones drift off the baseline and shrink
LINE_PITCH = 1.4  # baseline to baseline, in median line heights (ink top to bottom)
MAX_TEXT_CHARS = 20_000  # a text file longer than this is refused: ~3 h of writing at the pace above


def write_line(run: Path | str, text: str, *, bias: float = 0.0, temperature: float = 1.0, seed: int = 0,
               max_frames: int | None = None, style: Path | None = None, style_text: str | None = None) -> Clip:
    """One handwritten line of `text` (whitespace runs become single spaces) from the model at `run`.

    style: a line in the hand to imitate (Graves 2013 sec. 5.5): the model reads its strokes with the
    window over "style text + ' ' + text", then writes on; the clip holds only the new line.
    """
    check_generation(temperature=temperature, bias=bias, seed=seed, frames=max_frames)
    text = " ".join(str(text).split())
    if not text:
        raise SeqartError("text is empty: nothing to write")
    model, codec, _ = load_model(Path(run))
    if not getattr(model.cfg, "window_mixtures", 0):  # DRAW's config has none
        raise SeqartError(f"{run}: this model does not write text (train one on handwriting with "
                          "--set model.window_mixtures=10)")
    primer = None
    if style is not None:
        primer = read_style(codec, Path(style), style_text)
        codec.encode_text(primer.meta["text"], f"{style}: transcript")
    limit = max_frames or POINTS_PER_CHAR * len(text) + 100
    sampler = Sampler(model, codec, temperature=temperature, bias=bias, seed=seed, max_frames=limit)
    sampler.set_text(text if primer is None else f"{primer.meta['text']} {text}")
    clip = sampler.generate(limit, prime=primer)
    made = provenance(model_name(run), seed=seed, temperature=temperature, bias=bias, text=text,
                      style=None if style is None else Path(style).name)
    return clip.with_frames(clip.frames, meta=clip.meta | {"text": text, "source": text, "provenance": made})


def wrap(text: str, chars_per_line: int) -> list[str]:
    """Text -> lines of at most `chars_per_line` characters, broken between words (a longer word
    stands alone); blank lines separate paragraphs and are kept out of the writing."""
    import textwrap

    lines = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(" ".join(paragraph.split()), chars_per_line, break_long_words=False)
    return lines


def write_page(run: Path | str, text: str, *, chars_per_line: int, source: str = "text", **options) -> Clip:
    """Several lines of `text`, wrapped at `chars_per_line`, each written by `write_line` (seed, seed + 1...)
    and stacked left-aligned `LINE_PITCH` line heights apart into one clip, the pen moving line to line.

    options: those of `write_line` (bias, temperature, seed, style, style_text). Every character is checked
    against the model's alphabet before anything is written; `source` names the text in errors.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise SeqartError(f"{source}: {len(text)} characters, more than the {MAX_TEXT_CHARS} seqart write takes")
    lines = wrap(text, chars_per_line)
    if not lines:
        raise SeqartError(f"{source}: text is empty: nothing to write")
    _, codec, _ = load_model(Path(run))
    if hasattr(codec, "encode_text"):  # a model without a window is refused by write_line itself
        codec.encode_text(" ".join(lines), source)
    seed = options.pop("seed", 0)
    written = [write_line(run, line, seed=seed + i, **options) for i, line in enumerate(lines)]
    if len(written) == 1:
        return written[0]
    return stack_lines(written, "\n".join(lines))


def stack_lines(lines: list[Clip], text: str) -> Clip:
    """Line clips -> one clip: each line's ink starts at x = 0, its ink centre LINE_PITCH line heights below the last."""
    from seqart.codecs.strokes import clip_to_stroke3, stroke3_to_clip, stroke3_to_strokes, strokes_to_stroke3

    inked = [stroke3_to_strokes(clip_to_stroke3(c)) for c in lines]  # per line, absolute polylines (K, 2)
    boxes = [(np.concatenate(s).min(0), np.concatenate(s).max(0)) if s else (np.zeros(2), np.zeros(2)) for s in inked]
    pitch = LINE_PITCH * max(float(np.median([hi[1] - lo[1] for lo, hi in boxes])), 1.0)
    page = []
    for i, (strokes, (lo, hi)) in enumerate(zip(inked, boxes)):
        shift = np.array([-lo[0], i * pitch - (lo[1] + hi[1]) / 2], np.float32)
        page += [s + shift for s in strokes]
    first = lines[0]
    clip = stroke3_to_clip(strokes_to_stroke3(page), first.fps or 60.0)
    meta = first.meta | {"text": text, "source": text.split("\n")[0], "provenance": first.meta["provenance"] | {"text": text}}
    return clip.with_frames(clip.frames, modality=first.modality, meta=meta)


def page_options(clip: Clip, width_mm: float) -> dict:
    """Export options that put the line alone on a page, `width_mm` wide between 5 mm margins."""
    from seqart.formats.stroke3 import clip_to_stroke3

    xy = np.cumsum(clip_to_stroke3(clip)[:, :2], axis=0)  # absolute points (N, 2)
    w, h = np.ptp(xy, axis=0) if len(xy) else (1.0, 1.0)
    cell = width_mm if w >= h or w <= 0 else width_mm * h / w  # the page's grid cell bounds the longer side
    return {"page": "auto", "cell_mm": float(cell), "margin_mm": 5.0}


def read_style(codec, path: Path, text: str | None) -> Clip:
    """The first line of a style file with its transcript (`text`, else the file's own), scaled so the
    spread of its pen offsets matches the model's training data (an SVG's px are not tablet units)."""
    from seqart.formats.sketches import read as read_drawing

    if not path.is_file():
        raise SeqartError(f"{path}: no such style file")
    if text is not None:
        text = " ".join(text.split())
        if path.suffix.lower() == ".xml":  # one IAM-OnDB line without its ascii file
            from seqart.formats.iam_ondb import parse_strokes
            from seqart.formats.sketches import drawing_clip

            clip = drawing_clip(parse_strokes(path)[0], str(path), codec.options, source=path.name)
        else:
            clip = next(c for cs in read_drawing(path, codec.options).values() for c in cs)
        clip = clip.with_frames(clip.frames, meta=clip.meta | {"text": text})
    else:
        try:
            clip = codec.read(path)["all"][0]
        except SeqartError as e:
            raise SeqartError(f"{e} (or give the style's text with --style-text)") from None
    if not clip.meta.get("text"):
        raise SeqartError(f"{path}: the style has no transcript (give --style-text, or put it in "
                          f"{path.with_suffix('.txt').name})")
    body = clip.frames[clip.frames[:, 2] < 2]
    spread = float(body[:, :2].std()) if len(body) > 1 else 0.0
    frames = clip.frames.copy()
    if spread > 1e-9:
        frames[:, :2] *= float(codec.norm.scale[0]) / spread
    return clip.with_frames(frames, modality=codec.modality, meta=clip.meta | {"points": len(frames)})
