"""The live engine: a generator thread pulls frames from the Sampler ahead of time.

Threads (the sending one never waits on the model):
* generator: steps the shared `Sampler` until events reach `lookahead`
  seconds beyond the send lead (`lead`: the earliest an event can still be
  sent on time, the largest OSC `ahead` plus 20 ms), applies control
  commands between steps (a failing one is reported and the model reset);
  a text-conditioned model waits for text (`write`): each text is written
  once, in the order it came, then the engine waits for the next;
* sender (`Scheduler`): sends each event at its deadline;
* supervisor (`run`): once a second checks the sinks (reconnects, reports in
  one line) and calls `status` with the one-line state.

Time: a frame advances time by `codec.frame_seconds(frame)` model seconds,
which become beats at the piece's reference tempo `ref_bpm`; the clock maps
beats to wall time at its current tempo. If the generator ever falls behind
the clock (a stall, a big tempo rise), it places the next event `lead`
seconds from now and counts a resync, keeping what is queued; if the clock
jumps back (an external MIDI start or song position), it also drops what is
queued, which would otherwise wait for the old timeline.
"""

from __future__ import annotations

import collections
import gc
import os
import queue
import sys
import threading
import time

from seqart.errors import SeqartError
from seqart.live.scheduler import Scheduler, realtime

MAX_ZERO_RUN = 16  # frames in a row that do not advance time (a chord) before forcing a step
ZERO_RUN_STEP = 0.05  # model seconds then added


