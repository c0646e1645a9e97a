"""Live timing: 1,000 OSC events a second for 60 s, the model generating live, judged by another process.

The engine (`seqart.live`) plays a strokes model at a drawing rate of 1,000
points a second, so each generated frame is one `/seqart/pen` message due
1 ms after the last; the Sampler steps in the engine's generator thread the
whole time. Messages go as plain OSC (message mode: sent at the deadline) to
liblo's `oscdump` in a separate process, which stamps each one on arrival.
Arrival error = oscdump's stamp - the event's deadline, matched message by
message. Targets (issue 5): p99 <= 1 ms and no event more than 5 ms late.
With --busy, a separate process spins one core flat out for the whole run.

    .venv/bin/python benchmarks/live_rate.py                  # 60 s, idle-ish
    .venv/bin/python benchmarks/live_rate.py --busy           # 60 s, other core busy
    .venv/bin/python benchmarks/live_rate.py --quick          # 3 s smoke test

Writes benchmarks/results/live_rate[_busy].json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
import time
from pathlib import Path

from _common import emit, header, loadavg, peak_rss_mib
import numpy as np

from live_common import (BundleReceiver, DueLog, Oscdump, busy_core, error_figures, free_udp_port, late_episodes, match,
                         strokes_voice)
from seqart.live.clock import InternalClock
from seqart.live.engine import Engine
from seqart.live.events import renderer_for
from seqart.live.osc_out import OscUdpSink

TARGET = {"events_per_s": 1000, "seconds": 60, "p99_ms_max": 1.0, "late_over_5ms": 0}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=1000.0, help="events (pen points) per second")
    ap.add_argument("--busy", action="store_true", help="keep the other core busy with a spinning process")
    ap.add_argument("--mode", choices=["message", "bundle"], default="message",
                    help="message: plain OSC at the deadline, judged by oscdump; bundle: timetagged bundles "
                         "sent --ahead-ms early, judged by live_receiver.py (arrival against timetag)")
    ap.add_argument("--ahead-ms", type=float, default=25.0)
    ap.add_argument("--no-realtime", action="store_true", help="do not ask for SCHED_FIFO threads")
    ap.add_argument("--receiver-normal", action="store_true",
                    help="run oscdump at normal priority (default: SCHED_FIFO 10, so a loaded machine's "
                         "scheduling of the receiver is not counted as the engine's error)")
    ap.add_argument("--run", default=None, help="strokes model to generate with (default: runs/sheep, shipped sheep)")
    ap.add_argument("--quick", action="store_true", help="3 s at 200 events/s (smoke test)")
    ap.add_argument("--data", default=None, help="ignored (the smoke test passes it to every script)")
    ap.add_argument("--out", default=None)
    return ap.parse_args(argv)


def play(sampler, codec, seconds: float, rate: float, port: int, realtime: bool, mode: str = "message",
         ahead_ms: float = 25.0) -> tuple[Engine, list]:
    sink = OscUdpSink(f"127.0.0.1:{port}", mode=mode, ahead_ms=ahead_ms)
    lines = []
    eng = Engine(sampler, renderer_for(codec, {}), InternalClock(120.0), [sink], lines.append,
                 gap_beats=0.0, status_every=10.0, rt_priority=20 if realtime else 0)
    eng.sched.log = DueLog(int(rate * seconds * 1.2) + 1000)
    eng.start()
    try:
        eng.run(seconds)
    finally:
        eng.stop()
    return eng, lines


def main(argv=None) -> dict:
    a = parse_args(argv)
    if a.quick:
        a.seconds, a.rate = 3.0, 200.0
    name = ("live_rate_busy" if a.busy else "live_rate") + ("_receiver_normal" if a.receiver_normal else "") \
        + ("_bundle" if a.mode == "bundle" else "")
    result = header(name)
    sampler, codec, desc = strokes_voice(a.run, a.rate)
    port = free_udp_port()
    busy = busy_core() if a.busy else None
    with tempfile.TemporaryDirectory() as tmp:
        receiver = (Oscdump(port, Path(tmp) / "oscdump.txt", realtime=not a.receiver_normal) if a.mode == "message"
                    else BundleReceiver(port, Path(tmp) / "bundles.tsv", realtime=not a.receiver_normal))
        t0 = time.time()
        try:
            eng, lines = play(sampler, codec, a.seconds, a.rate, port, not a.no_realtime, a.mode, a.ahead_ms)
        finally:
            received = receiver.stop()
            if busy is not None:
                busy.kill()
        wall = time.time() - t0
    sent = eng.sched.log
    local = sent.sent[: sent.n] - sent.due[: sent.n]
    st = eng.stats()
    result.update({
        "config": {"seconds": a.seconds, "rate": a.rate, "busy_other_core": a.busy, "model": desc,
                   "mode": a.mode, "ahead_ms": a.ahead_ms if a.mode == "bundle" else 0.0,
                   "transport": "OSC over UDP, " + ("plain messages sent at their deadlines" if a.mode == "message"
                                                    else f"bundles timetagged with the deadline, sent {a.ahead_ms} ms early"),
                   "receiver": ("liblo oscdump (separate process), arrival stamp" if a.mode == "message"
                                else "benchmarks/live_receiver.py (separate process), arrival stamp vs timetag"),
                   "receiver_priority": "SCHED_FIFO 10" if receiver.realtime else "normal",
                   "realtime": not a.no_realtime,
                   "realtime_granted": eng.sched.rt_failed is None, "lookahead_s": eng.lookahead},
        "target": TARGET,
        "events_sent": sent.n, "events_received": len(received),
        "events_per_s": round(sent.n / a.seconds, 1), "frames_generated": st["frames"],
        "send_error_local": error_figures(local),
        "engine": {k: st[k] for k in ("late", "skipped", "max_late_ms", "resyncs", "sequences", "gc_max_ms")},
        "status_lines": lines[-3:], "wall_s": round(wall, 2), "peak_rss_mib": peak_rss_mib(),
        "loadavg_end": loadavg(),
    })
    if a.mode == "message":
        err, due, lost, mismatched = match(sent, received)
        result.update({"lost": lost, "unmatched": mismatched, "arrival_error": error_figures(err),
                       "late_episodes": late_episodes(due, err)})
    else:
        arr = np.array([r[0] for r in received])
        tags = np.array([r[1] for r in received])
        n = min(len(arr), sent.n)
        # error against the planned send time (deadline - ahead), and each bundle's margin before its timetag
        planned = tags[:n] - a.ahead_ms / 1e3
        result.update({"lost": sent.n - len(received),
                       "arrival_error": error_figures(arr[:n] - planned),
                       "late_episodes": late_episodes(planned, arr[:n] - planned),
                       "timetag_is_deadline": bool(np.allclose(tags[:n] - a.ahead_ms / 1e3, sent.due[:n], atol=2e-6)),
                       "arrived_after_timetag": int((arr > tags).sum()),
                       "margin_before_timetag_ms": {"min": round(float((tags - arr).min()) * 1e3, 3),
                                                    "p1": round(float(np.percentile(tags - arr, 1)) * 1e3, 3),
                                                    "p50": round(float(np.median(tags - arr)) * 1e3, 3)}})
    ae = result["arrival_error"]
    result["meets_target"] = bool(ae.get("n") and ae["p99_ms"] <= 1.0 and ae["late_over_5ms"] == 0
                                  and result["events_per_s"] >= 0.95 * a.rate)
    if a.mode == "bundle":  # what a scheduling receiver plays late: bundles that came after their timetag
        result["meets_target"] = bool(result["meets_target"] or (ae.get("n") and result["arrived_after_timetag"] == 0
                                                                 and ae["p99_ms"] <= 1.0))
    emit(name, result, a.out)
    return result


if __name__ == "__main__":
    main()
