"""Shared plumbing for the benchmark scripts: thread pinning, machine facts, timing, data, output.

Import this module FIRST in a benchmark script: it pins every math library
to one thread before numpy or torch is loaded (the machine has 2 cores and
another process may be training on one; PERFORMANCE.md shows 2 contended
threads running 7-35x slower than 1).

Each script prints one JSON object on stdout and writes the same object to
`benchmarks/results/<name>.json` (or `--out`), atomically. Machines are
shared and noisy, so every figure is a median over repeats, the compared
implementations are timed interleaved in the same process, and ratios are
reported beside absolute times.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# The real training data when the shared folder is mounted; else the small sample shipped in the repo.
SHARED_SHEEP = ROOT.parent / "shared" / "datasets" / "sketches" / "aaron_sheep.npz"
SHIPPED_SHEEP = ROOT / "datasets" / "sketches" / "aaron_sheep_small.npz"  # 200 / 50 / 50 real sheep


def sketch_data(path: str | None = None) -> Path:
    """The drawing data to benchmark on: `path`, else aaron_sheep, else the shipped sample."""
    if path:
        return Path(path)
    if SHARED_SHEEP.exists():
        return SHARED_SHEEP
    if SHIPPED_SHEEP.exists():
        return SHIPPED_SHEEP
    raise SystemExit(f"no sketch data: neither {SHARED_SHEEP} nor {SHIPPED_SHEEP} exists (pass --data)")


def machine() -> dict:
    """What the figures were measured on."""
    cpu, flags = "", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not cpu:
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line + " "
    except OSError:
        pass
    mem = None
    try:
        kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        mem = round(kb / 2**20, 1)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "avx512": " avx512f " in flags,
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": mem,
        "torch_threads": torch.get_num_threads(),
        "thread_env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def command() -> str:
    """The command line that produced this run (thread variables included, since the script forces them)."""
    py = os.path.relpath(sys.executable, Path.cwd()) if sys.executable.startswith(str(ROOT)) else sys.executable
    script = os.path.relpath(os.path.abspath(sys.argv[0]), Path.cwd())
    env = " ".join(f"{v}=1" for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    return f"{env} {shlex.join([py, script, *sys.argv[1:]])}"


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def med(xs) -> float:
    return float(statistics.median(xs))


def summary(xs: list[float], scale: float = 1e3, digits: int = 2) -> dict:
    """Median, 10th/90th percentiles and count of repeated timings (seconds in; ms out by default)."""
    a = np.asarray(xs, np.float64) * scale
    return {"median": round(float(np.median(a)), digits), "p10": round(float(np.percentile(a, 10)), digits),
            "p90": round(float(np.percentile(a, 90)), digits), "n": int(a.size)}


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleave(fns: dict, rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Time each callable once per round, rotating the order so no one always runs first.

    Returns {name: [seconds per round]}; rounds in the same slot share the machine's noise.
    """
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[: r % len(names)]:
            out[n].append(timed(fns[n]))
    return out


def emit(name: str, result: dict, out: str | None) -> None:
    """Print the result as one JSON object and write it to `out` (default results/<name>.json) atomically."""
    text = json.dumps(result, indent=2, sort_keys=False)
    path = Path(out) if out else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
    print(text)


