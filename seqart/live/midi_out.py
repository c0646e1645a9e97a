"""MIDI output through mido: rtmidi ports (ALSA or JACK) and raw MIDI over TCP.

Port names (`--midi` or `[midi] port`):
  NAME            an existing input port of another program (JACK: `client:port`)
  virtual:NAME    a port of our own that others connect to
  tcp:HOST:PORT   raw MIDI bytes over TCP to a listening server (mido.sockets' format;
                  connects with a 2 s timeout and never blocks the sender, see midi_tcp.py)
The rtmidi API is `[midi] api`: "alsa", "jack" or "auto" (ALSA when /dev/snd/seq
exists, else JACK; machines without a sound card have no ALSA sequencer, and
`jackd -d dummy` gives them JACK). In mido, passing client_name= forces a
virtual port, so direct opens never pass it.

Every note-on is tracked until its note-off. A note already sounding on the
same channel and pitch is ended before it starts again, so a receiver sees
strict on/off pairs. `release()` ends only the notes this sink started (a
player sharing the synth keeps theirs); `panic()` also sends CC 123
all-notes-off on each channel used.

When the port is lost the sink drops messages, reconnects from `check()` (off
the sending thread; the open itself runs on a helper thread so a slow open
never holds the supervisor) and then ends every note that was sounding.
Lost means: a send failed (any exception), the TCP receiver stopped reading,
the target port is gone, or, under JACK (see jack_probe.py), JACK no longer
connects us to the target (it restarted between two checks) or the server
restarted (this covers `virtual:` ports too).
"""

from __future__ import annotations

import os
import threading

import mido

from seqart.errors import SeqartError
from seqart.live import jack_probe
from seqart.live.scheduler import normal_priority
from seqart.live.midi_tcp import STALL, TcpMidiOut
from seqart.live.sinks import Sink

ALL_NOTES_OFF = 123
OPEN_WAIT = 0.2  # seconds check() waits for a reopen before leaving it to finish in the background
os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never let libjack start a server behind our back


def resolve_api(api: str = "auto") -> str:
    if api == "auto":
        return "alsa" if os.path.exists("/dev/snd/seq") else "jack"
    if api not in ("alsa", "jack"):
        raise SeqartError(f"MIDI api must be auto, alsa or jack, not {api!r}")
    return api


def backend(api: str = "auto") -> mido.Backend:
    names = {"alsa": "mido.backends.rtmidi/LINUX_ALSA", "jack": "mido.backends.rtmidi/UNIX_JACK"}
    api = resolve_api(api)
    if api == "jack":
        jack_probe.probe()  # loads libjack once and silences its stderr chatter before rtmidi uses it
    return mido.Backend(names[api], load=True)


def open_port(spec: str, api: str = "auto", output: bool = True):
    """Open a port from a spec (see the module docstring); SeqartError with one line on failure."""
    try:
        if spec.startswith("tcp:"):
            host, _, port = spec[4:].rpartition(":")
            if output:
                return TcpMidiOut(host or "127.0.0.1", int(port))
            return mido.sockets.PortServer(host or "127.0.0.1", int(port))
        be = backend(api)
        opener = be.open_output if output else be.open_input
        if spec.startswith("virtual:"):
            return opener(spec[8:], virtual=True)
        return opener(spec)
    except (OSError, SystemError, ValueError, RuntimeError) as e:
        raise SeqartError(f"MIDI port {spec!r}: cannot open ({str(e).strip() or type(e).__name__})") from None


def list_ports(api: str = "auto") -> list[str]:
    try:
        return list(backend(api).get_output_names())
    except (SystemError, OSError, ImportError) as e:
        raise SeqartError(f"MIDI ({api}): {str(e).strip() or type(e).__name__}") from None


def close_quietly(port) -> None:
    try:
        port.close()
    except Exception:  # noqa: BLE001 - a broken port may fail to close; it is gone either way
        pass


