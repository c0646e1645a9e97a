"""MIDI input: an external clock to follow, and a player to answer (call and response).

Call and response (as Magenta's MIDI interface does it): the listener collects
the notes a player plays; once no key is held and nothing has been played for
`silence_beats` beats, the phrase primes the model and the engine answers for
`answer_beats` beats (0: as long as the call), then listens again. A note
played while the engine answers interrupts it. Only the last
`MAX_PRIME_FRAMES` notes of a call are kept (a player who never pauses
cannot grow memory or the prime without bound), and none when not responding.

Ports: an rtmidi input (`NAME`, `virtual:NAME`, JACK or ALSA; messages
arrive on rtmidi's callback thread, whose scheduling is left alone: under
JACK it is JACK's own thread) or `tcp:HOST:PORT`, a mido.sockets server.
mido 1.3.3's PortServer never returns from receive()/poll()/iter_pending(),
so this takes each connection with accept() and reads that SocketPort.

Losing the input (a TCP player disconnects, the rtmidi port goes away, JACK
drops the connection or restarts; see midi_out.Link) ends the keys it held,
as if released then, so the silence that starts the answer can still come.
An rtmidi input is reopened every second until it is back.
"""

from __future__ import annotations

import collections
import threading
import time

import numpy as np

from seqart.live.control import MAX_PRIME_FRAMES
from seqart.live.scheduler import normal_priority
from seqart.live.midi_out import Link, close_quietly
from seqart.live.phrase import phrase_to_clip
from seqart.live.scheduler import realtime

CLOCK_TYPES = {"clock", "start", "stop", "continue", "songpos"}
CHECK_EVERY = 1.0  # seconds between checks that an rtmidi input still reaches its source


