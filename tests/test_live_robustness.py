"""The OSC control server outlives anything a packet can do, and its primes cannot hurt the model.

Real UDP on 127.0.0.1 to a running ControlServer (and engine). MIDI in/out
robustness: test_live_robustness_midi.py.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from live_fixtures import voice
from seqart.live.clock import InternalClock
from seqart.live.control import MAX_PRIME_FRAMES, ControlServer
from seqart.live.engine import Engine
from seqart.live.scheduler import realtime
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)


def built(address: str, *args):
    """An OSC message; args are (value, type tag) pairs so doubles can be sent as 'd'."""
    b = OscMessageBuilder(address)
    for value, tag in args:
        b.add_arg(value, tag)
    return b.build()


def message(address: str, *args) -> bytes:
    return built(address, *args).dgram


def nested_bundle(depth: int, inner: bytes) -> bytes:
    """`depth` bundles, each holding only the next: 20 bytes a level."""
    pkt = inner
    for _ in range(depth):
        pkt = b"#bundle\0" + struct.pack(">Qi", 1, len(pkt)) + pkt
    return pkt


def wait_until(pred, timeout: float = 3.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


class Rig:
    """An engine (echo output) with a control server; `loader` like perform's: loads what it is told."""

    def __init__(self, folder: Path, loader=None, start: bool = True):
        sampler, renderer = voice(folder)
        self.echo, self.lines = EchoSink(), []
        self.eng = Engine(sampler, renderer, InternalClock(120.0), [self.echo], self.lines.append, gap_beats=0.02)
        loader = loader or (lambda kind, text: (*voice(Path(text).expanduser()), text))
        self.server = ControlServer(self.eng, 0, status=self.lines.append, loader=loader)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.started = start
        if start:
            self.eng.start()

    def send(self, packet: bytes) -> None:
        self.sock.sendto(packet, ("127.0.0.1", self.server.port))

    def handled(self) -> int:
        return self.server.accepted + self.server.rejected

    def close(self) -> None:
        self.sock.close()
        self.server.close()
        if self.started:
            self.eng.stop()


@pytest.fixture
def notes_rig(tiny_notes):
    rig = Rig(tiny_notes)
    yield rig
    rig.close()


def test_packets_that_used_to_kill_the_control_thread_are_dropped(notes_rig, tmp_path):
    r = notes_rig
    deep = nested_bundle(3000, message("/seqart/reset"))  # python-osc recurses once per level
    assert 60_000 < len(deep) < 65_000
    r.send(deep)
    r.send(message("/seqart/prime/file", (str(tmp_path / "missing.mid"), "s")))  # refused before any read
    r.send(message("/seqart/prime/file", ("~nouser_seqart/x.mid", "s")))  # RuntimeError (expanduser)
    r.send(message("/seqart/model", ("~nouser_seqart/x", "s")))  # the loader's RuntimeError
    assert wait_until(lambda: r.handled() >= 4), r.lines
    r.send(message("/seqart/temperature", (0.3, "f")))
    assert wait_until(lambda: r.server.accepted == 1), r.lines
    r.eng.run(0.3)
    assert r.eng.sampler.temperature == pytest.approx(0.3) and r.server.rejected == 4
    assert r.server._thread.is_alive() and r.eng.error is None
    reports = [line for line in r.lines if line.startswith("control: dropped")]
    assert any("RecursionError" in line for line in reports), reports
    assert any("missing.mid: no such file" in line for line in reports), reports
    assert sum("RuntimeError" in line for line in reports) == 2, reports


def test_python_osc_warnings_stay_within_the_report_limit(tiny_strokes, caplog):
    r = Rig(tiny_strokes, start=False)
    try:
        odd = b"#bundle\0" + struct.pack(">Qi", 1, 4) + b"abcd"  # a bundle part that is neither message nor bundle
        caplog.set_level(logging.DEBUG)
        second = int(time.time())
        while time.time() - second > 0.7:  # all twenty within one second
            time.sleep(0.05)
            second = int(time.time())
        for _ in range(20):
            r.send(odd)
        assert wait_until(lambda: r.server.rejected >= 20), r.lines
    finally:
        r.close()
    assert not [rec for rec in caplog.records if "pythonosc" in rec.pathname]
    reports = [line for line in r.lines if line.startswith("control: dropped")]
    assert 1 <= len(reports) <= 5 and "bundle part(s) not OSC" in reports[0]


