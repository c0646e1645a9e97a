"""seqart studio: pen-up to the first completed point on the Draw page, and the Perform monitor
against a running show (events/s it follows; the show's p99 arrival error with and without it).

    .venv/bin/python benchmarks/studio_latency.py            # about 3 minutes
    .venv/bin/python benchmarks/studio_latency.py --quick    # seconds: a smoke run

Latency: a real `seqart studio` process and headless Debian chromium (Selenium, chromedriver).
Each trial draws one stroke with mouse events; the page times from its pointerup handler to
the first model point drawn on the canvas (performance.now(), `data-latency-ms`), the shipped
sheep model at temperature 0.4, a new seed each time.

Monitor: `seqart perform` (a real process) plays the shipped sheep as a drawing machine, its OSC
going as timetagged bundles (25 ms ahead) to benchmarks/live_receiver.py in its own process,
which stamps each on arrival. The arrival error is arrival minus the planned send time
(timetag - ahead), as in live_rate.py --mode bundle. With the monitor, a studio process has the
show send it a copy (/seqart/monitor) and a WebSocket client here counts what the studio passes
on. Runs with and without alternate, at each event rate (the show's tempo sets it: 60 points a
second at 120 BPM).
"""

from __future__ import annotations

import _common  # noqa: F401 - pins threads first
import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _common import ROOT, emit, header, summary
from live_common import BundleReceiver, error_figures

ENV = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}


def free_port(kind=socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_studio() -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, "-m", "seqart.cli", "studio", "--port", "0"], stderr=subprocess.PIPE,
                         text=True, env=ENV)
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", p.stderr.readline()).group(1))
    end = time.time() + 30
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return p, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the studio did not answer")


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="seqart-bench-chromium-")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1100,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait(drv, script: str, timeout: float = 30.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout, poll_frequency=0.02).until(lambda d: d.execute_script("return " + script))


def pen_up_latency(port: int, trials: int) -> dict:
    """ms from pointerup to the first model point drawn, one stroke per trial."""
    from selenium.webdriver.common.action_chains import ActionChains

    drv = chromium()
    try:
        drv.get(f"http://127.0.0.1:{port}/draw")
        wait(drv, "document.body.dataset.ready")
        out = []
        for i in range(trials + 1):  # the first loads the model: reported apart
            drv.find_element("id", "new").click()
            drv.execute_script("delete document.body.dataset.latencyMs")
            board = drv.find_element("id", "board")
            chain = ActionChains(drv).move_to_element_with_offset(board, -150, -20).click_and_hold()
            for _ in range(10):
                chain.move_by_offset(14, 2 + i % 3)
            chain.release().perform()
            out.append(float(wait(drv, "document.body.dataset.latencyMs")))
        return {"first_ms_model_load": round(out[0], 2), "ms": summary(out[1:], scale=1.0)}
    finally:
        drv.quit()


