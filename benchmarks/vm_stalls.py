"""VM stalls: does this machine stop a thread that only sleeps, and is the hypervisor the cause?

A thread with no work sleeps to a deadline every --period-ms (1 ms) for
--seconds and records how late it woke (its "overshoot"). Whatever stalls it
(the hypervisor taking the vCPU, the kernel, another process) stalls the live
engine's sender too; it has no Python work beside it, so a stall here is not
the engine's doing. With --realtime it asks for SCHED_FIFO (20 by default, as the engine's sender).

Every wake-up also reads the guest's steal time (`/proc/stat`, per vCPU, in
USER_HZ ticks of 10 ms): time the hypervisor ran something else while this VM
had work to do. Each stall (overshoot > --stall-ms) is reported with the steal
accrued across it, on every vCPU, so a stall of 100 ms that comes with about
10 ticks of steal is the hypervisor's.

    .venv/bin/python benchmarks/vm_stalls.py --seconds 3600 --realtime
    .venv/bin/python benchmarks/vm_stalls.py --quick

Writes benchmarks/results/vm_stalls.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import gc
import os
import time

import numpy as np

from _common import emit, header, loadavg

USER_HZ = os.sysconf("SC_CLK_TCK")


def steal_ticks() -> list[int]:
    """Steal ticks per vCPU (the 8th value of each `cpuN` line of /proc/stat)."""
    with open("/proc/stat") as f:
        return [int(line.split()[8]) for line in f if line.startswith("cpu") and line[3].isdigit()]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--period-ms", type=float, default=1.0)
    ap.add_argument("--stall-ms", type=float, default=5.0, help="an overshoot above this is a stall")
    ap.add_argument("--realtime", action="store_true", help="SCHED_FIFO (--priority), as the engine's sender asks for")
    ap.add_argument("--priority", type=int, default=20,
                    help="SCHED_FIFO priority with --realtime (20: the sender's; lower it to run beside a live benchmark)")
    ap.add_argument("--quick", action="store_true", help="3 s (smoke test)")
    ap.add_argument("--data", default=None, help="ignored (the smoke test passes it to every script)")
    ap.add_argument("--out", default=None)
    return ap.parse_args(argv)


def main(argv=None) -> dict:
    a = parse_args(argv)
    seconds = 3.0 if a.quick else a.seconds
    result = header("vm_stalls")
    realtime = False
    if a.realtime:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(a.priority))
            realtime = True
        except (PermissionError, OSError, AttributeError):
            pass
    # The cycle collector must not stall the probe itself: a full collection over what torch
    # left in the heap (imported by _common for the machine header) holds the thread for ms.
    gc.collect()
    gc.freeze()
    gc.disable()
    period = a.period_ms / 1e3
    n = int(seconds / period) + 10
    over = np.zeros(n)  # overshoot of each wake-up, seconds
    stalls = []  # (t since start, unix time, overshoot ms, steal ticks per vCPU across the stall)
    steal0 = prev = steal_ticks()
    t0 = time.perf_counter()
    due, i = t0, 0
    while i < n:
        due += period
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        now = time.perf_counter()
        if now - t0 >= seconds:
            break
        late = now - due
        over[i] = late
        i += 1
        cur = steal_ticks()  # ~20 us; read every wake-up so a stall is bracketed tightly
        if late > a.stall_ms / 1e3:
            stalls.append((round(now - t0, 3), round(time.time(), 3), round(late * 1e3, 2),
                           [c - p for c, p in zip(cur, prev)]))
        prev = cur
        if late > period:  # a stall: start the grid again rather than firing a burst of catch-up wake-ups
            due = now
    gc.enable()
    gc.unfreeze()
    over = over[:i] * 1e3
    steal_total = [(c - s) / USER_HZ for c, s in zip(steal_ticks(), steal0)]
    stall_ms = [s[2] for s in stalls]
    stall_steal_s = [sum(s[3]) / USER_HZ for s in stalls]
    with_steal = sum(1 for s in stalls if sum(s[3]) > 0)
    result.update({
        "config": {"seconds": seconds, "period_ms": a.period_ms, "stall_ms": a.stall_ms,
                   "realtime": realtime, "priority": a.priority if realtime else 0, "user_hz": USER_HZ,
                   "gc": "frozen and disabled during the loop"},
        "wakeups": int(i),
        "overshoot_ms": {"p50": round(float(np.percentile(over, 50)), 4),
                         "p99": round(float(np.percentile(over, 99)), 4),
                         "p999": round(float(np.percentile(over, 99.9)), 4),
                         "max": round(float(over.max()), 3),
                         "over_1ms": int((over > 1).sum()), "over_5ms": int((over > 5).sum())},
        "steal_s_total_per_vcpu": steal_total,
        "steal_s_per_hour_per_vcpu": [round(s / seconds * 3600, 3) for s in steal_total],
        "stalls": {"count": len(stalls), "with_steal": with_steal,
                   "total_stalled_ms": round(sum(stall_ms), 1),
                   "steal_ms_across_stalls": round(sum(stall_steal_s) * 1e3, 1),
                   "list": [{"t_s": t, "unix": u, "overshoot_ms": ms, "steal_ticks_per_vcpu": st}
                            for t, u, ms, st in stalls[:200]]},
        "loadavg_end": loadavg(),
    })
    emit("vm_stalls", result, a.out)
    return result


if __name__ == "__main__":
    main()