def test_prime_numbers_must_be_finite_in_float32_and_bounded(tiny_strokes):
    r = Rig(tiny_strokes)
    try:
        r.eng.run(0.3)
        r.send(message("/seqart/prime/frames", (1e300, "d"), (0.0, "d"), (0.0, "d")))  # inf as float32
        r.send(message("/seqart/prime/frames", (1e20, "f"), (0.0, "f"), (0.0, "f")))  # finite but absurd
        r.send(message("/seqart/prime/drawing", (0.0, "f"), (0.0, "f"), (0.0, "f"), (3e38, "d"), (0.0, "d"),
                       (1.0, "d")))
        assert wait_until(lambda: r.handled() >= 3), r.lines
        n = len(r.echo.rows)
        r.eng.run(0.5)
    finally:
        r.close()
    assert r.server.rejected == 3 and r.server.accepted == 0, r.lines
    assert r.eng.error is None and len(r.echo.rows) > n + 10  # still generating
    args = np.array([v for _sent, _due, _addr, vals, _note in r.echo.rows[n:] for v in vals if isinstance(v, float)])
    assert np.isfinite(args).all()


def test_a_prime_after_a_model_switch_in_one_bundle_is_built_for_the_new_model(tiny_strokes, tiny_notes):
    r = Rig(tiny_strokes, loader=lambda kind, text: (*voice(tiny_notes, seed=5), text))
    try:
        r.eng.run(0.2)
        b = OscBundleBuilder(IMMEDIATELY)
        b.add_content(built("/seqart/model", ("notes", "s")))
        b.add_content(built("/seqart/prime/phrase", *[(float(v), "f") for v in (60, 90, 0, .5, 64, 90, .5, .5)]))
        r.send(b.build().dgram)
        assert wait_until(lambda: r.handled() >= 2), r.lines
        r.eng.run(0.5)
    finally:
        r.close()
    assert r.server.accepted == 2 and r.server.rejected == 0, r.lines
    assert r.eng.error is None and r.eng.sampler.codec.modality == "notes" and r.eng.name == "notes"


def test_a_long_prime_is_cut_to_its_last_frames_and_says_so(tiny_strokes):
    r = Rig(tiny_strokes, start=False)  # the generator does not run: the queued command stays to be read
    try:
        n = 4000  # 12,000 floats: about 60 KB, near what one UDP packet holds
        frames = np.column_stack([np.arange(n), np.zeros(n), np.arange(n) % 2]).astype(np.float32)
        r.send(message("/seqart/prime/frames", *[(float(v), "f") for v in frames.ravel()]))  
        assert wait_until(lambda: r.handled() >= 1), r.lines
    finally:
        r.close()
    assert r.server.accepted == 1, r.lines
    name, (clip,) = r.eng.commands.get_nowait()
    assert name == "prime" and len(clip) == MAX_PRIME_FRAMES
    assert clip.channel("dx")[0] == n - MAX_PRIME_FRAMES and clip.channel("dx")[-1] == n - 1  # the last ones
    assert any(f"kept the last {MAX_PRIME_FRAMES} of {n} frames" in line for line in r.lines), r.lines


def _fifo_allowed() -> bool:
    out = []
    t = threading.Thread(target=lambda: out.append(realtime(1)))
    t.start()
    t.join()
    return out == [None]


def test_the_control_thread_runs_at_normal_priority(tiny_strokes):
    if not _fifo_allowed():
        pytest.skip("SCHED_FIFO is not granted here, so nothing could raise the control thread")
    sampler, renderer = voice(tiny_strokes)
    eng = Engine(sampler, renderer, InternalClock(120.0), [EchoSink()], rt_priority=20)
    made = []

    def make():  # created from a real-time thread, as a thread inherits its creator's policy
        realtime(1)
        made.append(ControlServer(eng, 0))

    t = threading.Thread(target=make)
    t.start()
    t.join()
    server = made[0]
    try:
        time.sleep(0.3)
        assert os.sched_getscheduler(server._thread.native_id) == os.SCHED_OTHER
    finally:
        server.close()
