"""Run the real `seqart` command in a child process under a memory limit and a time limit.

The child is forked from the test process, which has already imported seqart and torch,
so each run costs milliseconds instead of a fresh interpreter's seconds; it then runs
`seqart.cli.main()` exactly as the `seqart` script does, with stderr going to a file. The
child's address space is capped with RLIMIT_AS (the parent's size plus `mem_mb`), and it
is killed when it runs past `seconds`.

`assert_refused` is the promise every hostile input is held to: exit status 2, exactly one
line on stderr naming the file or setting, no traceback, no MemoryError standing in for a
limit, and nothing written where the output would have gone.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import seqart.cli  # noqa: F401 - imported before forking, so children start warm
import seqart.train  # noqa: F401 - (torch)

TRAIN_FAST = ["--steps", "1", "--hidden", "4", "--mixtures", "1", "--batch-size", "2", "--quiet",
              "--set", "train.valid_every=1"]


@dataclass
class Run:
    code: int | None  # None: killed at the time limit
    stderr: str
    seconds: float
    peak_mb: float  # the child's peak resident memory above the parent's at fork time

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def seqart_run(*args, seconds: float = 20.0, mem_mb: int = 1024, env: dict | None = None) -> Run:
    """`seqart ARGS...` in a forked child under the limits."""
    with tempfile.TemporaryFile() as err:
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cap = _vm_bytes() + mem_mb * 2**20
        sys.stdout.flush(), sys.stderr.flush()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            _child([str(a) for a in args], err.fileno(), cap, env or {})
        code, usage = _wait(pid, t0 + seconds)
        elapsed = time.monotonic() - t0
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Run(code, text, elapsed, max(0.0, usage.ru_maxrss / 1024 - base_rss) if usage else float("nan"))


def _child(argv: list[str], err_fd: int, cap: int, env: dict) -> None:
    code = 70
    try:
        os.environ.update(env)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.dup2(err_fd, 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        sys.stderr = open(2, "w", closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.argv = ["seqart", *argv]
        try:
            seqart.cli.main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - whatever escaped main() is shown as the test's evidence
        import traceback

        traceback.print_exc()
        code = 71
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, deadline: float):
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return (os.waitstatus_to_exitcode(status), usage)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            return None, usage
        time.sleep(0.005)


def assert_refused(run: Run, *needles: str, out: Path | None = None, budget_s: float | None = None) -> str:
    """Exit 2, one line (with every needle), no traceback, within budget, nothing at `out`."""
    assert run.code is not None, f"still running after {run.seconds:.1f} s (killed); stderr: {run.stderr[-500:]}"
    assert run.code == 2, f"exit {run.code}: {run.stderr[-2000:]}"
    assert len(run.lines) == 1, run.stderr[-2000:]
    line = run.lines[0]
    assert line.startswith("seqart: error: ") and "Traceback" not in run.stderr, line
    assert "MemoryError" not in line and "RecursionError" not in line, line
    for needle in needles:
        assert needle in line, line
    if budget_s is not None:
        assert run.seconds < budget_s, f"{run.seconds:.1f} s: {line}"
    if out is not None:
        assert not Path(out).exists(), f"{out} was written: {line}"
    return line


def assert_handled(run: Run, out: Path, *needles: str) -> None:
    """For generated inputs that may happen to be valid: success, or a proper refusal."""
    if run.code == 0:
        return
    assert_refused(run, *needles, out=out)
