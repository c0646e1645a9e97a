"""Were the live runs' late events the engine's doing? Set each late episode beside the machine's own stalls.

Reads the `late_episodes` of live_rate results (events more than 5 ms late, with
the unix time each episode began) and the stall list of a `vm_stalls.py` probe
that ran at the same time in a separate process (a thread with no work that
sleeps to 1 ms deadlines). An episode "matches" when the probe stalled within
--window-ms of it: then a thread that does nothing at all, in another process,
was held up at the same moment, and the cause lies outside seqart.

    .venv/bin/python benchmarks/live_stall_match.py \\
        --probe benchmarks/results/vm_stalls_live_series.json \\
        benchmarks/results/live_rate.json benchmarks/results/live_rate_busy.json ...

Writes benchmarks/results/live_stall_match.json (or --out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import emit, header


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="live_rate result files")
    ap.add_argument("--probe", required=True, help="vm_stalls result of a probe run alongside them")
    ap.add_argument("--window-ms", type=float, default=50.0)
    ap.add_argument("--out", default=None)
    return ap.parse_args(argv)


def main(argv=None) -> dict:
    a = parse_args(argv)
    result = header("live_stall_match")
    probe = json.loads(Path(a.probe).read_text())
    stalls = [(s["unix"], s["overshoot_ms"]) for s in probe["stalls"]["list"]]
    rows, matched = [], 0
    for run in a.runs:
        d = json.loads(Path(run).read_text())
        for ep in d.get("late_episodes", []):
            near = min(stalls, key=lambda s: abs(s[0] - ep["at_unix"]), default=None)
            dt_ms = None if near is None else round((near[0] - ep["at_unix"]) * 1e3, 1)
            hit = dt_ms is not None and abs(dt_ms) <= a.window_ms
            matched += hit
            rows.append({"run": Path(run).name, "episode_unix": ep["at_unix"], "events": ep["events"],
                         "worst_ms": ep["worst_ms"], "probe_stall_ms": near[1] if hit else None,
                         "probe_minus_episode_ms": dt_ms, "matched": hit})
    result.update({
        "config": {"runs": [Path(r).name for r in a.runs], "probe": Path(a.probe).name, "window_ms": a.window_ms,
                   "probe_priority": probe["config"].get("priority"), "probe_seconds": probe["config"]["seconds"]},
        "episodes": len(rows), "matched": matched,
        "probe_stalls": len(stalls), "probe_stalls_with_steal": probe["stalls"]["with_steal"],
        "list": rows,
    })
    emit("live_stall_match", result, a.out)
    return result


if __name__ == "__main__":
    main()
