"""Frames -> timed output events, and the OSC address scheme (docs/osc.md).

A renderer turns each frame the Sampler gives into events placed on the
beat grid. Time comes from the codec: `codec.frame_seconds(frame)` is how far
a frame advances time in the model's seconds (strokes: 1/rate, notes: the
"dt" channel, poses: 1/fps); the engine turns seconds into beats at the
piece's reference tempo, so a tempo change speeds everything up or down.

Which renderer reads a frame follows the codec's declared channels: a layout
with a `pitch` channel plays notes; strokes (`dx`, `dy`, `pen`) drive a pen;
anything else (poses) streams its frame as a flat float list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqart.codecs.pose_features import PoseDecoder
from seqart.errors import SeqartError
from seqart.kinematics import joint_positions
from seqart.layout import Layout

PREFIX = "/seqart"


@dataclass(slots=True)
class Event:
    beat: float  # when it is due, in beats on the engine's clock
    address: str  # OSC address
    args: tuple  # OSC arguments (ints, floats, strings)
    note: tuple | None = None  # (pitch 0-127, velocity 1-127, duration in beats, MIDI channel 0-15)


def _find(layout: Layout, *names: str) -> int | None:
    for n in names:
        if n in layout.channels:
            return layout.channels.index(n)
    return None


def _classes(layout: Layout, channel: str) -> int | None:
    return next((c.classes for c in layout.categoricals if c.channel == channel), None)


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


class PoseRenderer(Renderer):
    """One `/seqart/pose f...` per frame; with `per_joint`, also `/seqart/pose/<joint> f...`.

    Option `pose` picks what the floats are (docs/osc.md):
    * "features": the model's channels as they are; joints are channel-name
      prefixes before the last "." or "_" (`Hips.r0` -> Hips);
    * "bvh": the frame decoded to the BVH's channel row (degrees, file units),
      per joint its own channels in the file's order;
    * "positions": world positions of every joint (x y z each, file units), by
      forward kinematics on the decoded row.
    Decoding runs as a stream (`PoseDecoder`): the root's place and heading carry
    on across frames and sequences. With `root_motion = false` the root stays
    above the origin (x = z = 0), so a dancer never walks off a projection.
    """

    KINDS = ("features", "bvh", "positions")

    def __init__(self, codec, options: dict, prefix: str = PREFIX):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/pose"
        self.kind = str(options.get("pose", "features"))
        if self.kind not in self.KINDS:
            raise SeqartError(f"render.pose must be one of {', '.join(self.KINDS)}, not {self.kind!r}")
        self.root_motion = bool(options.get("root_motion", True))
        self.joints: dict[str, list[int]] = {}  # joint name -> indices into the message's floats
        if self.kind == "features":
            for i, ch in enumerate(self.layout.channels):
                cut = max(ch.rfind("_"), ch.rfind("."))
                self.joints.setdefault(ch[:cut] if cut > 0 else ch, []).append(i)
            return
        self.decoder = PoseDecoder(codec.info())
        sk = self.decoder.skeleton
        if self.kind == "bvh":
            self.joints = {n: list(range(sl.start, sl.stop))
                           for n, sl in zip(sk.names, sk.channel_slices()) if sl.stop > sl.start}
        else:
            self.joints = {n: [3 * j, 3 * j + 1, 3 * j + 2] for j, n in enumerate(sk.names)}
        self._root_xz = [sk.channel_slices()[0].start + sk.channels[0].index(c)
                         for c in ("Xposition", "Zposition") if c in sk.channels[0]]

    def floats(self, frame: np.ndarray) -> np.ndarray:
        """The message's floats for one frame (see the class doc)."""
        if self.kind == "features":
            return frame
        row = self.decoder(frame[None])[0]  # (n_channels,)
        if not self.root_motion:
            row[self._root_xz] = 0.0
        if self.kind == "bvh":
            return row
        return joint_positions(self.decoder.skeleton, row[None])[0].reshape(-1)  # (J * 3,)

    def events(self, frame, beat, beats_per_second):
        values = [float(v) for v in self.floats(frame)]
        evs = [Event(beat, self.address, tuple(values))]
        if self.options.get("per_joint"):
            evs += [Event(beat, f"{self.address}/{j}", tuple(values[i] for i in idx)) for j, idx in self.joints.items()]
        return evs

    def reset(self) -> None:
        """A new sequence or a prime: rotations start afresh, the dancer stays where it stands."""
        if self.kind != "features":
            self.decoder.reset(place=False)


