"""Canvases on stage: what the live engine sends for each DRAW step (docs/osc.md)."""

from __future__ import annotations

import numpy as np

from seqart.live.events import Event, Renderer

WINDOW = 4  # x, y, stride, sigma: a frame's first channels (seqart.codecs.canvas)


def frame_window(frame: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, stride, sigma) of the window that wrote this frame, pixels from the top-left corner."""
    return tuple(float(v) for v in frame[:WINDOW])


def frame_bytes(frame: np.ndarray) -> bytes:
    """The canvas as H*W unsigned bytes, row-major from the top-left: 0 = blank, 255 = full ink."""
    grey = np.nan_to_num(np.asarray(frame[WINDOW:], np.float64), nan=0.0)
    return np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8).tobytes()


class CanvasRenderer(Renderer):
    """Per DRAW step: `/seqart/canvas/window x y stride sigma`, then `/seqart/canvas/pixels width height blob`.

    The window is the one that just wrote; the blob is the whole canvas after that write,
    width * height unsigned bytes (`frame_bytes`). Both carry the step's deadline; after the
    T-th step `/seqart/canvas/end`, a rest of `gap_beats`, and a new canvas.
    """

    def __init__(self, codec, options: dict, prefix: str):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/canvas"
        self.height, self.width = codec.size

    def events(self, frame, beat, beats_per_second):
        return [Event(beat, self.address + "/window", frame_window(frame)),
                Event(beat, self.address + "/pixels", (self.width, self.height, frame_bytes(frame)))]

    def end(self, beat):
        return [Event(beat, self.address + "/end", ())]