class Link:
    """An open rtmidi/TCP port plus what tells whether it still reaches the target.

    `own` is the unique name our end got under JACK (found among the target's
    connections), `generation` the JACK server session it was opened in.
    """

    def __init__(self, spec: str, api: str, output: bool = True):
        self.spec, self.api = spec, api
        self.jack = not spec.startswith("tcp:") and resolve_api(api) == "jack"
        self.port = open_port(spec, api, output)
        self.own = self.generation = None
        if self.jack:
            probe = jack_probe.probe()
            if not spec.startswith("virtual:"):
                name = jack_probe.unique_port_name("out" if output else "in")
                try:
                    self.port._rt.set_port_name(name)
                    self.own = name
                except Exception:  # noqa: BLE001 - an rtmidi without renaming: the port list decides
                    pass
            if probe.alive():
                self.generation = probe.generation

    def lost(self) -> str | None:
        """Why this link no longer reaches its target, or None (rtmidi ports; quick, off the sender)."""
        if self.spec.startswith("tcp:"):
            return None  # a TCP sink finds loss by sending (and by a receiver that stopped reading)
        virtual = self.spec.startswith("virtual:")
        probe = jack_probe.probe()
        if self.jack and probe.available:
            if not probe.alive():
                return "JACK server gone"
            if self.generation is not None and probe.generation != self.generation:
                return "JACK server restarted"
            if virtual:
                return None
            conns = probe.connections(self.spec)
            if conns is None:
                return "port disappeared"
            if self.own and not any(c.endswith(":" + self.own) for c in conns):
                return "JACK dropped our connection (the target restarted)"
            return None
        try:  # ALSA (or no libjack): the port list; a listing that fails means the system is gone
            names = self.port._rt.get_ports()
        except Exception as e:  # noqa: BLE001
            return f"cannot list ports ({type(e).__name__})"
        if virtual:
            return None
        return None if any(n == self.spec or n.startswith(self.spec + " ") for n in names) else "port disappeared"

    def close(self) -> None:
        close_quietly(self.port)


