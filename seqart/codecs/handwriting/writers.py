"""Handwriting clips are pen strokes: the strokes writers (centreline SVG, PNG, GIF) write them too."""

from __future__ import annotations

import functools

from seqart.clip import Clip
from seqart.codecs.strokes.raster import write_gif, write_png
from seqart.codecs.strokes.svg import write_svg
from seqart.export import register_writer


def _as_strokes(fn):
    """The strokes writer `fn`, taking handwriting clips (same channels; the text stays in meta)."""

    @functools.wraps(fn)  # keeps the signature, so export options are checked against fn's own
    def write(clips, dest, **options):
        clips = [clips] if isinstance(clips, Clip) else list(clips)
        fn([c.with_frames(c.frames, modality="strokes") for c in clips], dest, **options)

    return write


for _ext, _fn in ((".svg", write_svg), (".png", write_png), (".gif", write_gif)):
    register_writer("handwriting", _ext)(_as_strokes(_fn))
