"""Running third-party receivers for the live tests: oscdump, Pd, scsynth, jackd + jack_midi_dump.

Each receiver runs in its own process group, its output lines stamped with the
time they were read, and is stopped by its own pid at the end (never by name).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from peers import peer

ROOT = Path(__file__).resolve().parent.parent
NTP_UNIX = 2208988800


class Proc:
    """A started program whose stdout+stderr lines are collected as (read_time, text)."""

    def __init__(self, cmd, env=None, stdin=None):
        self.lines: list[tuple[float, str]] = []
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                  start_new_session=True, env=env, stdin=stdin)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append((time.time(), line.rstrip("\n")))

    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    def wait_for(self, pattern: str, timeout: float = 10.0) -> bool:
        end = time.time() + timeout
        while time.time() < end:
            if any(re.search(pattern, t) for _, t in self.lines):
                return True
            if self.p.poll() is not None:
                time.sleep(0.2)
                return any(re.search(pattern, t) for _, t in self.lines)
            time.sleep(0.05)
        return False

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(3)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def udp_bound(port: int) -> bool:
    for f in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            for line in open(f).readlines()[1:]:
                if int(line.split()[1].rsplit(":", 1)[1], 16) == port:
                    return True
        except OSError:
            pass
    return False


def wait_udp(port: int, proc: Proc, timeout: float = 15.0) -> None:
    end = time.time() + timeout
    while not udp_bound(port):
        if proc.p.poll() is not None or time.time() > end:
            pytest.fail(f"receiver did not bind UDP {port}: {proc.text()[-400:]}")
        time.sleep(0.05)


def oscdump(port: int) -> Proc:
    proc = Proc([peer("oscdump"), "-L", str(port)])
    wait_udp(port, proc)
    return proc


def oscdump_messages(proc: Proc, address: str | None = None) -> list[tuple[float, float, str, str, list[str]]]:
    """(read_time, oscdump_stamp_unix, address, types, args) per printed message."""
    out = []
    for t, s in proc.lines:
        m = re.match(r"^([0-9a-f]{8})\.([0-9a-f]{8}) (\S+) (\S*) ?(.*)$", s)
        if m and (address is None or m[3] == address):
            out.append((t, int(m[1], 16) - NTP_UNIX + int(m[2], 16) / 2**32, m[3], m[4], m[5].split()))
    return out


def jack_running() -> bool:
    return subprocess.run(["jack_lsp"], capture_output=True).returncode == 0


def start_jackd(period: int = 256) -> Proc | None:
    """A dummy-driver JACK server, or None when one already runs (it is then left alone)."""
    peer("jack_lsp")
    if jack_running():
        return None
    for _ in range(4):  # a server that just quit can make a new one fail "Failed to open server"
        proc = Proc([peer("jackd"), "--no-realtime", "-d", "dummy", "-r", "48000", "-p", str(period)])
        for _ in range(50):
            if jack_running() or proc.p.poll() is not None:
                break
            time.sleep(0.1)
        if proc.p.poll() is None and jack_running():
            return proc
        proc.stop()
        time.sleep(1.0)
    why = proc.text()
    if "Too many servers already active" in why:  # dead servers' slots (see conftest._jack_server_name)
        why = ("JACK's server registry is full of dead servers: with no JACK server running, remove "
               "/dev/shm/jack-shm-registry and /dev/shm/jack-*; " + why[-200:])
    pytest.fail("jackd -d dummy did not start: " + why[-300:])


def jack_ports() -> list[str]:
    return subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout.splitlines()


def jack_midi_dump(client: str = "seqart_peer") -> Proc:
    proc = Proc(["stdbuf", "-oL", peer("jack_midi_dump"), "-a", client])
    end = time.time() + 10
    while f"{client}:input" not in jack_ports():
        if time.time() > end or proc.p.poll() is not None:
            pytest.fail("jack_midi_dump did not come up: " + proc.text()[-300:])
        time.sleep(0.05)
    return proc


def midi_dump_events(proc: Proc) -> list[tuple[int, int, int]]:
    """(status, data1, data2) per event jack_midi_dump printed."""
    out = []
    for _, s in proc.lines:
        m = re.match(r"^\s*\d+: ((?:[0-9a-f]{2} ?)+)", s)
        if m:
            b = bytes.fromhex(m[1])
            out.append((b[0], b[1] if len(b) > 1 else 0, b[2] if len(b) > 2 else 0))
    return out


def perform(piece: Path, seconds: float, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """`seqart perform PIECE --duration S ARGS...` in its own process."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "seqart.cli", "perform", str(piece), "--duration", str(seconds), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def perform_to_oscdump(piece: Path, seconds: float, *args: str) -> tuple[subprocess.CompletedProcess, Proc]:
    """`seqart perform PIECE` for `seconds` sending OSC to an oscdump on a free port: (the run, the dump, stopped)."""
    from live_fixtures import free_port

    port = free_port()
    dump = oscdump(port)
    try:
        return perform(piece, seconds, "--osc", f"127.0.0.1:{port}", *args), dump
    finally:
        dump.stop()


def start_perform(piece: Path, seconds: float, *args: str) -> Proc:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # SIGINT at its default, as in a terminal: a test run started as a background job has it ignored,
    # and a child inherits that (Python then keeps it ignored), so Ctrl-C would never reach perform
    cmd = ["env", "--default-signal=INT", sys.executable, "-m", "seqart.cli", "perform", str(piece),
           "--duration", str(seconds), *args]
    return Proc(cmd, env=env)


def wait_balanced(dump: Proc, balanced=None, timeout: float = 5.0) -> None:
    """Read a jack_midi_dump until its events balance (or `timeout` s). perform sends its last
    note-offs as it ends, and on a loaded machine the dump may print them a while later."""
    balanced = balanced or balanced_bytes
    end = time.time() + timeout
    while time.time() < end and not balanced(midi_dump_events(dump)):
        time.sleep(0.1)


def balanced_bytes(events) -> bool:
    """MIDI (status, note, velocity) events: per channel and pitch, strictly on, off, on, off ... off."""
    state = {}
    for st, note, vel in events:
        kind = st & 0xF0
        if kind not in (0x80, 0x90):
            continue
        on = kind == 0x90 and vel > 0
        key = (st & 0x0F, note)
        if state.get(key, False) == on:
            return False
        state[key] = on
    return not any(state.values())


def worst_late_ms(text: str) -> float:
    """The engine's own worst lateness from its final `done: ... (max X ms) ...` status line."""
    m = re.search(r"^done: .*\(max ([0-9.]+) ms\).* 0 resyncs", text, re.M)
    assert m, f"no clean done line in: {text[-400:]}"
    return float(m[1])


# What "kept time" means in a test: lateness within what the machine's own stalls cause. The
# shared 2-vCPU VMs stall a whole process now and then (seen up to ~100 ms, docs/osc.md; 20.6 ms
# with the suite beside two trainings), while an output that blocked on a vanished receiver would
# hold the clock for its timeout (hundreds of ms) and force a resync, which worst_late_ms refuses.
# The timing targets themselves are measured by benchmarks/live_rate.py, not here.
KEPT_TIME_MS = 50.0