class PenRenderer(Renderer):
    """`/seqart/pen x y down`: move to absolute (x, y); down=1 draws the segment, 0 travels.

    Offsets are summed from `origin` and multiplied by `scale` (model units -> machine units).
    A point's pen channel says whether the pen stays down *after* it (stroke-3), so a
    segment is drawn when the previous point left the pen down.
    """

    def __init__(self, codec, options: dict, prefix: str = PREFIX):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/pen"
        self.ix, self.iy, self.ip = (self.layout.channels.index(c) for c in ("dx", "dy", "pen"))
        self.scale = float(options.get("scale", 1.0))
        self.origin = tuple(float(v) for v in options.get("origin", (0.0, 0.0)))
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
        self.reset()
        return [Event(beat, self.prefix + "/pen/end", ())]


class NoteRenderer(Renderer):
    """`/seqart/note pitch velocity duration` (duration in seconds) and a MIDI note.

    Reads channels `pitch`, `velocity` (or `vel`) and `duration` (or `dur`) in
    seconds. A categorical velocity with K < 128 classes holds bins, played as
    the middle of each bin. A codec may instead provide `frame_note(frame) ->
    (pitch, velocity, duration_seconds)`.
    """

    def __init__(self, codec, options: dict, prefix: str = PREFIX):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/note"
        lay = self.layout
        self.ip = _find(lay, "pitch")
        self.iv = _find(lay, "velocity", "vel")
        self.idur = _find(lay, "duration", "dur")
        self.vel_bins = _classes(lay, lay.channels[self.iv]) if self.iv is not None else None
        self.channel = int(options.get("midi_channel", 1)) - 1
        if not 0 <= self.channel <= 15:
            raise SeqartError(f"midi_channel must be 1..16, not {self.channel + 1}")
        self.default_velocity = int(options.get("velocity", 90))
        self.default_duration = float(options.get("duration", 0.25))

    def note_of(self, frame: np.ndarray) -> tuple[int, int, float]:
        if hasattr(self.codec, "frame_note"):
            p, v, d = self.codec.frame_note(frame)
            return int(p), int(v), float(d)
        pitch = int(np.clip(round(float(frame[self.ip])), 0, 127))
        vel = self.default_velocity
        if self.iv is not None:
            v = float(frame[self.iv])
            vel = int((v + 0.5) * 128 / self.vel_bins) if self.vel_bins and self.vel_bins < 128 else int(round(v))
        dur = float(frame[self.idur]) if self.idur is not None else self.default_duration
        return pitch, int(np.clip(vel, 1, 127)), max(dur, 0.005)

    def events(self, frame, beat, beats_per_second):
        pitch, vel, dur = self.note_of(frame)
        dur_beats = dur * beats_per_second
        return [Event(beat, self.address, (pitch, vel, dur), (pitch, vel, dur_beats, self.channel))]


def renderer_for(codec, options: dict, prefix: str = PREFIX) -> Renderer:
    channels = set(codec.layout.channels)
    if "pitch" in channels:
        return NoteRenderer(codec, options, prefix)
    if {"dx", "dy", "pen"} <= channels:
        return PenRenderer(codec, options, prefix)
    if codec.modality == "poses":
        return PoseRenderer(codec, options, prefix)
    return Renderer(codec, options, prefix)