class MonitorClient:
    """A WebSocket client that has the studio monitor a show and counts the events it passes on."""

    def __init__(self, studio_port: int, control_port: int):
        from websockets.sync.client import connect

        self._opened = connect(f"ws://127.0.0.1:{studio_port}/ws", max_size=None)
        self.ws = self._opened.__enter__()
        self.ws.send(json.dumps({"cmd": "monitor", "control": control_port}))
        self.tags: list[float] = []  # each event's timetag (unix s)
        self.first = self.last = None
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self.running:
            try:
                m = json.loads(self.ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed at the end
                return
            if m.get("type") == "osc" and m["events"]:
                self.tags += [e[0] for e in m["events"]]

    def close(self) -> None:
        self.running = False
        self._opened.__exit__(None, None, None)
        self.thread.join(2)


def show(tempo: float, seconds: float, studio_port: int | None) -> dict:
    """One run of the show; its arrival errors, and what the monitor passed on if there is one."""
    recv_port, control = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        piece = Path(tmp) / "show.toml"
        piece.write_text(f'[piece]\nmodel = "sheep"\ntemperature = 0.4\ngap_beats = 0.5\nseed = 1\n'
                         f'[clock]\ntempo = {tempo}\nref_bpm = 120.0\n[osc]\nmode = "bundle"\nahead_ms = 25.0\n'
                         f'[control]\nosc_port = {control}\n')
        receiver = BundleReceiver(recv_port, Path(tmp) / "bundles.tsv", realtime=False)
        proc = subprocess.Popen([sys.executable, "-m", "seqart.cli", "perform", str(piece), "--osc",
                                 f"127.0.0.1:{recv_port}", "--duration", str(seconds + 3)],
                                stderr=subprocess.DEVNULL, env=ENV)
        time.sleep(3.0)  # the model loads and the show starts
        client = MonitorClient(studio_port, control) if studio_port else None
        proc.wait(seconds + 60)
        if client:
            time.sleep(0.3)
            client.close()
        rows = receiver.stop()
    arr, tags = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    start = arr.min() + 3.0  # judge the same span with and without: after the monitor connected
    keep = arr >= start
    err = arr[keep] - (tags[keep] - 0.025)
    out = {"tempo": tempo, "received_by_show_receiver": int(keep.sum()),
           "events_per_s": round(float(keep.sum()) / max(arr.max() - start, 1e-9), 1),
           "arrival_error": error_figures(err), "arrived_after_timetag": int((arr[keep] > tags[keep]).sum())}
    if client:  # counted over the same span of timetags as the show's receiver
        lo, hi = tags[keep].min(), tags[keep].max()
        seen = int(sum(lo <= t <= hi for t in client.tags))
        out["monitor"] = {"events": seen, "events_per_s": round(seen / max(hi - lo, 1e-9), 1),
                          "share_of_show": round(seen / max(int(keep.sum()), 1), 4)}
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: few trials, short shows")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=12.0, help="of each show run, after the model loads")
    ap.add_argument("--repeats", type=int, default=2, help="runs per condition, alternating")
    ap.add_argument("--tempos", type=float, nargs="+", default=[120.0, 960.0])
    ap.add_argument("--data", default=None, help="unused; accepted like the other scripts")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if a.quick:
        a.trials, a.seconds, a.repeats, a.tempos = 2, 3.0, 1, [240.0]
    result = header("studio_latency")
    studio, port = start_studio()
    try:
        result["pen_up_to_first_point"] = pen_up_latency(port, a.trials) | {
            "model": "sheep (shipped, hidden 512)", "browser": "headless Debian chromium via Selenium"}
        runs = []
        for tempo in a.tempos:
            for r in range(a.repeats):
                order = (False, True) if r % 2 == 0 else (True, False)
                for monitored in order:
                    runs.append(show(tempo, a.seconds, port if monitored else None) | {"monitored": monitored})
        result["show"] = runs
        result["summary"] = _summary(runs)
    finally:
        studio.terminate()
        studio.wait(10)
    result["loadavg_end"] = list(__import__("os").getloadavg())
    emit("studio_latency" + ("_quick" if a.quick else ""), result, a.out)
    return result


def _summary(runs: list[dict]) -> dict:
    """Per tempo: the show's p99 arrival error with and without the monitor (median over runs) and
    the events per second the monitor followed."""
    out = {}
    for tempo in sorted({r["tempo"] for r in runs}):
        with_, without = ([r for r in runs if r["tempo"] == tempo and r["monitored"] is m] for m in (True, False))
        p99 = lambda rs: float(np.median([r["arrival_error"]["p99_ms"] for r in rs]))  # noqa: E731
        out[f"tempo_{tempo:g}"] = {
            "show_events_per_s": float(np.median([r["events_per_s"] for r in with_ + without])),
            "p99_arrival_error_ms_without_monitor": round(p99(without), 3),
            "p99_arrival_error_ms_with_monitor": round(p99(with_), 3),
            "monitor_events_per_s": float(np.median([r["monitor"]["events_per_s"] for r in with_])),
            "monitor_share_of_show_events": float(np.median([r["monitor"]["share_of_show"] for r in with_])),
        }
    return out


if __name__ == "__main__":
    main()
