"""Frames -> timed output events, and the OSC address scheme (docs/osc.md).

A renderer turns each frame the Sampler gives into events placed on the
beat grid. Time comes from the codec: `codec.frame_seconds(frame)` is how far
a frame advances time in the model's seconds (strokes: 1/rate, notes: the
"dt" channel, poses: 1/fps); the engine turns seconds into beats at the
piece's reference tempo, so a tempo change speeds everything up or down.

Which renderer reads a frame is the codec's to say (`codec.renderer`): the
notes codec plays notes, the strokes codecs drive a pen, the poses codec
streams poses; a codec that says nothing streams each frame as a flat float
list (`Renderer`, the base every renderer grows from).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PREFIX = "/seqart"


@dataclass(slots=True)
class Event:
    beat: float  # when it is due, in beats on the engine's clock
    address: str  # OSC address
    args: tuple  # OSC arguments (ints, floats, strings)
    note: tuple | None = None  # (pitch 0-127, velocity 1-127, duration in beats, MIDI channel 0-15)


class Renderer:
    """Base: a flat float list per frame at `/seqart/frame`."""

    address = PREFIX + "/frame"

    def __init__(self, codec, options: dict, prefix: str = PREFIX):
        self.codec, self.layout, self.options, self.prefix = codec, codec.layout, dict(options), prefix

    def seconds(self, frame: np.ndarray) -> float:
        """Model seconds from the previous frame to this one (>= 0)."""
        s = float(self.codec.frame_seconds(frame))
        return s if s > 0 and s == s else 0.0

    def events(self, frame: np.ndarray, beat: float, beats_per_second: float) -> list[Event]:
        return [Event(beat, self.address, tuple(float(v) for v in frame))]

    def end(self, beat: float) -> list[Event]:
        """Events when a sequence ends (the model sampled its end token)."""
        return [Event(beat, self.prefix + "/end", ())]

    def reset(self) -> None:
        pass

    def view(self) -> dict:
        """What a page needs besides the events to show them (the studio's start message); none by default."""
        return {}


def renderer_for(codec, options: dict, prefix: str = PREFIX) -> Renderer:
    """The renderer the codec gives for its frames, `options` being the piece's `[render]` table."""
    return codec.renderer(dict(options), prefix)
