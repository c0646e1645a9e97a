"""Clocks: map musical time (beats, float) to wall-clock time (seconds, `time.time()`).

The engine places every event on a beat; a clock says when that beat happens.
Wall time is `time.time()` because OSC timetags and receivers in other
processes use it too. Each clock keeps an anchor `(t0, b0)` and a tempo and
computes `t = t0 + (beat - b0) * 60 / bpm`, so nothing accumulates and the
clock cannot drift against itself; a tempo change re-anchors at "now".

* `InternalClock`: tempo in BPM, start/stop/continue, beats and bars.
* `MidiClock`: follows an external MIDI clock (24 ticks per quarter note,
  start/stop/continue, song position). Its tempo and phase come from a
  least-squares line through the last `window` tick times, which smooths the
  jitter of ticks that arrive over a network or a JACK period.
* `LinkClock`: Ableton Link through `aalink` (PyPI, GPL-3). `LinkPython`
  does not build on Python 3.11 here (no wheel, the sdist fails), so aalink is
  the one binding; without it, `LinkClock` raises a SeqartError saying so.

A stopped clock returns `None` from `time_of`: nothing is due while stopped.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

import numpy as np

from seqart.errors import SeqartError

PPQN = 24  # MIDI clock ticks per quarter note (one beat)


class InternalClock:
    def __init__(self, bpm: float = 120.0, beats_per_bar: int = 4, now=time.time):
        self.now = now
        self.beats_per_bar = int(beats_per_bar)
        # Re-entrant: stop() and set_tempo() read the beat under it. Readers take it too, so a
        # deadline is never computed from one anchor's t0 and another's b0.
        self._lock = threading.RLock()
        self._bpm = check_bpm(bpm)
        self._t0, self._b0, self.running = self.now(), 0.0, False

    @property
    def tempo(self) -> float:
        return self._bpm

    def beat_at(self, t: float) -> float:
        with self._lock:
            if not self.running:
                return self._b0
            return self._b0 + (t - self._t0) * self._bpm / 60.0

    def time_of(self, beat: float) -> float | None:
        with self._lock:
            return self._t0 + (beat - self._b0) * 60.0 / self._bpm if self.running else None

    def start(self, beat: float = 0.0, at: float | None = None) -> None:
        """Run from `beat` at wall time `at` (default now)."""
        with self._lock:
            self._t0, self._b0, self.running = self.now() if at is None else at, float(beat), True

    def stop(self) -> None:
        with self._lock:
            self._b0 = self.beat_at(self.now())
            self.running = False

    def resume(self) -> None:
        """Continue from where stop() froze the beat."""
        with self._lock:
            if not self.running:
                self._t0, self.running = self.now(), True

    def set_tempo(self, bpm: float) -> None:
        bpm = check_bpm(bpm)
        with self._lock:
            now = self.now()
            self._b0, self._t0 = self.beat_at(now), now
            self._bpm = bpm

    def bar_beat(self, beat: float) -> tuple[int, float]:
        """(bar, beat within the bar), both counted from 0."""
        bar, within = divmod(beat, self.beats_per_bar)
        return int(bar), within

    def describe(self) -> str:
        return f"{self._bpm:.1f} bpm" + ("" if self.running else " stopped")


def check_bpm(bpm) -> float:
    bpm = float(bpm)
    if not 1.0 <= bpm <= 999.0 or bpm != bpm:
        raise SeqartError(f"tempo must be between 1 and 999 BPM, not {bpm}")
    return bpm


class MidiClock(InternalClock):
    """Follows MIDI realtime messages fed to `feed(message_type, t)` (mido type names)."""

    follows = "MIDI clock"  # tempo and transport come from outside: /tempo, /start and /stop do not apply

    def __init__(self, bpm: float = 120.0, beats_per_bar: int = 4, window: int = 48, now=time.time):
        super().__init__(bpm, beats_per_bar, now)
        self.ticks = 0  # ticks since start (or since the song position)
        self._advance = False  # after a stop, the first tick on continue is the next tick, not the last
        self._times: deque[tuple[int, float]] = deque(maxlen=window)  # (tick index, arrival time)
        self._armed = False  # after start/continue, the next tick is the downbeat

    def feed(self, kind: str, t: float | None = None, pos: int | None = None) -> None:
        t = self.now() if t is None else t
        with self._lock:
            if kind == "start":
                self.ticks, self._armed, self.running, self._advance = 0, True, False, False
                self._times.clear()
            elif kind == "continue":
                self._armed, self.running = True, False
                self._times.clear()
            elif kind == "stop":
                self.running = False
                self._b0 = self.ticks / PPQN
                self._advance = True
            elif kind == "songpos" and pos is not None:  # pos in 16th notes = 6 ticks: where the next tick is
                self.ticks, self._advance = 6 * int(pos), False
                self._times.clear()
                self._b0 = self.ticks / PPQN
            elif kind == "clock":
                self._tick(t)

    def _tick(self, t: float) -> None:
        if self._armed:  # the first tick after start/continue is where the beat count begins
            if self._advance:  # continuing after a stop: this tick follows the last one played
                self.ticks += 1
            self._armed, self.running, self._advance = False, True, False
            self._times.append((self.ticks, t))
            self._t0, self._b0 = t, self.ticks / PPQN
            return
        if not self.running:
            return
        self.ticks += 1
        self._times.append((self.ticks, t))
        if len(self._times) >= 3:
            idx, ts = np.array(self._times, np.float64).T
            period, intercept = np.polyfit(idx - idx[-1], ts - ts[-1], 1)  # seconds per tick
            if period > 0:
                self._bpm = min(max(60.0 / (PPQN * period), 1.0), 999.0)
                self._t0, self._b0 = ts[-1] + intercept, self.ticks / PPQN

    def set_tempo(self, bpm: float) -> None:
        check_bpm(bpm)  # the master sets the tempo; a request here is ignored

    def start(self, beat: float = 0.0, at: float | None = None) -> None:
        pass  # the master starts and stops

    def stop(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self._bpm:.1f} bpm (MIDI clock)" + ("" if self.running else " waiting")


class LinkClock:
    """Ableton Link session clock (aalink). Beats are the session's beats."""

    def __init__(self, bpm: float = 120.0, beats_per_bar: int = 4, now=time.time):
        try:
            import aalink
        except ImportError:
            raise SeqartError("clock = \"link\" needs the aalink package (pip install aalink); "
                              "LinkPython has no build for this Python") from None
        self.now, self.beats_per_bar = now, int(beats_per_bar)
        self._loop = asyncio.new_event_loop()  # aalink posts its callbacks to an asyncio loop
        threading.Thread(target=self._loop.run_forever, name="seqart-link", daemon=True).start()

        async def make():
            link = aalink.Link(check_bpm(bpm))
            link.enabled = True
            return link

        self.link = asyncio.run_coroutine_threadsafe(make(), self._loop).result(5)
        self.running = True

    @property
    def tempo(self) -> float:
        return float(self.link.tempo)

    def beat_at(self, t: float) -> float:
        return float(self.link.beat) + (t - self.now()) * self.tempo / 60.0

    def time_of(self, beat: float) -> float | None:
        if not self.running:
            return None
        return self.now() + (beat - float(self.link.beat)) * 60.0 / self.tempo

    def start(self, beat: float = 0.0, at: float | None = None) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def resume(self) -> None:
        self.running = True

    def set_tempo(self, bpm: float) -> None:
        self.link.tempo = check_bpm(bpm)

    def bar_beat(self, beat: float) -> tuple[int, float]:
        bar, within = divmod(beat, self.beats_per_bar)
        return int(bar), within

    def describe(self) -> str:
        return f"{self.tempo:.1f} bpm (Link, {self.link.num_peers} peers)"

    def close(self) -> None:
        self.link.enabled = False
        self._loop.call_soon_threadsafe(self._loop.stop)


def make_clock(kind: str, bpm: float, beats_per_bar: int = 4):
    if kind == "internal":
        return InternalClock(bpm, beats_per_bar)
    if kind == "midi":
        return MidiClock(bpm, beats_per_bar)
    if kind == "link":
        return LinkClock(bpm, beats_per_bar)
    raise SeqartError(f"clock must be internal, midi or link, not {kind!r}")
