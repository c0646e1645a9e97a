"""Shared by the live benchmarks: the model that generates, oscdump as the receiver, error figures.

Import `_common` first (it pins threads). The receiver is liblo's `oscdump`
in its own process: it stamps every plain message on arrival (liblo's
gettimeofday, the same clock as `time.time()`), and writes lines to a file, so
nothing in the benchmark process reads them while the engine runs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from _common import ROOT, SHIPPED_SHEEP
from seqart.codecs.strokes import StrokesCodec
from seqart.model import MDNLSTM, ModelConfig
from seqart.modelio import load_model
from seqart.sample import Sampler

NTP_UNIX = 2208988800


def strokes_voice(run: str | None, rate: float, temperature: float = 0.6, seed: int = 0):
    """(sampler, codec, description): a trained strokes model if one is found, else sketch-rnn's size untrained.

    The cost of a step does not depend on the weights, so an untrained hidden-512 model times the same.
    """
    for cand in ([run] if run else []) + [str(ROOT / "runs" / "sheep"), "sheep"]:
        try:
            model, codec, _ = load_model(Path(cand))
            desc = f"{cand} (hidden {model.cfg.hidden}, M {model.cfg.mixtures})"
            break
        except Exception:  # noqa: BLE001 - not trained yet: fall through to the next candidate
            if run and cand == run:
                raise
    else:
        codec = StrokesCodec()
        clips = [c for s in codec.read(SHIPPED_SHEEP).values() for c in s] if SHIPPED_SHEEP.exists() else []
        if clips:
            codec.fit_norm(clips)
        torch.manual_seed(seed)
        model = MDNLSTM(ModelConfig(layout=codec.layout.to_json(), hidden=512, mixtures=20)).eval()
        desc = "untrained strokes model, hidden 512, M 20 (no trained sheep model found; same cost per step)"
    codec.options["rate"] = float(rate)  # points per second: one OSC message each
    return Sampler(model, codec, temperature=temperature, seed=seed), codec, desc


class DueLog:
    """The engine's send log, preallocated and touched up front, so it never grows the process or
    gives the cycle collector more to scan: deadline, send time, x (first argument), is_end."""

    def __init__(self, n: int):
        self.due = np.full(n, np.nan)
        self.sent = np.full(n, np.nan)
        self.x = np.full(n, np.nan, np.float32)
        self.end = np.full(n, -1, np.int8)
        self.n = 0

    def append(self, row) -> None:
        if self.n < len(self.due):
            due, sent, addr, args = row
            i = self.n
            self.due[i], self.sent[i] = due, sent
            self.x[i] = args[0] if args else np.nan
            self.end[i] = addr.endswith("/end")
            self.n = i + 1


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_bound(port: int) -> bool:
    for f in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            for line in open(f).readlines()[1:]:
                if int(line.split()[1].rsplit(":", 1)[1], 16) == port:
                    return True
        except OSError:
            pass
    return False


class Oscdump:
    """liblo's oscdump on a UDP port, writing to a file."""

    def __init__(self, port: int, out: Path, realtime: bool = False):
        exe = shutil.which("oscdump")
        if exe is None:
            raise SystemExit("oscdump not found: apt-get install liblo-tools")
        self.out = out
        self.file = open(out, "w")
        # With realtime, the receiver runs at SCHED_FIFO 10 (below the engine's sender) so that the
        # figures show the sender's timing, not how long a loaded machine keeps the receiver waiting.
        prefix = ["chrt", "-f", "10"] if realtime and shutil.which("chrt") else []
        self.realtime = bool(prefix)
        self.p = subprocess.Popen(prefix + [exe, "-L", str(port)], stdout=self.file, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        end = time.time() + 10
        while not udp_bound(port):
            if time.time() > end or self.p.poll() is not None:
                raise SystemExit(f"oscdump did not bind UDP {port}")
            time.sleep(0.05)

    def stop(self) -> list[tuple[float, str, str]]:
        """Stop it; (stamp_unix, address, args) per message, in arrival order."""
        time.sleep(0.3)
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            self.p.wait(5)
        self.file.close()
        out = []
        for line in open(self.out):
            m = re.match(r"^([0-9a-f]{8})\.([0-9a-f]{8}) (\S+) \S* ?(.*)$", line)
            if m:
                out.append((int(m[1], 16) - NTP_UNIX + int(m[2], 16) / 2**32, m[3], m[4]))
        return out


class BundleReceiver:
    """benchmarks/live_receiver.py in its own process: (arrival, timetag, address) per bundle."""

    def __init__(self, port: int, out: Path, realtime: bool = True):
        import sys

        self.out, self.realtime = out, realtime
        cmd = [sys.executable, str(Path(__file__).with_name("live_receiver.py")), str(port), str(out)]
        self.p = subprocess.Popen(cmd + (["--realtime"] if realtime else []), start_new_session=True)
        end = time.time() + 10
        while not udp_bound(port):
            if time.time() > end or self.p.poll() is not None:
                raise SystemExit(f"live_receiver.py did not bind UDP {port}")
            time.sleep(0.05)

    def stop(self) -> list[tuple[float, float, str]]:
        time.sleep(0.3)
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(30)
        rows = []
        for line in open(self.out):
            t, tag, addr = line.rstrip("\n").split("\t")
            rows.append((float(t), float(tag), addr))
        return rows


def match(log: DueLog, received: list[tuple[float, str, str]]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Arrival minus deadline (s) per message, matched in order by kind (pen/end) and x.

    Returns (errors, their deadlines (unix s), lost, unmatched): a lost datagram shifts the rest,
    so it looks a little ahead.
    """
    errors, dues, j, unmatched = [], [], 0, 0
    for i in range(log.n):
        due, is_end, x = log.due[i], log.end[i] == 1, log.x[i]
        for k in range(j, min(j + 50, len(received))):
            stamp, addr, args = received[k]
            if addr.endswith("/end") != is_end:
                continue
            if not is_end and abs(float(args.split()[0]) - float(x)) > 2e-3:
                continue
            errors.append(stamp - due)
            dues.append(due)
            j = k + 1
            break
        else:
            unmatched += 1
    return np.asarray(errors, np.float64), np.asarray(dues, np.float64), log.n - len(errors), unmatched


def late_episodes(due_unix: np.ndarray, err_s: np.ndarray, over_ms: float = 5.0, gap_s: float = 0.5) -> list[dict]:
    """Events later than over_ms, grouped into episodes (deadlines less than gap_s apart).

    Each: when it began (unix s, to set beside benchmarks/vm_stalls.py's stall list), how many
    events it made late and the worst lateness (ms). A VM stall shows as one episode.
    """
    late = np.flatnonzero(err_s * 1e3 > over_ms)
    out: list[dict] = []
    for i in late:
        if out and due_unix[i] - out[-1]["_last"] < gap_s:
            ep = out[-1]
            ep["events"] += 1
            ep["worst_ms"] = max(ep["worst_ms"], round(float(err_s[i]) * 1e3, 2))
            ep["_last"] = due_unix[i]
        else:
            out.append({"at_unix": round(float(due_unix[i]), 3), "events": 1,
                        "worst_ms": round(float(err_s[i]) * 1e3, 2), "_last": due_unix[i]})
    for ep in out:
        del ep["_last"]
    return out


def error_figures(err_s: np.ndarray) -> dict:
    """Arrival error in ms: percentiles, max, counts past 1 ms and 5 ms (late) and early."""
    ms = err_s * 1e3
    if not len(ms):
        return {"n": 0}
    return {"n": int(len(ms)), "p50_ms": round(float(np.percentile(ms, 50)), 4),
            "p99_ms": round(float(np.percentile(ms, 99)), 4), "p999_ms": round(float(np.percentile(ms, 99.9)), 4),
            "max_ms": round(float(ms.max()), 4), "min_ms": round(float(ms.min()), 4),
            "mean_ms": round(float(ms.mean()), 4), "late_over_1ms": int((ms > 1).sum()),
            "late_over_5ms": int((ms > 5).sum()), "early": int((ms < 0).sum())}


def busy_core() -> subprocess.Popen:
    """A separate process spinning one core flat out (the "other core busy" condition)."""
    return subprocess.Popen(["python3", "-c", "while True: pass"], start_new_session=True)


def rss_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 2)
    return 0.0
