"""The studio watches a running `seqart perform` (a real process) and steers it with OSC control."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from live_fixtures import free_port, write_piece
from studio_fixtures import ROOT, Studio, ask, need_studio

need_studio()


class Show:
    """`seqart perform` of the shipped sheep drawing, its OSC going to a UDP socket held here."""

    def __init__(self, tmp_path, seconds: float = 60.0):
        self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sink.bind(("127.0.0.1", 0))
        self.control = free_port()
        piece = write_piece(tmp_path / "show.toml", "sheep", piece={"temperature": 0.4, "status_every": 0.2},
                            control={"osc_port": self.control})
        target = f"127.0.0.1:{self.sink.getsockname()[1]}"
        self.proc = subprocess.Popen([sys.executable, "-m", "seqart.cli", "perform", str(piece), "--osc", target,
                                      "--duration", str(seconds)], stderr=subprocess.PIPE, text=True,
                                     env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})

    def wait_for_status(self, text: str, timeout: float = 30.0) -> str:
        end = time.time() + timeout
        while time.time() < end:
            line = self.proc.stderr.readline()
            if text in line:
                return line
            if not line and self.proc.poll() is not None:
                break
        raise AssertionError(f"perform never said {text!r}")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stderr.close()
        self.sink.close()


@pytest.fixture
def show(tmp_path):
    s = Show(tmp_path)
    s.wait_for_status("sent")  # a status line: it is playing
    yield s
    s.close()


@pytest.fixture(scope="module")
def studio():
    s = Studio()
    yield s
    s.close()


def test_the_monitor_sees_the_shows_events_and_steers_it(studio, show):
    with studio.socket() as ws:
        got = ask(ws, {"cmd": "monitor", "control": show.control}, until=("monitoring",))
        assert got[-1]["port"] > 0
        events, end = [], time.time() + 20
        while len(events) < 20 and time.time() < end:
            m = __import__("json").loads(ws.recv(timeout=10))
            if m["type"] == "osc":
                events += m["events"]
        assert len(events) >= 20 and {e[1] for e in events} <= {"/seqart/pen", "/seqart/pen/end"}
        assert all(len(e[2]) == 3 for e in events if e[1] == "/seqart/pen")
        ask(ws, {"cmd": "steer", "address": "/seqart/temperature", "args": [0.9]}, until=("steered",))
        show.wait_for_status("temp 0.90")
        bad = ask(ws, {"cmd": "steer", "address": "/seqart/temperature", "args": [99]}, until=("error",))
        assert "out of range" in bad[-1]["message"]
        bad = ask(ws, {"cmd": "steer", "address": "/seqart/model", "args": ["/etc/passwd"]}, until=("error",))
        assert "not a control the studio sends" in bad[-1]["message"]
        ask(ws, {"cmd": "unmonitor"}, until=("unmonitored",))
    show.wait_for_status("monitor off")


def connect_page(page, studio, control: int) -> int:
    """Open the Perform page and connect it to the show's control port; the monitor port it opened."""
    from browser import wait_for

    page.get(studio.base + "/perform")
    wait_for(page, "document.body.dataset.ready")
    field = page.find_element("id", "control")
    field.clear()
    field.send_keys(str(control))
    page.find_element("id", "connect").click()
    return int(wait_for(page, "document.body.dataset.monitoring"))


def test_the_perform_page_connects_shows_events_and_stops_the_show(studio, show):
    from browser import browser, close, wait_for

    page = browser()
    try:
        connect_page(page, studio, show.control)
        wait_for(page, "Number(document.getElementById('received').textContent) >= 10")
        assert "/seqart/pen" in page.find_element("id", "events").text
        page.find_element("css selector", "[data-steer='/seqart/stop']").click()
        wait_for(page, "document.body.dataset.steered === '/seqart/stop'")
        show.wait_for_status("stopped")
    finally:
        close(page)


def test_the_perform_page_shows_what_arrives_as_text_not_html(studio):
    """Anything on this machine can send the monitor port a datagram: its address and arguments are
    shown as text, so markup in them makes no element in the studio's page."""
    from browser import browser, close, wait_for
    from seqart.studio.monitor import osc

    control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # stands for a show's control port
    control.bind(("127.0.0.1", 0))
    page = browser()
    try:
        port = connect_page(page, studio, control.getsockname()[1])
        markup = '<img id="injected" src="x">'
        control.sendto(osc("/seqart/" + markup, [markup]), ("127.0.0.1", port))
        wait_for(page, "Number(document.getElementById('received').textContent) >= 1")
        assert page.execute_script("return document.getElementById('injected')") is None
        assert page.find_element("id", "events").text.count(markup) == 2
    finally:
        close(page)
        control.close()
