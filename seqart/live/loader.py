"""Slow control work (reading a prime file, loading a model or piece) on a thread of its own.

The OSC control thread must answer stop and panic at once, so whatever reads files or
builds models runs here, one job at a time and in the order the messages came. A job that
takes longer than `LOAD_TIMEOUT` seconds is given up: its result is dropped, the jobs behind
it go to a fresh thread, and the old thread is told to stop: its reads are bounded and
cancellable (seqart.limits.cancellable), so it ends at its next chunk or stage instead of
reading on beside the show. (A call that never returns, which the readers do not make, would
leave a daemon thread that dies with the process.)
"""

from __future__ import annotations

import queue
import threading
import time

from seqart import limits
from seqart.errors import SeqartError
from seqart.live.scheduler import normal_priority

LOAD_TIMEOUT = 30.0  # seconds a prime file, model or piece may take to load before it is given up


class _Job:
    def __init__(self, what: str, fn):
        self.what, self.fn, self.started, self.abandoned = what, fn, 0.0, False
        self.cancel = threading.Event()  # set when given up: the job's reads stop (seqart.limits.cancel_check)


class Loader:
    """Runs slow control work one job at a time, in order, off the control thread.

    `fn()` returns a callable that applies the result (queues the engine command); it is
    called only if the job was not given up, under the same lock that gives jobs up, so a
    load that finishes after its timeout changes nothing. A given-up job's thread may stay
    blocked (that is why it was given up); the jobs behind it go to a fresh thread.
    """

    def __init__(self, reject, timeout: float = LOAD_TIMEOUT):
        self.reject, self.timeout = reject, timeout
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.current: _Job | None = None
        self.lock = threading.Lock()
        self.generation = 0
        self.closed = False
        self._start()

    def _start(self) -> None:
        self.generation += 1
        self.thread = threading.Thread(target=self._run, args=(self.generation,), name="seqart-control-load", daemon=True)
        self.thread.start()

    def submit(self, what: str, fn) -> None:
        self.jobs.put(_Job(what, fn))

    def close(self) -> None:
        """Stop taking jobs, and stop the one running (its reads are cancelled)."""
        with self.lock:
            self.closed = True
            if self.current is not None:
                self.current.cancel.set()

    def busy(self) -> bool:
        return self.current is not None or not self.jobs.empty()

    def watch(self) -> None:
        """Give up the running job if it has taken too long (called by the control thread)."""
        with self.lock:
            job = self.current
            if job is None or time.monotonic() - job.started <= self.timeout:
                return
            job.abandoned, self.current = True, None
            job.cancel.set()
            self._start()
        self.reject(job.what, f"gave up after {self.timeout:g} s (still loading); the show goes on")

    def _run(self, generation: int) -> None:
        normal_priority()
        while not self.closed and generation == self.generation:
            try:
                job = self.jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            with self.lock:
                if generation != self.generation:  # given up while waiting: hand the job back
                    self.jobs.put(job)
                    return
                job.started, self.current = time.monotonic(), job
            self._do(job)

    def _do(self, job: _Job) -> None:
        try:
            with limits.cancellable(job.cancel):
                apply = job.fn()
            error = None
        except (ValueError, SeqartError) as e:
            apply, error = None, str(e)
        except Exception as e:  # noqa: BLE001 - a loader's own error, a MemoryError...: reported, nothing else
            apply, error = None, f"{type(e).__name__}: {e}"
        with self.lock:
            if job.abandoned:
                return
            self.current = None
            if apply is not None:
                apply()
        if error is not None:
            self.reject(job.what, error)
