"""Strokes on stage: the live pen renderer and the drawing primer."""

from __future__ import annotations

import numpy as np

from seqart.clip import Clip
from seqart.live.events import Event, Renderer


class PenRenderer(Renderer):
    """`/seqart/pen x y down`: move to absolute (x, y); down=1 draws the segment, 0 travels.

    Offsets are summed from `origin` and multiplied by `scale` (model units -> machine units).
    After each drawing the origin moves by `line_step` (machine units; handwriting: down a line).
    A point's pen channel says whether the pen stays down *after* it (stroke-3), so a
    segment is drawn when the previous point left the pen down.
    """

    def __init__(self, codec, options: dict, prefix: str):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/pen"
        self.ix, self.iy, self.ip = (self.layout.channels.index(c) for c in ("dx", "dy", "pen"))
        self.scale = float(options.get("scale", 1.0))
        self.origin = tuple(float(v) for v in options.get("origin", (0.0, 0.0)))
        self.line_step = tuple(float(v) for v in options.get("line_step", (0.0, 0.0)))
        self.reset()

    def reset(self) -> None:
        self.x, self.y = self.origin
        self.pen_down = False  # the first point is a travel move

    def events(self, frame, beat, beats_per_second):
        self.x += float(frame[self.ix]) * self.scale
        self.y += float(frame[self.iy]) * self.scale
        ev = Event(beat, self.address, (self.x, self.y, int(self.pen_down)))
        self.pen_down = int(round(float(frame[self.ip]))) == 0
        return [ev]

    def end(self, beat):
        self.origin = (self.origin[0] + self.line_step[0], self.origin[1] + self.line_step[1])
        self.reset()
        return [Event(beat, self.prefix + "/pen/end", ())]


def drawing_clip(codec, points: np.ndarray) -> Clip:
    """(N, 3) absolute x, y, lifted (1 on a stroke's last point) -> a Clip of stroke offsets."""
    lay = codec.layout
    d = np.diff(points[:, :2], axis=0, prepend=points[:1, :2] * 0)
    values = {"dx": d[:, 0], "dy": d[:, 1], "pen": (points[:, 2] > 0.5).astype(np.float64)}
    return Clip(np.column_stack([values[c] for c in lay.channels]), lay.channels, codec.modality,
                **codec.clip_defaults())
