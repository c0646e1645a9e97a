"""The sending loop: takes beat-stamped events from the lookahead queue and sends them on time.

It never touches the model. The generator thread appends `Event`s (in beat
order) to `queue`; this loop converts a beat to wall time with the clock only
when the event is about to leave (so tempo changes apply to everything still
queued), fans it out to every sink at `deadline + sink.latency - sink.ahead`,
and schedules each MIDI note's note-off from the note's duration.

Waiting: sleep until 0.5 ms before the next send time (in slices of at most
2 ms, so new events are seen), then spin. With Python threads, the process
should also lower the GIL switch interval (the engine sets 0.1 ms) so that
the generator thread hands the interpreter back quickly.

Threads: the generator appends to `queue`; `flush`/`panic` (generator,
control or supervisor thread) clear it while this loop takes from it. Taking
and clearing happen under one lock, and a flush bumps `epoch`, so an event
taken just before a flush is dropped rather than sent after it.
"""

from __future__ import annotations

import heapq
import os
import itertools
import threading
import time
from collections import deque

from seqart.live.events import Event
from seqart.live.sinks import Sink

SPIN = 0.0005  # seconds spun before a deadline instead of sleeping (> the GIL switch interval)
SPIN_RT = 0.0002  # the same for a SCHED_FIFO thread
SLICE = 0.002  # longest single sleep, so newly queued events are noticed
LATE = 0.002  # counted as late when sent this long after its time
STALE = 0.25  # an event this late is skipped (counted), never sent; note-offs always go


def realtime(priority: int) -> str | None:
    """Give the calling thread SCHED_FIFO `priority` (Linux); None if done, else why not.

    Under load a normal thread can wait a whole time slice (several ms) for a
    core; a real-time one preempts ordinary work. Linux schedules threads, so
    only the calling thread changes.
    """
    if priority <= 0 or not hasattr(os, "SCHED_FIFO"):
        return "off"
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return None
    except (OSError, PermissionError) as e:
        return e.strerror or type(e).__name__


def normal_priority() -> None:
    """This thread to the ordinary time-sharing policy (it may inherit SCHED_FIFO from its creator)."""
    if hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError:
            pass


def sleep_until(t: float, now=time.time, spin: float = SPIN) -> None:
    while True:
        d = t - now()
        if d <= 0:
            return
        if d > spin:
            time.sleep(min(d - spin, SLICE))


class Scheduler:
    def __init__(self, clock, sinks: list[Sink], now=time.time, rt_priority: int = 0):
        self.clock, self.sinks, self.now, self.rt_priority = clock, list(sinks), now, rt_priority
        self.rt_failed: str | None = None  # why real-time scheduling was not granted
        self.queue: deque[Event] = deque()  # filled by the generator, beat order
        self._heap: list[tuple] = []  # (send_at, seq, kind, sink, payload, when)
        self._seq = itertools.count()
        self._lock = threading.Lock()  # heap and queue-taking: sending thread vs flush/panic from others
        self.epoch = 0  # bumped by every flush and panic
        self.ahead = max([s.ahead for s in self.sinks] + [0.0])
        self.sent = self.late = self.skipped = 0
        self.max_late = 0.0  # seconds, worst send time minus due time
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.log: list | None = None  # set to a list to record (due, sent_at, address, args) (benchmarks)

    # --- running --------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="seqart-send", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the sending loop to end after the send in hand (returns at once)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def _run(self) -> None:
        self.rt_failed = realtime(self.rt_priority)
        # A real-time thread wakes within ~0.1 ms, so it can spin less (spinning costs a core at 1 kHz).
        spin = SPIN_RT if self.rt_failed is None else SPIN
        try:
            while not self._stop.is_set():
                now = self.now()
                with self._lock:
                    due = self._heap[0][0] if self._heap else None
                    item = heapq.heappop(self._heap) if due is not None and due <= now else None
                if item is not None:  # what is due goes first; admitting (and encoding) waits
                    self._dispatch(item, now)
                    continue
                self._admit(now)
                with self._lock:
                    due = self._heap[0][0] if self._heap else None
                sleep_until(min(due, now + SLICE) if due is not None else now + SLICE, self.now, spin)
        except BaseException as e:  # noqa: BLE001 - reported by the engine, which then panics
            self.error = e

    def _admit(self, now: float) -> None:
        """Move queued events whose first send time is near into the heap."""
        q = self.queue
        while True:
            with self._lock:  # a flush from another thread cannot empty the queue between peek and pop
                if not q:
                    return
                ev, epoch = q[0], self.epoch
                deadline = self.clock.time_of(ev.beat)
                if deadline is None or deadline - self.ahead - 0.005 > now:
                    return
                q.popleft()
            if ev.note is not None:  # OSC carries the duration in seconds at the current tempo
                off = self.clock.time_of(ev.beat + ev.note[2])
                ev.args = ev.args[:2] + (max(off - deadline, 0.0),) + ev.args[3:] if off else ev.args
            items = []
            for sink in self.sinks:
                when = deadline + sink.latency
                items.append((when - sink.ahead, next(self._seq), "ev", sink, (ev, sink.prepare(ev, when)), when))
            with self._lock:
                if self.epoch != epoch:  # flushed while this event was being prepared: it must not play
                    continue
                for item in items:
                    heapq.heappush(self._heap, item)

    def _dispatch(self, item: tuple, now: float) -> None:
        send_at, _, kind, sink, payload, when = item
        if kind == "off":
            sink.note_off(payload, when)
            return
        lateness = now - send_at
        if lateness > STALE:
            self.skipped += 1
            return
        payload, prepared = payload
        key = sink.send(payload, when, prepared)
        self.sent += 1
        if self.log is not None:
            self.log.append((send_at, self.now(), payload.address, payload.args))
        if lateness > LATE:
            self.late += 1
        self.max_late = max(self.max_late, lateness)
        if key is not None and payload.note is not None:
            off = self.clock.time_of(payload.beat + payload.note[2])
            off = (off if off is not None else now + 0.25) + sink.latency
            with self._lock:
                heapq.heappush(self._heap, (off, next(self._seq), "off", sink, key, off))

    # --- control ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Forget queued events that have not been sent (note-offs of sent notes stay)."""
        with self._lock:
            self.queue.clear()
            self.epoch += 1
            self._heap = [h for h in self._heap if h[2] == "off"]
            heapq.heapify(self._heap)

    def panic(self) -> list[str]:
        """End every sounding note now (all-notes-off too) and drop everything pending.

        Returns one line per sink that failed; a failing sink does not spare the others their note-offs.
        """
        return self._end_notes("panic")

    def release(self) -> list[str]:
        """Like panic, but each sink ends only the notes it started (no all-notes-off to the channel):
        the player's own notes on a shared synth keep sounding. Used when a player takes over."""
        return self._end_notes("release")

    def _end_notes(self, how: str) -> list[str]:
        with self._lock:
            self.queue.clear()
            self.epoch += 1
            self._heap.clear()
        failed = []
        for sink in self.sinks:
            try:
                getattr(sink, how)()
            except Exception as e:  # noqa: BLE001 - the other sinks must still end their notes
                failed.append(f"{sink.name}: {how} failed ({type(e).__name__}: {e})")
        return failed

    def pending(self) -> int:
        return len(self.queue) + len(self._heap)
