"""Each reader's time and peak memory at 1x, 10x and 100x its input: are they linear?

For every reader, one kind of input grows (drawings, points in one stroke, curves, notes
of one pitch all sounding at once, frames, joints in a chain, pieces, glyphs): the cases
that were quadratic or worse before issue 12. Every size is read in a fresh process
(`--one READER SIZE`), through the codec's `read` as `seqart train` does, so the peak
resident memory is that read's own (`peak_mib` minus `base_mib`, the process after its
imports). Limits are raised where the 100x input would be refused.

Per reader: `seconds` and `extra_mib` at each size (median of `--repeats` processes for 1x
and 10x, one for 100x), and `time_ratio_10x` / `time_ratio_100x` (10 and 100 mean linear;
below that, fixed costs still show at 1x). Run from the repository root:

    .venv/bin/python benchmarks/readers_scaling.py            # a few minutes
    .venv/bin/python benchmarks/readers_scaling.py --quick    # sizes 1x and 10x of a smaller base
"""

from __future__ import annotations

import _common  # noqa: F401 - first: pins threads

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT, emit, header, loadavg, med

sys.path.insert(0, str(ROOT / "tests"))
import hostile as h  # noqa: E402

RAISED = {"SEQART_MAX_STROKE_POINTS": "10000000", "SEQART_MAX_POINTS": "10000000", "SEQART_MAX_NOTES": "10000000",
          "SEQART_MAX_JOINTS": "100000", "SEQART_MAX_SVG_ELEMENTS": "10000000", "SEQART_MAX_FILE_POINTS": "100000000"}


def make_npz(folder: Path, n: int) -> Path:
    """n sketch-rnn drawings of 100 points, the upstream pickled layout."""
    rng = np.random.default_rng(0)
    items = np.empty(n, object)
    for i in range(n):
        d = rng.integers(-20, 21, (100, 3)).astype(np.int16)
        d[:, 2] = (rng.random(100) < 0.1)
        items[i] = d
    path = folder / "drawings.npz"
    path.write_bytes(h.npz_bytes({"train": items}))
    return path


def make_svg(folder: Path, n: int) -> Path:
    """n short cubic curves in one path."""
    d = "M0 0" + "".join(f" C{i % 50} 3 {i % 50 + 2} -3 {i % 50 + 4} 0" for i in range(n))
    path = folder / "curves.svg"
    path.write_text(h.SVG_HEAD + f'<path d="{d}"/></svg>')
    return path


def make_jsb(folder: Path, n: int) -> Path:
    """n chorales of 64 steps of four voices."""
    rng = np.random.default_rng(0)
    pieces = [[sorted(rng.integers(40, 80, 4).tolist()) for _ in range(64)] for _ in range(n)]
    path = folder / "chorales.json"
    path.write_text(json.dumps({"train": pieces}))
    return path


def make_jhf(folder: Path, n: int) -> Path:
    """n glyphs: a bound pair and 18 vertices in two strokes (20 pairs)."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        pairs = "".join(chr(ord("R") + int(v)) for v in rng.integers(-9, 10, 38))
        lines.append(f"{i % 100000:5d} 20" + "IZ" + pairs[:18] + " R" + pairs[18:36])
    path = folder / "font.jhf"
    path.write_text("\n".join(lines) + "\n")
    return path


# reader -> (what grows, maker(folder, n), base n)
READERS = {
    "npz": ("drawings of 100 points", make_npz, 200),
    "ndjson": ("points in one raw stroke (RDP)", lambda d, n: h.ndjson_long_stroke(d, n), 10_000),
    "svg": ("cubic curves in one path", make_svg, 200),
    "midi": ("notes of one pitch, all sounding at once", lambda d, n: h.midi_overlapping(d, n), 2_000),
    "bvh_frames": ("frames of a 20-joint skeleton", lambda d, n: h.bvh_frames(d, n, 20), 500),
    "bvh_joints": ("joints in one chain", lambda d, n: h.bvh_chain(d, n), 50),
    "jsb": ("chorales of 64 steps", make_jsb, 10),
    "hershey": ("glyphs", make_jhf, 100),
}


def read_once(reader: str, n: int) -> dict:
    """In this (fresh) process: make the input, then read it as `seqart train` does."""
    from seqart.codecs import codec_for_path

    with tempfile.TemporaryDirectory() as tmp:
        path = READERS[reader][1](Path(tmp), n)
        codec = codec_for_path(path)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        splits = codec.read(path)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"seconds": seconds, "base_mib": round(base, 1), "peak_mib": round(peak, 1),
                "extra_mib": round(peak - base, 1), "bytes": path.stat().st_size,
                "clips": sum(len(c) for c in splits.values())}


def measure(reader: str, n: int, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        env = os.environ | RAISED
        done = subprocess.run([sys.executable, __file__, "--one", reader, str(n)], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=1800)
        if done.returncode:
            raise SystemExit(f"{reader} at {n}: {done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout))
    return {"n": n, "seconds": round(med([r["seconds"] for r in runs]), 4),
            "extra_mib": round(med([r["extra_mib"] for r in runs]), 1), "bytes": runs[0]["bytes"],
            "clips": runs[0]["clips"], "repeats": repeats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the base sizes, 1x and 10x only")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("--one", nargs=2, metavar=("READER", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(read_once(args.one[0], int(args.one[1]))))
        return
    result = header("readers_scaling")
    result["config"] = {"quick": args.quick, "repeats": args.repeats, "raised_limits": RAISED}
    result["target"] = "time and memory grow linearly with the input: time_ratio_10x near 10, time_ratio_100x near 100"
    readers = {}
    for name in args.readers.split(","):
        what, _, base = READERS[name]
        base = max(1, base // 10) if args.quick else base
        scales = (1, 10) if args.quick else (1, 10, 100)
        sizes = [measure(name, base * s, args.repeats if s < 100 else 1) for s in scales]
        r = {"grows": what, "sizes": sizes, "time_ratio_10x": round(sizes[1]["seconds"] / sizes[0]["seconds"], 2)}
        if len(sizes) > 2:
            r["time_ratio_100x"] = round(sizes[2]["seconds"] / sizes[0]["seconds"], 2)
            r["time_ratio_100x_over_10x"] = round(sizes[2]["seconds"] / sizes[1]["seconds"], 2)
        readers[name] = r
        print(f"{name}: {[(s['n'], s['seconds'], s['extra_mib']) for s in sizes]}", file=sys.stderr)
    result["readers"] = readers
    result["loadavg_end"] = loadavg()
    emit("readers_scaling", result, args.out)


if __name__ == "__main__":
    main()
