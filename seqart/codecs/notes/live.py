"""Notes on stage: the live renderer (a frame -> an OSC note and a MIDI note) and the phrase primer.

A frame is in the notes layout's order: `dt` (seconds since the previous
onset), `dur` (seconds), `pitch` (0-127) and `velocity`, a class of
`velocity_bins` bins of 128 / K (played as the middle of its bin), shaped by
the codec's `dynamics` as a written MIDI file is (music.dynamics): the metre from
the note's onset in the sequence, the contour against the median pitch played
so far in it (a file knows its whole piece; a stream only its past).
"""

from __future__ import annotations

import numpy as np

from seqart.clip import Clip
from seqart.codecs.notes.music import dynamics
from seqart.errors import SeqartError
from seqart.live.events import Event, Renderer


class NoteRenderer(Renderer):
    """`/seqart/note pitch velocity duration` (duration in seconds) and a MIDI note on `midi_channel`."""

    def __init__(self, codec, options: dict, prefix: str):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/note"
        chans = self.layout.channels
        self.ip, self.iv, self.idur = (chans.index(c) for c in ("pitch", "velocity", "dur"))
        self.vel_bins = next(c.classes for c in self.layout.categoricals if c.channel == "velocity")
        self.channel = int(options.get("midi_channel", 1)) - 1
        if not 0 <= self.channel <= 15:
            raise SeqartError(f"midi_channel must be 1..16, not {self.channel + 1}")
        self.idt = chans.index("dt")
        meta = codec.clip_defaults()["meta"]  # the tempo and dynamics a written file would use
        self.bpm, self.amount = float(meta["bpm"]), float(meta.get("dynamics") or 0.0)
        self.reset()

    def reset(self) -> None:
        self.onset_s, self.pitches = 0.0, []  # seconds into the sequence; its pitches so far

    def note_of(self, frame: np.ndarray) -> tuple[int, int, float]:
        """(pitch 0-127, velocity 1-127, duration in seconds, at least 5 ms) of the sequence's next frame."""
        pitch = int(np.clip(round(float(frame[self.ip])), 0, 127))
        v = float(frame[self.iv])
        vel = (v + 0.5) * 128 / self.vel_bins if self.vel_bins < 128 else round(v)
        self.onset_s += max(float(frame[self.idt]), 0.0)
        self.pitches.append(pitch)
        if self.amount > 0:
            vel += float(dynamics(np.array([self.onset_s]), np.array([float(pitch)]), self.bpm, self.amount,
                                  centre=float(np.median(self.pitches)))[0])
        return pitch, int(np.clip(vel, 1, 127)), max(float(frame[self.idur]), 0.005)

    def events(self, frame, beat, beats_per_second):
        pitch, vel, dur = self.note_of(frame)
        return [Event(beat, self.address, (pitch, vel, dur), (pitch, vel, dur * beats_per_second, self.channel))]


def phrase_clip(codec, notes: np.ndarray) -> Clip:
    """(N, 4) pitch, velocity 1-127, start_s, dur_s sorted by onset -> a notes Clip in the codec's channels."""
    lay = codec.layout
    start = notes[:, 2] - notes[0, 2]
    bins = next(c.classes for c in lay.categoricals if c.channel == "velocity")
    vel = np.clip(notes[:, 1], 1, 127)
    values = {"pitch": notes[:, 0], "dt": np.diff(start, prepend=0.0), "dur": notes[:, 3],
              "velocity": np.clip(vel * bins // 128, 0, bins - 1) if bins < 128 else vel}
    cols = [values.get(ch, np.zeros(len(notes))) for ch in lay.channels]  # program: 0, a piano
    return Clip(np.column_stack(cols), lay.channels, codec.modality, **codec.clip_defaults())
