"""Live soak: play for --minutes (an hour by default); memory must stay flat and the clock must not drift.

The engine streams a strokes model at --rate points a second as plain OSC to
liblo's oscdump (a separate process, writing to a file). Every 10 s the
engine process's resident memory is sampled. Afterwards:

* memory: RSS at the first sample after warm-up (1 minute, or 10% of a short
  run) against the last, and the least-squares slope in MiB per hour;
* clock drift, two ways: (1) every pen point's deadline against the ideal grid
  first_deadline + k / rate (the engine's own arithmetic over the whole run),
  and (2) the receiver's arrival error (oscdump stamp - deadline) in the first
  against the last minute (or tenth): if the engine's clock drifted from the
  wall clock, this would move.

Targets (issue 5): memory flat, drift under 1 ms.

    .venv/bin/python benchmarks/live_soak.py                # one hour
    .venv/bin/python benchmarks/live_soak.py --minutes 2    # a short run (say so when reporting it)

Writes benchmarks/results/live_soak.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import gc
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import emit, header, loadavg
from live_common import DueLog, Oscdump, error_figures, free_udp_port, late_episodes, rss_mib, strokes_voice
from seqart.live.clock import InternalClock
from seqart.live.engine import Engine
from seqart.live.events import renderer_for
from seqart.live.osc_out import OscUdpSink

TARGET = {"memory": "flat (slope under 1 MiB/hour after warm-up)", "drift_ms_max": 1.0}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=200.0, help="pen points (OSC messages) per second")
    ap.add_argument("--run", default=None, help="strokes model (default: runs/sheep, shipped sheep)")
    ap.add_argument("--quick", action="store_true", help="about 4 s (smoke test)")
    ap.add_argument("--data", default=None, help="ignored (the smoke test passes it to every script)")
    ap.add_argument("--out", default=None)
    return ap.parse_args(argv)


def grid_drift_ms(log: DueLog, rate: float) -> float:
    """Largest distance (ms) of a pen point's deadline from first + k / rate."""
    due = log.due[: log.n][log.end[: log.n] == 0]
    ideal = due[0] + np.arange(len(due)) / rate
    return float(np.abs(due - ideal).max() * 1e3)


def main(argv=None) -> dict:
    a = parse_args(argv)
    minutes = 0.06 if a.quick else a.minutes
    seconds = minutes * 60.0
    result = header("live_soak")
    sampler, codec, desc = strokes_voice(a.run, a.rate)
    port = free_udp_port()
    log = DueLog(int(a.rate * seconds * 1.2) + 1000)
    rss, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        dump = Oscdump(port, Path(tmp) / "oscdump.txt", realtime=True)
        eng = Engine(sampler, renderer_for(codec, {}), InternalClock(120.0),
                     [OscUdpSink(f"127.0.0.1:{port}", mode="message")], lines.append, gap_beats=0.0,
                     status_every=60.0)
        eng.sched.log = log
        gc.collect()
        eng.start()
        t0 = time.time()
        try:
            while time.time() - t0 < seconds:
                eng.run(min(10.0, seconds - (time.time() - t0)))
                rss.append((time.time() - t0, rss_mib()))
        finally:
            eng.stop()
            received = dump.stop()
    # arrival error per message, matched in order (no loss is expected on loopback; checked)
    n = min(log.n, len(received))
    stamps = np.array([r[0] for r in received[:n]])
    err = stamps - log.due[:n]
    t = log.due[:n] - log.due[0]
    window = max(60.0, seconds / 10) if seconds >= 600 else seconds / 10
    first, last = err[t < window], err[t > t[-1] - window]
    ts, mem = np.array(rss).T
    warm = ts > min(60.0, seconds / 10)
    slope = float(np.polyfit(ts[warm] / 3600.0, mem[warm], 1)[0]) if warm.sum() >= 2 else None
    result.update({
        "config": {"minutes": minutes, "rate": a.rate, "model": desc, "receiver": "liblo oscdump, SCHED_FIFO 10",
                   "short_run": minutes < 60},
        "target": TARGET,
        "events_sent": log.n, "events_received": len(received), "lost": log.n - len(received),
        "memory_mib": {"first_after_warmup": float(mem[warm][0]) if warm.any() else None,
                       "last": float(mem[-1]), "max": float(mem.max()),
                       "slope_mib_per_hour": None if slope is None else round(slope, 3),
                       "samples": [[round(float(x), 1), float(y)] for x, y in zip(ts, mem)]},
        "drift_ms": {"deadlines_vs_ideal_grid_max": round(grid_drift_ms(log, a.rate), 6),
                     "arrival_error_median_first_window": round(float(np.median(first)) * 1e3, 4),
                     "arrival_error_median_last_window": round(float(np.median(last)) * 1e3, 4),
                     "arrival_drift": round(float(np.median(last) - np.median(first)) * 1e3, 4),
                     "window_s": round(window, 1)},
        "arrival_error": error_figures(err),
        "late_episodes": late_episodes(log.due[:n], err),
        "engine": eng.stats(), "loadavg_end": loadavg(),
    })
    emit("live_soak", result, a.out)
    return result


if __name__ == "__main__":
    main()