class MidiSink(Sink):
    handles_notes = True

    def __init__(self, spec: str, api: str = "auto", latency_ms: float = 0.0):
        super().__init__(latency_ms)
        self.spec, self.api, self.name = spec, api, f"midi {spec}"
        self.link: Link | None = Link(spec, api)
        self.port = self.link.port
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> token of the note-on
        self.channels: set[int] = set()
        self.errors = 0  # sends that raised (each one loses the port until check() reconnects)
        self._token = 0
        self._lock = threading.Lock()  # sending thread vs check()/panic(); never held across a blocking call
        self._lost: str | None = None
        self._told = False
        self._dead: list[Link] = []  # lost links, closed by check() (closing can take tens of ms)
        self._opener: threading.Thread | None = None
        self._fresh: Link | None = None
        self._closed = False

    # --- the sending thread (also panic/release from others); all under the lock ---------------
    def _out(self, msg: mido.Message, must: bool = False) -> bool:
        port = self.port
        if port is None:
            self.dropped += 1
            return False
        try:
            if isinstance(port, TcpMidiOut):
                ok = port.send(msg, must)
            else:
                port.send(msg)
                ok = True
        except Exception as e:  # noqa: BLE001 - whatever a dying port raises, the sender must go on
            self.errors += 1
            self._lose(f"{type(e).__name__}: {str(e).strip()}" if str(e).strip() else type(e).__name__)
            self.dropped += 1
            return False
        if not ok:  # the TCP receiver is not keeping up: refused whole, never blocks
            self.dropped += 1
            return False
        self.sent += 1
        return True

    def _lose(self, why: str) -> None:
        """With the lock held: forget the port; check() closes it and reconnects."""
        if self.link is not None:
            self._dead.append(self.link)
        self.link = self.port = None
        self._lost = why

    def send(self, event, when, prepared=None):
        if event.note is None:
            return None
        pitch, vel, _dur, ch = event.note
        with self._lock:
            if (ch, pitch) in self.sounding:
                self._out(mido.Message("note_off", note=pitch, channel=ch), must=True)
            self._token += 1
            self.sounding[(ch, pitch)] = self._token
            self.channels.add(ch)
            self._out(mido.Message("note_on", note=pitch, velocity=vel, channel=ch))
            return (ch, pitch, self._token)

    def note_off(self, key, when):
        ch, pitch, token = key
        with self._lock:
            if self.sounding.get((ch, pitch)) != token:
                return  # already ended (retriggered, released, panicked)
            if self._out(mido.Message("note_off", note=pitch, channel=ch), must=True):
                del self.sounding[(ch, pitch)]
            # else: stays in `sounding` and is ended when the port comes back

    def release(self) -> None:
        """End only the notes this sink started: note-offs, no all-notes-off (a player's notes keep sounding)."""
        with self._lock:
            for ch, pitch in list(self.sounding):
                if self._out(mido.Message("note_off", note=pitch, channel=ch), must=True):
                    del self.sounding[(ch, pitch)]

    def panic(self):
        with self._lock:
            self._end_all()

    def _end_all(self) -> int:
        """With the lock held: note-offs for what sounds, then CC 123 on each channel used."""
        ended = len(self.sounding)
        for ch, pitch in list(self.sounding):
            self._out(mido.Message("note_off", note=pitch, channel=ch), must=True)
        for ch in sorted(self.channels):
            self._out(mido.Message("control_change", control=ALL_NOTES_OFF, value=0, channel=ch), must=True)
        if self.port is not None:
            self.sounding.clear()
        return ended

    # --- the supervisor, once a second ----------------------------------------------------------
    def check(self):
        if self._closed:
            return None
        with self._lock:
            if isinstance(self.port, TcpMidiOut) and self.port.stalled():
                self._lose(f"the receiver stopped reading for {STALL:g} s")
            link = self.link
        if link is not None:
            why = link.lost()  # outside the lock: it asks JACK / lists ports
            if why is None:
                self._close_dead()
                return None
            with self._lock:
                if self.link is link:
                    self._lose(why)
        self._close_dead()
        return self._reconnect()

    def _close_dead(self) -> None:
        with self._lock:
            dead, self._dead = self._dead, []
        for d in dead:  # outside the lock: closing an rtmidi client can take tens of ms
            d.close()

    def _reconnect(self) -> str | None:
        fresh = self._reopen()
        if fresh is None:
            if self._told:
                return None
            self._told = True
            return (f"{self.name}: port lost ({self._lost}); retrying every second, "
                    f"holding {len(self.sounding)} note-offs")
        with self._lock:
            self.link, self.port = fresh, fresh.port
            ended = self._end_all()
            told, why, self._told, self._lost = self._told, self._lost, False, None
        lost = "" if told else f"port lost ({why}); "
        return f"{self.name}: {lost}reconnected; ended {ended} notes that were sounding"

    def _reopen(self) -> Link | None:
        """A new link, opened on a helper thread (a TCP connect can take its whole timeout)."""
        if self._opener is None:
            self._fresh = None
            self._opener = threading.Thread(target=self._open_fresh, name="seqart-midi-open", daemon=True)
            self._opener.start()
        self._opener.join(OPEN_WAIT)
        if self._opener.is_alive():
            return None
        self._opener = None
        fresh, self._fresh = self._fresh, None
        return fresh

    def _open_fresh(self) -> None:
        normal_priority()  # started from the supervisor, which may be real-time
        try:
            fresh = Link(self.spec, self.api)
        except Exception:  # noqa: BLE001 - SeqartError, or whatever a half-dead JACK raises: retry later
            return
        with self._lock:
            if not self._closed:
                self._fresh = fresh
                return
        fresh.close()

    def close(self):
        with self._lock:
            self._closed = True
            link, dead, self._dead = self.link, self._dead, []
            self.link = self.port = None
        for d in dead + ([link] if link is not None else []):
            d.close()
