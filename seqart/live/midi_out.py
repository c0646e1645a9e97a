"""MIDI output through mido: rtmidi ports (ALSA or JACK) and mido's TCP sockets.

Port names (`--midi` or `[midi] port`):
  NAME            an existing input port of another program (JACK: `client:port`)
  virtual:NAME    a port of our own that others connect to
  tcp:HOST:PORT   mido.sockets: raw MIDI bytes over TCP to a listening server
The rtmidi API is `[midi] api`: "alsa", "jack" or "auto" (ALSA when /dev/snd/seq
exists, else JACK; machines without a sound card have no ALSA sequencer, and
`jackd -d dummy` gives them JACK). In mido, passing client_name= forces a
virtual port, so direct opens never pass it.

Every note-on is tracked until its note-off. A note already sounding on the
same channel and pitch is ended before it starts again, so a receiver sees
strict on/off pairs. When the port is lost (TCP closed, JACK peer gone) the
sink drops messages, reconnects from `check()` and then ends every note that
was sounding (note-offs, then CC 123 all-notes-off on each channel used).
"""

from __future__ import annotations

import os
import threading

import mido

from seqart.errors import SeqartError
from seqart.live.sinks import Sink

ALL_NOTES_OFF = 123
os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never let libjack start a server behind our back


def backend(api: str = "auto") -> mido.Backend:
    if api == "auto":
        api = "alsa" if os.path.exists("/dev/snd/seq") else "jack"
    names = {"alsa": "mido.backends.rtmidi/LINUX_ALSA", "jack": "mido.backends.rtmidi/UNIX_JACK"}
    if api not in names:
        raise SeqartError(f"MIDI api must be auto, alsa or jack, not {api!r}")
    return mido.Backend(names[api], load=True)


def open_port(spec: str, api: str = "auto", output: bool = True):
    """Open a mido port from a spec (see the module docstring); SeqartError with one line on failure."""
    try:
        if spec.startswith("tcp:"):
            host, _, port = spec[4:].rpartition(":")
            if output:
                return mido.sockets.connect(host or "127.0.0.1", int(port))
            return mido.sockets.PortServer(host or "127.0.0.1", int(port))
        be = backend(api)
        opener = be.open_output if output else be.open_input
        if spec.startswith("virtual:"):
            return opener(spec[8:], virtual=True)
        return opener(spec)
    except (OSError, SystemError, ValueError, IOError) as e:
        raise SeqartError(f"MIDI port {spec!r}: cannot open ({str(e).strip() or type(e).__name__})") from None


def list_ports(api: str = "auto") -> list[str]:
    try:
        return list(backend(api).get_output_names())
    except (SystemError, OSError, ImportError) as e:
        raise SeqartError(f"MIDI ({api}): {str(e).strip() or type(e).__name__}") from None


class MidiSink(Sink):
    handles_notes = True

    def __init__(self, spec: str, api: str = "auto", latency_ms: float = 0.0):
        super().__init__(latency_ms)
        self.spec, self.api, self.name = spec, api, f"midi {spec}"
        self.port = open_port(spec, api)
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> token of the note-on
        self.channels: set[int] = set()
        self._token = 0
        self._lock = threading.Lock()  # sending thread vs check()/panic()
        self._lost: str | None = None
        self._told = False

    def _out(self, msg: mido.Message) -> bool:
        if self.port is None:
            self.dropped += 1
            return False
        try:
            self.port.send(msg)
            self.sent += 1
            return True
        except (OSError, SystemError, ValueError) as e:
            self._lost = str(e).strip() or type(e).__name__
            self._close_port()
            self.dropped += 1
            return False

    def send(self, event, when, prepared=None):
        if event.note is None:
            return None
        pitch, vel, _dur, ch = event.note
        with self._lock:
            if (ch, pitch) in self.sounding:
                self._out(mido.Message("note_off", note=pitch, channel=ch))
            self._token += 1
            self.sounding[(ch, pitch)] = self._token
            self.channels.add(ch)
            self._out(mido.Message("note_on", note=pitch, velocity=vel, channel=ch))
            return (ch, pitch, self._token)

    def note_off(self, key, when):
        ch, pitch, token = key
        with self._lock:
            if self.sounding.get((ch, pitch)) != token:
                return  # already ended (retriggered, panicked)
            if self._out(mido.Message("note_off", note=pitch, channel=ch)):
                del self.sounding[(ch, pitch)]
            # else: stays in `sounding` and is ended when the port comes back

    def panic(self):
        with self._lock:
            for ch, pitch in list(self.sounding):
                self._out(mido.Message("note_off", note=pitch, channel=ch))
            for ch in sorted(self.channels):
                self._out(mido.Message("control_change", control=ALL_NOTES_OFF, value=0, channel=ch))
            if self.port is not None:
                self.sounding.clear()

    def _close_port(self):
        port, self.port = self.port, None
        try:
            port.close()
        except Exception:  # noqa: BLE001 - a broken port may fail to close; it is gone either way
            pass

    def _target_present(self) -> bool:
        """For a direct rtmidi open: does the port we opened still exist?"""
        if self.spec.startswith(("tcp:", "virtual:")) or self.port is None:
            return True
        rt = getattr(self.port, "_rt", None)
        try:
            names = rt.get_ports() if rt is not None else list_ports(self.api)
        except Exception:  # noqa: BLE001 - a dead JACK server makes listing fail: treat as gone
            return False
        return any(n == self.spec or n.startswith(self.spec + " ") for n in names)

    def check(self):
        with self._lock:
            if self.port is not None and not self._target_present():
                self._lost = "port disappeared"
                self._close_port()
            if self.port is not None:
                return None
            try:
                self.port = open_port(self.spec, self.api)
            except SeqartError:
                if self._told:
                    return None
                self._told = True
                return f"{self.name}: port lost ({self._lost}); retrying every second, holding {len(self.sounding)} note-offs"
            ended = len(self.sounding)
            for ch, pitch in list(self.sounding):
                self._out(mido.Message("note_off", note=pitch, channel=ch))
            for ch in sorted(self.channels):
                self._out(mido.Message("control_change", control=ALL_NOTES_OFF, value=0, channel=ch))
            self.sounding.clear()
            self._told, self._lost = False, None
            return f"{self.name}: reconnected; ended {ended} notes that were sounding"

    def close(self):
        with self._lock:
            if self.port is not None:
                self._close_port()
