"""The writing machine live: texts sent to /seqart/write over a real OSC socket come back as /seqart/pen."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_packet import OscPacket
from pythonosc.udp_client import SimpleUDPClient

from live_fixtures import free_port, write_piece
from seqart.api import perform
from seqart.codecs.strokes import clip_to_stroke3
from seqart.handwrite import write_line
from tests.test_handwriting_page import save_writer

SCALE, ORIGIN, STEP = 0.5, (10.0, 20.0), (0.0, 300.0)


class Receiver:
    """Collects every OSC message arriving on a UDP port of 127.0.0.1, bundles unpacked."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port, self.messages, self.closed = self.sock.getsockname()[1], [], False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.messages += [(m.message.address, list(m.message.params)) for m in OscPacket(data).messages]

    def wait_for(self, address: str, n: int, timeout: float = 20.0) -> None:
        end = time.time() + timeout
        while sum(a == address for a, _ in self.messages) < n and time.time() < end:
            time.sleep(0.05)
        assert sum(a == address for a, _ in self.messages) >= n, self.messages[-5:]

    def close(self):
        self.closed = True
        self.thread.join(1)
        self.sock.close()


def expected_pens(clip, origin) -> np.ndarray:
    """(N, 3) x, y, down of the pen messages a written line makes (see codecs/strokes/live.py)."""
    s3 = clip_to_stroke3(clip)
    xy = np.cumsum(s3[:, :2], 0) * SCALE + origin
    down = np.concatenate([[0], s3[:-1, 2] == 0])
    return np.column_stack([xy, down])


@pytest.mark.slow
def test_writing_machine_writes_each_text_once_in_order_and_rests(tmp_path):
    model = save_writer(tmp_path / "model")
    rx, ctl, lines = Receiver(), free_port(), []
    piece = write_piece(tmp_path / "w.toml", model,
                        piece={"seed": 3, "temperature": 0.8, "bias": 1.0, "realtime": False, "gap_beats": 0.1},
                        clock={"tempo": 480.0, "ref_bpm": 120.0},
                        render={"scale": SCALE, "origin": list(ORIGIN), "line_step": list(STEP)},
                        osc={"target": f"127.0.0.1:{rx.port}", "mode": "message"}, control={"osc_port": ctl})
    show = threading.Thread(target=perform, args=(piece,), kwargs={"duration": 12.0, "status": lines.append})
    show.start()
    try:
        time.sleep(1.5)
        assert not rx.messages  # no text yet: the pen rests
        send = SimpleUDPClient("127.0.0.1", ctl)
        send.send_message("/seqart/write", "café")  # refused: a status line names the character
        send.send_message("/seqart/write", "hello")
        send.send_message("/seqart/write", "go on")  # arrives while "hello" is written: waits its turn
        rx.wait_for("/seqart/pen/end", 2)
        time.sleep(0.5)
        settled = len(rx.messages)
        time.sleep(0.5)
        assert len(rx.messages) == settled  # both written once; then the pen rests again
    finally:
        show.join(20)
        rx.close()
    assert any("dropped /seqart/write" in x and "'é' not in the model's alphabet" in x for x in lines), lines
    pens = [[], []]
    line = 0
    for address, args in rx.messages:
        if address == "/seqart/pen/end":
            line += 1
        elif address == "/seqart/pen":
            pens[line].append(args)
    assert line == 2
    for i, (text, origin) in enumerate([("hello", ORIGIN), ("go on", np.add(ORIGIN, STEP))]):
        got = np.asarray(pens[i], np.float64)
        if i == 0:  # the first line is the one `seqart write` makes with the same seed and settings
            want = expected_pens(write_line(model, text, seed=3, temperature=0.8, bias=1.0), origin)
            assert got.shape == want.shape and np.allclose(got, want, atol=1e-3)
        assert np.allclose(got[0, :2], origin, atol=5 * SCALE * 3)  # each text starts at its own line
        assert len(got) > 5 * len(text)
