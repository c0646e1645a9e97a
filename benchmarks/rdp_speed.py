"""RDP before and after it moved to the `simplification` library: time and kept points.

`before` is the hand-written, vectorised numpy RDP that `seqart/formats/stroke3.py` held up
to `--before` (a git revision; its `rdp_indices` is loaded from `git show`), `after` is the
`rdp_indices` of this checkout (`simplification.cutil.simplify_coords_idx`, in windows of
`RDP_WINDOW` points). Both are timed interleaved in one process, on:

- `real_strokes`: every stroke of 3+ points in the first `--drawings` real drawings
  (aaron_sheep, read by seqart's reader), one call per stroke, as the readers call it;
- `spiral`: one Archimedean spiral, points about 1 unit apart (plain RDP is O(K^2) there);
- `zigzag`: one zigzag whose points are nearly all kept (plain RDP recurses K deep there).

Per case: median ms per round (`before_ms`, `after_ms`), `speedup` (before / after medians),
the kept counts, and `same_indices`: the share of strokes kept exactly alike. Where they differ
it is a tie: two points equally far from a segment, which the old code broke towards the
first and the library by float rounding (integer pixel coordinates make ties common).

    .venv/bin/python benchmarks/rdp_speed.py           # about two minutes, nearly all of it `before`
    .venv/bin/python benchmarks/rdp_speed.py --quick   # tiny sizes, seconds (smoke test)

Prints one JSON object and writes it to benchmarks/results/rdp_speed.json (or --out).
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before numpy loads)

import subprocess
import types

import numpy as np

from seqart.formats.sketches import read
from seqart.formats.stroke3 import clip_to_stroke3, rdp_indices, stroke3_to_strokes

BEFORE = "c7eac10477688e2377af42588160078e02ea6095"  # the last commit with the hand-written RDP
SIZES = {"full": {"drawings": 2000, "spiral_points": 20_000, "zigzag_points": 100_000, "rounds": 7},
         "quick": {"drawings": 50, "spiral_points": 2000, "zigzag_points": 2000, "rounds": 2}}


def parse_args(argv=None):
    p = _common.sized_args(__doc__, SIZES)
    p.add_argument("--data", help="drawings to take real strokes from (default: aaron_sheep)")
    p.add_argument("--epsilon", type=float, default=2.0, help="RDP tolerance in source units (the codec's default)")
    p.add_argument("--before", default=BEFORE, help="git revision whose seqart/formats/stroke3.py is `before`")
    return _common.parse_sized(p, SIZES, "rdp_speed", argv)


def load_before(rev: str):
    """`rdp_indices` of stroke3.py at `rev`, or (None, why) when git cannot show it (a shallow clone)."""
    done = subprocess.run(["git", "show", f"{rev}:seqart/formats/stroke3.py"], capture_output=True, text=True,
                          cwd=_common.ROOT)
    if done.returncode:
        return None, done.stderr.strip()[:200]
    module = types.ModuleType("stroke3_before")
    exec(compile(done.stdout, f"{rev}:seqart/formats/stroke3.py", "exec"), module.__dict__)  # noqa: S102
    return module.rdp_indices, ""


def real_strokes(path, limit: int) -> list[np.ndarray]:
    """Absolute (K, 2) polylines of 3+ points from the first `limit` drawings, all splits."""
    clips = [c for split in read(path, {}).values() for c in split][:limit]
    return [s for c in clips for s in stroke3_to_strokes(clip_to_stroke3(c)) if len(s) >= 3]


def spiral(n: int) -> np.ndarray:
    """r = 5 theta; arc length is 2.5 theta^2, so theta = sqrt(2 s / 5) puts points ~1 unit apart."""
    th = np.sqrt(np.linspace(0, 2 * n / 5, n))
    return np.column_stack([5 * th * np.cos(th), 5 * th * np.sin(th)])


def zigzag(n: int) -> np.ndarray:
    return np.column_stack([np.arange(n, dtype=np.float64), np.arange(n) % 2 * 10.0])


def compare(before, strokes: list[np.ndarray], eps: float, rounds: int) -> dict:
    after_kept = [rdp_indices(s, eps) for s in strokes]
    fns = {"after": lambda: [rdp_indices(s, eps) for s in strokes]}
    out = {"polylines": len(strokes), "points": int(sum(len(s) for s in strokes)),
           "kept_after": int(sum(len(k) for k in after_kept))}
    if before is not None:
        before_kept = [before(s, eps) for s in strokes]
        fns["before"] = lambda: [before(s, eps) for s in strokes]
        out["kept_before"] = int(sum(len(k) for k in before_kept))
        out["same_indices"] = round(float(np.mean([np.array_equal(a, b) for a, b in zip(after_kept, before_kept)])), 4)
    times = _common.interleave(fns, rounds)
    out |= {f"{k}_ms": _common.summary(v) for k, v in times.items()}
    if before is not None:
        out["speedup"] = round(_common.med(times["before"]) / _common.med(times["after"]), 2)
    return out


def main(argv=None) -> None:
    a = parse_args(argv)
    data = _common.sketch_data(a.data)
    result = _common.header("rdp_speed")
    before, why = load_before(a.before)
    result["config"] = {"quick": a.quick, "data": str(data), "epsilon": a.epsilon, "rounds": a.rounds,
                        "before": a.before, "before_missing": why or None,
                        "after": "simplification.cutil.simplify_coords_idx in windows of RDP_WINDOW points"}
    cases = {"real_strokes": real_strokes(data, a.drawings), "spiral": [spiral(a.spiral_points)],
             "zigzag": [zigzag(a.zigzag_points)]}
    result["cases"] = {name: compare(before, strokes, a.epsilon, a.rounds) for name, strokes in cases.items()}
    # The brief: adopt the library only if it is not much slower than the hand-written code.
    result["target"] = {"after_not_slower": None if before is None else
                        all(c["after_ms"]["median"] <= c["before_ms"]["median"] for c in result["cases"].values())}
    result["loadavg_end"] = _common.loadavg()
    _common.emit("rdp_speed", result, a.out)


if __name__ == "__main__":
    main()