class MidiListener:
    def __init__(self, engine, spec: str, api: str = "auto", clock=None, respond: bool = False,
                 silence_beats: float = 2.0, answer_beats: float = 0.0, status=lambda line: None):
        self.engine, self.spec, self.api, self.clock, self.status = engine, spec, api, clock, status
        self.respond, self.silence_beats, self.answer_beats = respond, float(silence_beats), float(answer_beats)
        self.held: dict[tuple[int, int], tuple[float, int]] = {}  # (channel, pitch) -> (start, velocity)
        self._held_from: dict[tuple[int, int], object] = {}  # (channel, pitch) -> connection it came from
        # (pitch, velocity, start, duration) of the call so far; only while responding
        self.phrase: collections.deque = collections.deque(maxlen=MAX_PRIME_FRAMES)
        self.last_activity = 0.0
        self.received = 0
        self.answers = 0
        self.losses = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.link: Link | None = Link(spec, api, output=False)
        self.port = self.link.port
        self._conns: list = []
        if spec.startswith("tcp:"):
            threading.Thread(target=self._poll_tcp, name="seqart-midi-in", daemon=True).start()
        else:
            self.port.callback = self._on_message
            threading.Thread(target=self._watch_port, name="seqart-midi-in-port", daemon=True).start()
        self._watch = threading.Thread(target=self._watch_silence, name="seqart-listen", daemon=True)
        self._watch.start()
        if respond:
            engine.respond = True

    def close(self) -> None:
        self._stop.set()
        for c in list(self._conns):
            c.close()
        link, self.link = self.link, None
        if link is not None:
            link.close()

    def _on_message(self, msg) -> None:
        """rtmidi's callback thread (C; JACK's process thread under JACK): never re-scheduled here."""
        self.feed(msg, time.time())

    def _poll_tcp(self) -> None:
        if getattr(self.engine, "rt_priority", 0):
            realtime(1)
        while not self._stop.is_set():
            conn = self.port.accept(block=False)
            if conn is not None:
                self._conns.append(conn)
                self.status(f"midi in {self.spec}: a player connected")
            for c in list(self._conns):
                try:
                    for msg in c.iter_pending():
                        self.feed(msg, time.time(), c)
                except OSError:
                    close_quietly(c)
                if c.closed:
                    self._conns.remove(c)
                    n = self._release_held(c)
                    self.status(f"midi in {self.spec}: a player disconnected"
                                + (f"; released {n} held keys" if n else ""))
            time.sleep(0.001)

    def _watch_port(self) -> None:
        """Normal priority: it asks JACK about connections and reopens ports."""
        normal_priority()
        while not self._stop.wait(CHECK_EVERY):
            link = self.link
            if link is not None:
                why = link.lost()
                if why is None:
                    continue
                self.link = None
                link.close()
                self.losses += 1
                n = self._release_held(None)
                self.status(f"midi in {self.spec}: port lost ({why}); released {n} held keys; retrying every second")
            try:
                fresh = Link(self.spec, self.api, output=False)
            except Exception:  # noqa: BLE001 - SeqartError or whatever a half-dead JACK raises: next second
                continue
            if self._stop.is_set():
                fresh.close()
                return
            fresh.port.callback = self._on_message
            self.link, self.port = fresh, fresh.port
            self.status(f"midi in {self.spec}: reconnected")

    def feed(self, msg, t: float, source=None) -> None:
        """One incoming mido message, received at wall time t (from `source`: a TCP connection or None)."""
        self.received += 1
        if msg.type in CLOCK_TYPES:
            if self.clock is not None and hasattr(self.clock, "feed"):
                self.clock.feed(msg.type, t, getattr(msg, "pos", None))
            return
        if msg.type not in ("note_on", "note_off"):
            return
        key = (msg.channel, msg.note)
        with self._lock:
            self.last_activity = t
            if msg.type == "note_on" and msg.velocity > 0:
                if self.respond and self.engine.answer_until is not None:
                    self.engine.command("listen")  # the player speaks: stop answering
                self.held[key] = (t, msg.velocity)
                self._held_from[key] = source
            elif key in self.held:
                self._end_key(key, t)

    def _end_key(self, key: tuple[int, int], t: float) -> None:
        """With the lock held: the key is up at time t."""
        start, vel = self.held.pop(key)
        self._held_from.pop(key, None)
        if self.respond:
            self.phrase.append((key[1], vel, start, t - start))

    def _release_held(self, source) -> int:
        """The input (or one TCP connection) is gone: its held keys end now; how many."""
        now = time.time()
        with self._lock:
            keys = [k for k in self.held if source is None or self._held_from.get(k) is source]
            for k in keys:
                self._end_key(k, now)
            if keys:
                self.last_activity = now
        return len(keys)

    def _watch_silence(self) -> None:
        if getattr(self.engine, "rt_priority", 0):
            realtime(1)
        while not self._stop.wait(0.01):
            if not self.respond:
                continue
            with self._lock:
                if not self.phrase or self.held:
                    continue
                quiet = (time.time() - self.last_activity) * self.clock_tempo() / 60.0
                if quiet < self.silence_beats:
                    continue
                phrase = np.asarray(self.phrase, np.float64)
                self.phrase.clear()
            self._answer(phrase)

    def clock_tempo(self) -> float:
        return self.engine.clock.tempo

    def _answer(self, phrase: np.ndarray) -> None:
        """Prime with the phrase (in model seconds) and answer for a number of beats.

        The clip is built on the generator thread, for the model playing when the answer starts
        (a model switch may still be queued now).
        """
        length_beats = (phrase[:, 2] + phrase[:, 3]).max() - phrase[:, 2].min()
        beats = self.answer_beats or max(length_beats * self.clock_tempo() / 60.0, 1.0)

        def answer(engine) -> None:
            x = phrase.copy()
            x[:, 2:] *= engine.clock.tempo / engine.ref_bpm  # wall seconds -> model seconds
            try:
                clip = phrase_to_clip(engine.sampler.codec, x)
            except ValueError as e:
                self.status(f"midi in: cannot answer: {e}")
                return
            engine.command("answer", clip, beats)  # applied in the same pass, right after this

        self.answers += 1
        self.engine.command("call", answer)
        self.status(f"midi in: heard {len(phrase)} notes; answering for {beats:.1f} beats")
