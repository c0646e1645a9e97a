"""Outputs the engine sends to: the shared contract and the in-memory echo sink.

The engine's sending loop calls `send(event, when)` at `when - ahead` (wall
seconds), where `when` is the event's deadline plus this sink's latency
offset. A MIDI sink has `ahead = 0` and sends at the deadline; an OSC sink in
bundle mode sends `ahead` seconds early with the deadline as the timetag.

`note_off(key, when)` ends a note that `send` started; the engine schedules it
from the note's duration. `panic()` ends every sounding note now (stop,
Ctrl-C, crash). `check()` runs about once a second off the sending thread: it
reconnects lost ports and returns a one-line report of what changed, or None.
"""

from __future__ import annotations

import threading
import time

from seqart.live.events import Event


class Sink:
    name = "sink"
    ahead = 0.0  # seconds before its deadline that a message leaves
    handles_notes = False  # wants note_off calls

    def __init__(self, latency_ms: float = 0.0):
        self.latency = float(latency_ms) / 1000.0
        self.sent = 0  # messages handed to the transport
        self.dropped = 0  # messages that could not be sent (port lost, receiver absent)

    def prepare(self, event: Event, when: float):
        """Work done a few ms early (e.g. encoding the packet), handed back to `send`."""
        return None

    def send(self, event: Event, when: float, prepared=None) -> object | None:
        """Send the event due at wall time `when`; a note sink returns a key for note_off."""
        raise NotImplementedError

    def note_off(self, key, when: float) -> None:
        pass

    def panic(self) -> None:
        pass

    def release(self) -> None:
        """End only the notes this sink started (no all-notes-off); by default the same as panic."""
        self.panic()

    def check(self) -> str | None:
        return None

    def close(self) -> None:
        pass


class EchoSink(Sink):
    """Keeps everything in memory: (sent_at, deadline, address, args, note) rows; notes are balanced."""

    name = "echo"
    handles_notes = True

    def __init__(self, latency_ms: float = 0.0, ahead: float = 0.0):
        super().__init__(latency_ms)
        self.ahead = float(ahead)
        self.rows: list[tuple] = []
        self.midi: list[tuple] = []  # (sent_at, "on"/"off", pitch, channel)
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> token
        self._token = 0
        self._lock = threading.Lock()

    def send(self, event, when, prepared=None):
        now = time.time()
        with self._lock:
            self.rows.append((now, when, event.address, event.args, event.note))
            self.sent += 1
            if event.note is None:
                return None
            pitch, _vel, _dur, ch = event.note
            if (ch, pitch) in self.sounding:  # retrigger: end the sounding one first
                self.midi.append((now, "off", pitch, ch))
            self._token += 1
            self.sounding[(ch, pitch)] = self._token
            self.midi.append((now, "on", pitch, ch))
            return (ch, pitch, self._token)

    def note_off(self, key, when):
        ch, pitch, token = key
        with self._lock:
            if self.sounding.get((ch, pitch)) == token:
                del self.sounding[(ch, pitch)]
                self.midi.append((time.time(), "off", pitch, ch))

    def panic(self):
        with self._lock:
            for ch, pitch in list(self.sounding):
                self.midi.append((time.time(), "off", pitch, ch))
            self.sounding.clear()
