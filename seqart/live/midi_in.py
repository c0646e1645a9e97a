"""MIDI input: an external clock to follow, and a player to answer (call and response).

Call and response (as Magenta's MIDI interface does it): the listener collects
the notes a player plays; once no key is held and nothing has been played for
`silence_beats` beats, the phrase primes the model and the engine answers for
`answer_beats` beats (0: as long as the call), then listens again. A note
played while the engine answers interrupts it.

Ports: an rtmidi input (`NAME`, `virtual:NAME`, JACK or ALSA; messages
arrive on rtmidi's callback thread) or `tcp:HOST:PORT`, a mido.sockets server.
mido 1.3.3's PortServer never returns from receive()/poll()/iter_pending(),
so this takes each connection with accept() and reads that SocketPort.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from seqart.live.midi_out import open_port
from seqart.live.phrase import phrase_to_clip
from seqart.live.scheduler import realtime

CLOCK_TYPES = {"clock", "start", "stop", "continue", "songpos"}


class MidiListener:
    def __init__(self, engine, spec: str, api: str = "auto", clock=None, respond: bool = False,
                 silence_beats: float = 2.0, answer_beats: float = 0.0, status=lambda line: None):
        self.engine, self.spec, self.clock, self.status = engine, spec, clock, status
        self.respond, self.silence_beats, self.answer_beats = respond, float(silence_beats), float(answer_beats)
        self.held: dict[tuple[int, int], tuple[float, int]] = {}  # (channel, pitch) -> (start, velocity)
        self.phrase: list[tuple[int, int, float, float]] = []  # (pitch, velocity, start, duration)
        self.last_activity = 0.0
        self.received = 0
        self.answers = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.port = open_port(spec, api, output=False)
        self._conns: list = []
        self._rt_done = False
        if spec.startswith("tcp:"):
            threading.Thread(target=self._poll_tcp, name="seqart-midi-in", daemon=True).start()
        else:
            self.port.callback = self._on_message
        self._watch = threading.Thread(target=self._watch_silence, name="seqart-listen", daemon=True)
        self._watch.start()
        if respond:
            engine.respond = True

    def close(self) -> None:
        self._stop.set()
        for c in self._conns:
            c.close()
        try:
            self.port.close()
        except Exception:  # noqa: BLE001 - closing a server with a dead connection can fail; it is gone
            pass

    def _on_message(self, msg) -> None:
        """rtmidi's callback thread (C): made real-time on its first message, like the engine's threads."""
        t = time.time()
        if not self._rt_done:
            self._rt_done = True
            if getattr(self.engine, "rt_priority", 0):
                realtime(1)
        self.feed(msg, t)

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
                        self.feed(msg, time.time())
                except OSError:
                    self._conns.remove(c)
                if c.closed:
                    self._conns.remove(c)
            time.sleep(0.001)

    def feed(self, msg, t: float) -> None:
        """One incoming mido message, received at wall time t."""
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
            elif key in self.held:
                start, vel = self.held.pop(key)
                self.phrase.append((msg.note, vel, start, t - start))

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
                phrase, self.phrase = np.asarray(self.phrase, np.float64), []
            self._answer(phrase)

    def clock_tempo(self) -> float:
        return self.engine.clock.tempo

    def _answer(self, phrase: np.ndarray) -> None:
        """Prime with the phrase (in model seconds) and answer for a number of beats."""
        scale = self.clock_tempo() / self.engine.ref_bpm  # wall seconds -> model seconds
        x = phrase.copy()
        x[:, 2:] *= scale
        length_beats = (phrase[:, 2] + phrase[:, 3]).max() - phrase[:, 2].min()
        beats = self.answer_beats or max(length_beats * self.clock_tempo() / 60.0, 1.0)
        try:
            clip = phrase_to_clip(self.engine.sampler.codec, x)
        except ValueError as e:
            self.status(f"midi in: cannot answer: {e}")
            return
        self.answers += 1
        self.engine.command("answer", clip, beats)
        self.status(f"midi in: heard {len(phrase)} notes; answering for {beats:.1f} beats")
