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