def header(name: str) -> dict:
    """The fields every result starts with."""
    return {"benchmark": name, "command": command(), "cwd": str(Path.cwd()),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": machine(), "loadavg_start": loadavg()}


def git_commit() -> str:
    """The short commit the figures were made at ("" outside a git checkout)."""
    import subprocess

    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return done.stdout.strip()


def model_name(model: str) -> str:
    """A model argument as a file-name part: "sheep" for sheep, "salsa2" for runs/salsa2/best."""
    p = Path(model)
    return p.parent.name if p.name in ("best", "latest") else p.name


# --- the argument blocks the scripts share --------------------------------------------------------
def sized_args(doc: str, sizes: dict) -> "argparse.ArgumentParser":
    """A parser with --quick and one integer option per size (`--max-len`; its help gives the full
    and quick defaults); the script adds its own options and calls `parse_sized`."""
    import argparse

    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes and repeats (seconds)")
    for k in sizes["full"]:
        p.add_argument(f"--{k.replace('_', '-')}", type=int, help=f"default {sizes['full'][k]} (quick: {sizes['quick'][k]})")
    return p


def parse_sized(p: "argparse.ArgumentParser", sizes: dict, name: str, argv=None) -> "argparse.Namespace":
    """Add --out, parse, and fill each size not given from the full or (--quick) quick defaults."""
    p.add_argument("--out", help=f"where to write the JSON (default benchmarks/results/{name}.json)")
    a = p.parse_args(argv)
    for k, v in sizes["quick" if a.quick else "full"].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    return a


def model_args(doc: str, model: str, data_help: str) -> "argparse.ArgumentParser":
    """The options of the benchmarks that measure one trained model: --model, --data, --stage,
    --seed, --quick and --out; the script adds its own."""
    import argparse

    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--model", default=model, help="a shipped model's name or a run/model folder")
    p.add_argument("--data", help=data_help)
    p.add_argument("--stage", default="", help="a label such as before/after, also put in the file name")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    p.add_argument("--out")
    return p


def load_measured(a) -> tuple:
    """(model, codec, checkpoint JSON) of `--model`."""
    from seqart.modelio import load_model

    return load_model(Path(a.model))


SALSA = ROOT.parent / "shared" / "datasets" / "mocap" / "cmu_salsa"


def dance_args(doc: str, minutes: float) -> "argparse.ArgumentParser":
    """The arguments of the dance benchmarks (quality_poses.py, poses_joint_speed.py)."""
    p = model_args(doc, "salsa", "BVH folder (default: the CMU salsa folder)")
    p.add_argument("--minutes", type=float, default=minutes)
    p.add_argument("--prime-seconds", type=float, default=2.0)
    p.add_argument("--temperature", type=float, default=1.0)
    return p


def dance(a) -> tuple:
    """One generated dance of `--minutes` at the model's fps through the one Sampler, primed with the
    first `--prime-seconds` of the first held-out clip (test split, else validation): (model, codec,
    checkpoint JSON, data folder, split, held-out split name, primer clip, generated clip)."""
    from seqart.sample import Sampler
    from seqart.splits import make_split

    if a.quick:
        a.minutes = 0.2
    data = Path(a.data) if a.data else SALSA
    model, codec, meta = load_measured(a)
    split = make_split(codec.read(data), codec)
    which = "test" if split.clips.get("test") else "valid"
    fps = float(codec.options["fps"])
    primer = split.clips[which][0].slice(0, int(round(a.prime_seconds * fps)))
    gen = Sampler(model, codec, temperature=a.temperature, seed=a.seed).generate(int(round(a.minutes * 60 * fps)), prime=primer)
    return model, codec, meta, data, split, which, primer, gen


def model_header(name: str, a, meta: dict) -> dict:
    """header() and which model, stage, commit and checkpoint step the figures are of."""
    from seqart.modelio import resolve

    return header(name) | {"model": str(resolve(Path(a.model))), "stage": a.stage, "git_commit": git_commit(),
                           "model_step": meta.get("step")}


def model_stem(name: str, a) -> str:
    """The result's file name: quality_notes_nottingham, quality_poses_salsa2_after..."""
    return f"{name}_{model_name(a.model)}" + (f"_{a.stage}" if a.stage else "")


def run_args(doc: str | None = None) -> "argparse.ArgumentParser":
    """The options of the benchmarks that score a run on held-out files: RUN DATA, --split,
    --prime-seconds and --out; the script adds its own."""
    import argparse

    p = argparse.ArgumentParser(description=doc.split("\n")[0] if doc else None)
    p.add_argument("run", type=Path)
    p.add_argument("data", type=Path)
    p.add_argument("--split", default="valid")
    p.add_argument("--prime-seconds", type=float, default=2.0)
    p.add_argument("--out")
    return p


def load_run(a) -> tuple:
    """(model, codec, checkpoint JSON, the held-out clips of --split), with --drift applied where given."""
    from seqart.modelio import load_model

    model, codec, meta = load_model(a.run)
    if getattr(a, "drift", None) is not None:
        codec.configure_sampler(None, {"drift": a.drift})
    return model, codec, meta, codec.read_files(a.data)[a.split]