class Engine:
    def __init__(self, sampler, renderer, clock, sinks, status=lambda line: None, lookahead: float = 0.15,
                 ref_bpm: float = 120.0, on_end: str = "reset", gap_beats: float = 1.0, status_every: float = 1.0,
                 name: str = "", rt_priority: int = 20):
        if on_end not in ("reset", "stop"):
            raise SeqartError(f"on_end must be reset or stop, not {on_end!r}")
        if not 0.0 < float(lookahead) <= 10.0:
            raise SeqartError(f"lookahead must be in (0, 10] seconds, not {lookahead}")
        self.sampler, self.renderer, self.clock = sampler, renderer, clock
        self.sched = Scheduler(clock, sinks, rt_priority=rt_priority)
        self.rt_priority = rt_priority
        self.status, self.lookahead, self.ref_bpm = status, float(lookahead), float(ref_bpm)
        self.on_end, self.gap_beats, self.status_every, self.name = on_end, float(gap_beats), status_every, name
        self.lead = self.sched.ahead + 0.02  # seconds: earliest a new event can be placed after now
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.cursor = 0.0  # beat of the last generated frame
        self.playing = True
        self.respond = False  # call and response: generate only while answering
        self.answer_until: float | None = None  # beat where the current answer stops
        self.texts: collections.deque[str] = collections.deque()  # texts to write after the current one
        self.frames = self.resyncs = self.sequences = 0
        self.error: BaseException | None = None
        self._zero_run = 0
        self._failures = 0  # sampling failures in a row
        self._last_beat: float | None = None  # the clock's beat when last looked at (jump detection)
        self._stop = threading.Event()
        self._gen: threading.Thread | None = None
        self._t_start = 0.0
        self.gc_max = 0.0  # seconds

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(0.0001)  # the sender gets the interpreter back well within its spin
        # Everything loaded so far (torch, the model) moves out of the collector's sight: a full
        # collection over it holds the interpreter for tens of ms, which the sender would wait for.
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._gc_timer)
        now = time.time()
        if getattr(self.clock, "_b0", None) is not None and not self.clock.running:
            self.clock.start(0.0, at=now)
        self.cursor = self.clock.beat_at(now) + self.lead * self.clock.tempo / 60.0
        self._t_start = now
        self.sched.start()
        self._gen = threading.Thread(target=self._gen_loop, name="seqart-generate", daemon=True)
        self._gen.start()
        time.sleep(0.01)
        if self.sched.rt_failed not in (None, "off"):
            self.status(f"real-time scheduling not granted ({self.sched.rt_failed}); timing may suffer under load")

    def stop(self) -> None:
        """End every sounding note, then stop the threads (also after an error).

        Notes end first, before any waiting: joining the threads can take a
        moment, and a second Ctrl-C then must not leave notes hanging. A second
        panic after the joins ends anything the sender started meanwhile.
        """
        self._stop.set()
        self.sched.request_stop()
        failed = self.sched.panic()
        if self._gen is not None:
            self._gen.join(2.0)
        self.sched.stop()
        failed = self.sched.panic() or failed
        for line in failed:
            self.status(line)
        for s in self.sched.sinks:
            try:
                s.close()
            except Exception as e:  # noqa: BLE001 - closing one output must not skip the others
                self.status(f"{s.name}: close failed ({type(e).__name__}: {e})")
        sys.setswitchinterval(getattr(self, "_switch", 0.005))
        if self._gc_timer in gc.callbacks:
            gc.callbacks.remove(self._gc_timer)
        gc.unfreeze()

    def _gc_timer(self, phase: str, info: dict) -> None:
        """Longest pause of the cycle collector during the performance (stats: gc_max_ms)."""
        if phase == "start":
            self._gc_t = time.perf_counter()
        elif getattr(self, "_gc_t", None) is not None:
            self.gc_max = max(self.gc_max, time.perf_counter() - self._gc_t)

    def run(self, duration: float | None = None) -> None:
        """Supervise until `duration` seconds pass (None: forever), a thread fails, or Ctrl-C."""
        end = None if duration is None else time.time() + duration
        next_status = time.time() + self.status_every
        # This thread takes the interpreter lock ten times a second; if the OS preempted it while it
        # held the lock, the sender would wait a whole time slice. Real-time (lowest) while it runs.
        policy = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else None
        if self.rt_priority:
            realtime(1)
        try:
            self._supervise(end, next_status)
        finally:
            if policy is not None and self.rt_priority:
                try:
                    os.sched_setscheduler(0, policy, os.sched_param(0))
                except OSError:
                    pass

    def _supervise(self, end: float | None, next_status: float) -> None:
        while end is None or time.time() < end:
            time.sleep(min(0.1, max(0.0, (end or 1e18) - time.time())))
            failed = self.error or self.sched.error
            if failed is not None:
                self.status(f"live engine failed: {type(failed).__name__}: {failed}; all notes off")
                raise failed
            if time.time() >= next_status:
                next_status += self.status_every
                self._check_sinks()
                self.status(self.status_line())

    def _check_sinks(self) -> None:
        for s in self.sched.sinks:
            line = s.check()
            if line:
                self.status(line)

    def command(self, name: str, *args) -> None:
        """Queue a control command; the generator applies it between steps."""
        self.commands.put((name, args))

    # --- state --------------------------------------------------------------------------------
    def stats(self) -> dict:
        s = self.sched
        return {"frames": self.frames, "sent": s.sent, "late": s.late, "skipped": s.skipped,
                "max_late_ms": round(s.max_late * 1e3, 3), "resyncs": self.resyncs,
                "sequences": self.sequences, "dropped": sum(k.dropped for k in s.sinks),
                "gc_max_ms": round(self.gc_max * 1e3, 3),
                "tempo": self.clock.tempo, "temperature": self.sampler.temperature}

    def status_line(self) -> str:
        st = self.stats()
        bar, beat = self.clock.bar_beat(self.clock.beat_at(time.time()))
        state = "answering" if self.answer_until is not None else "listening" if self.respond else \
            "playing" if self.playing else "stopped"
        return (f"{time.time() - self._t_start:7.1f}s {state} | {self.clock.describe()} | bar {bar + 1} beat "
                f"{beat + 1:.1f} | sent {st['sent']} | late {st['late']} | dropped {st['dropped']} | "
                f"temp {st['temperature']:.2f}" + (f" | {self.name}" if self.name else ""))

    # --- generator thread ----------------------------------------------------------------------
    def _gen_loop(self) -> None:
        # Real-time too (below the sender): a thread that holds the interpreter lock must not be
        # preempted by other programs, or the sender waits for it.
        realtime(self.rt_priority // 2)
        try:
            while not self._stop.is_set():
                self._apply_commands()
                if not self._want_frame():
                    self._stop.wait(0.002)
                    continue
                self._generate_one()
        except BaseException as e:  # noqa: BLE001 - the supervisor reports it and stops
            self.error = e

    def _bps(self) -> float:
        return self.clock.tempo / 60.0

    def _want_frame(self) -> bool:
        """Whether to generate now: frames are wanted until `lookahead` seconds beyond the send lead."""
        if not self.playing or (self.respond and self.answer_until is None) or getattr(self.sampler, "waiting", False):
            return False
        now_beat = self.clock.beat_at(time.time())
        bps = self._bps()
        earliest = now_beat + self.lead * bps
        if self._last_beat is not None and now_beat < self._last_beat - self.lead * bps:
            # The clock jumped back (MIDI start, song position, Link): what is queued lies far ahead.
            self.resyncs += 1
            self.sched.flush()
            self.cursor = earliest
        elif self.cursor < earliest - 1e-9:
            # Fell behind (a stall, or a big tempo rise): place new frames from now on. What is
            # queued stays: it is still on time, or the sender skips it as stale.
            self.resyncs += bool(self.frames)
            self.cursor = earliest
        self._last_beat = now_beat
        return self.cursor < earliest + self.lookahead * bps

    def _generate_one(self) -> None:
        ref_bps = self.ref_bpm / 60.0  # beats per model second
        try:
            frame = self.sampler.step()
        except ValueError as e:  # e.g. NaN probabilities from a poisoned state: start afresh, keep playing
            self._failures += 1
            if self._failures in (1, 10) or self._failures % 100 == 0:  # a model that always fails: say so, not flood
                self.status(f"generation failed ({e}); model state reset" +
                            (f" ({self._failures} times in a row)" if self._failures > 1 else ""))
            self.sampler.reset()
            self.renderer.reset()
            self._stop.wait(min(0.001 * self._failures, 0.5))  # back off instead of spinning at real-time priority
            return
        self._failures = 0
        self.frames += 1
        if frame is None:
            self.sched.queue.extend(self.renderer.end(self.cursor))
            self.sequences += 1
            if getattr(self.sampler, "text", None) is not None:  # a text written: the next one, or wait for one
                self._next_text()
                self.cursor += self.gap_beats
                return
            if self.respond or self.on_end == "stop":
                self.answer_until = None
                self.playing = self.respond
                return
            self.sampler.reset()
            self.renderer.reset()
            self.cursor += self.gap_beats
            return
        step = self.renderer.seconds(frame)
        self._zero_run = self._zero_run + 1 if step == 0 else 0
        if self._zero_run > MAX_ZERO_RUN:
            step, self._zero_run = ZERO_RUN_STEP, 0
        self.cursor += step * ref_bps
        self.sched.queue.extend(self.renderer.events(frame, self.cursor, ref_bps))
        if self.answer_until is not None and self.cursor >= self.answer_until:
            self.answer_until = None

    def _restart_here(self, renderer: bool = True) -> None:
        """Drop what is queued and place the next event `lead` from now (renderer: forget its state too)."""
        self.sched.flush()
        self.cursor = self.clock.beat_at(time.time()) + self.lead * self._bps()
        self._last_beat = None
        if renderer:
            self.renderer.reset()

    def _apply_commands(self) -> None:
        while True:
            try:
                name, args = self.commands.get_nowait()
            except queue.Empty:
                return
            try:
                getattr(self, f"_cmd_{name}")(*args)
            except Exception as e:  # noqa: BLE001 - a bad command is reported, the performance goes on
                self.status(f"control {name}: failed ({type(e).__name__}: {str(e)[:200]}); model state reset")
                self.sampler.reset()
                self._restart_here()

    # --- commands (run on the generator thread) -------------------------------------------------
    def _cmd_temperature(self, t: float) -> None:
        self.sampler.set_temperature(t)

    def _cmd_tempo(self, bpm: float) -> None:
        if getattr(self.clock, "follows", None):
            self.status(f"tempo {bpm:g}: ignored, the tempo follows the {self.clock.follows}")
            return
        self.clock.set_tempo(bpm)

    def _cmd_stop(self) -> None:
        self.playing = False
        self.clock.stop()
        self.sched.flush()
        self.sched.panic()

    def _cmd_start(self) -> None:
        """Play on from where it stopped; after the model ended a sequence, begin a new one."""
        self.playing = True
        self.clock.resume()
        fresh = bool(self.sampler.done)
        if fresh:
            self.sampler.reset()
        self._restart_here(renderer=fresh)

    def _cmd_monitor(self, host: str, port: int) -> None:
        """Send a copy of every OSC event to host:port (seqart studio's Perform page); port 0 ends it.

        The copy is a timetagged bundle that leaves with the show's own (the same `ahead`), queued
        after it, so the show's outputs go first; only one monitor at a time."""
        from seqart.live.osc_out import OscUdpSink

        old = [s for s in self.sched.sinks if getattr(s, "monitor", False)]
        sinks = [s for s in self.sched.sinks if s not in old]
        if port:
            sink = OscUdpSink(f"{host}:{port}", "bundle", self.sched.ahead * 1000.0, 0.0, self.renderer.prefix)
            sink.monitor = True
            sinks.append(sink)
        self.sched.sinks = sinks  # one reference swap: the sending thread sees the old list or the new
        for s in old:
            s.close()
        self.status(f"control: monitor {'to ' + host + ':' + str(port) if port else 'off'}")

    def _cmd_reset(self) -> None:
        self.sampler.reset()
        self._restart_here()

    def _cmd_prime(self, clip) -> None:
        self.sampler.reset()
        self.sampler.prime(clip)
        self._restart_here()

    def _cmd_answer(self, clip, beats: float) -> None:
        """Call and response: continue the player's phrase for `beats` beats, then listen again."""
        self._cmd_prime(clip)
        self.answer_until = self.cursor + float(beats)
        self.playing = True

    def _cmd_listen(self) -> None:
        """Stop answering now (the player plays again); sounding notes end."""
        self.answer_until = None
        for line in self.sched.release():  # our notes only: the player's own keep sounding
            self.status(line)

    def _cmd_swap(self, sampler, renderer, name: str = "", keep_temperature: bool = True,
                  ref_bpm: float | None = None) -> None:
        """A new model (or piece): keep time, end nothing that sounds, continue from now.

        ref_bpm: the new model's reference tempo (its seconds play as written at that tempo).
        """
        old = self.sampler
        self.sampler, self.renderer = sampler, renderer  # first: the control server watches for this
        if keep_temperature:
            sampler.set_temperature(old.temperature)
        self.name = name or self.name
        if ref_bpm:
            self.ref_bpm = float(ref_bpm)
        self._restart_here()

    def _cmd_write(self, text: str) -> None:
        """Write `text` (a text-conditioned model) now if idle, else after what is queued before it."""
        self.texts.append(text)
        if self.sampler.waiting or self.sampler.done:
            self._next_text()
            # from now on, after what is still queued to send (the last line's end stays in the queue)
            self.cursor = max(self.cursor, self.clock.beat_at(time.time()) + self.lead * self._bps())

    def _next_text(self) -> None:
        """Start the next queued text; with none left, the sampler waits (no text) until `write`."""
        if self.texts:
            self.sampler.set_text(self.texts.popleft())
        else:
            self.sampler.clear_text()

    def _cmd_call(self, fn) -> None:
        fn(self)
