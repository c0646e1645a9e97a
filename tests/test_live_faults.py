"""Faults on stage: receivers absent or restarting, MIDI ports vanishing and coming back.

Through each, `seqart perform` keeps time, says what happened in one line and
loses no note-off. (Malformed control messages: test_live_control.py; a model
switched mid-piece and a crash: test_live_engine.py.)
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest

from live_fixtures import free_port, write_piece
from live_peers import (KEPT_TIME_MS, balanced_bytes, jack_midi_dump, midi_dump_events, oscdump, oscdump_messages,
                        start_jackd, start_perform, wait_balanced, worst_late_ms)

pytestmark = pytest.mark.peer


def status_lines(proc) -> list[str]:
    return [t for _, t in proc.lines]


def test_osc_receiver_absent_then_restarting(tmp_path, tiny_strokes):
    port = free_port()
    piece = write_piece(tmp_path / "p.toml", tiny_strokes, piece={"gap_beats": 0.02},
                        osc={"target": f"127.0.0.1:{port}", "mode": "message"})
    perf = start_perform(piece, 7.0)
    assert perf.wait_for("no receiver listening", 12), perf.text()
    first = oscdump(port)
    assert perf.wait_for("receiver is back", 4), perf.text()
    time.sleep(0.5)
    first.stop()  # the receiver crashes ...
    time.sleep(1.5)
    second = oscdump(port)  # ... and restarts
    perf.p.wait(15)
    second.stop()
    lines = status_lines(perf)
    assert perf.p.returncode == 0, lines
    assert len(oscdump_messages(first, "/seqart/pen")) > 50 and len(oscdump_messages(second, "/seqart/pen")) > 50
    done = [line for line in lines if line.startswith("done:")][0]
    assert worst_late_ms(done) < KEPT_TIME_MS, done  # kept time through it all (see worst_late_ms)


class RawMidiServer:
    """A stdlib TCP listener that decodes raw MIDI bytes (no mido), and can vanish and return."""

    def __init__(self, port: int):
        self.port, self.events, self.connections = port, [], 0
        self._stop = threading.Event()
        self.listen()

    def listen(self):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", self.port))
        self.srv.listen(2)
        self._stop.clear()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.srv.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(0.1)
            buf = b""
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except socket.timeout:
                    continue
                if not data:
                    break
                buf += data
                while len(buf) >= 3 and buf[0] & 0x80:  # the engine sends whole 3-byte messages
                    self.events.append((buf[0], buf[1], buf[2]))
                    buf = buf[3:]
            conn.close()

    def vanish(self):
        self._stop.set()
        self.thread.join(2)
        self.srv.close()


def test_midi_tcp_port_vanishes_and_returns_without_losing_note_offs(tmp_path, tiny_notes):
    port = free_port(socket.SOCK_STREAM)
    server = RawMidiServer(port)
    piece = write_piece(tmp_path / "p.toml", tiny_notes, clock={"tempo": 240.0},
                        midi={"port": f"tcp:127.0.0.1:{port}"})
    perf = start_perform(piece, 7.0)
    try:
        assert perf.wait_for(r"^\s+1\.0s playing", 20), perf.text()
        time.sleep(1.0)
        before = len(server.events)
        server.vanish()
        assert perf.wait_for("port lost", 6), perf.text()
        time.sleep(0.5)
        server.listen()
        assert perf.wait_for("reconnected; ended", 4), perf.text()
        perf.p.wait(15)
    finally:
        server.vanish()
    lines = status_lines(perf)
    assert perf.p.returncode == 0, lines
    assert before > 4 and server.connections == 2
    # every note-on that arrived is followed by its note-off (or all-notes-off on its channel)
    pending = set()
    for st, note, val in server.events:
        kind, ch = st & 0xF0, st & 0x0F
        if kind == 0x90 and val > 0:
            pending.add((ch, note))
        elif kind in (0x80, 0x90):
            pending.discard((ch, note))
        elif kind == 0xB0 and note == 123:
            pending = {p for p in pending if p[0] != ch}
    assert not pending, pending
    assert worst_late_ms("\n".join(lines)) < KEPT_TIME_MS


def test_jack_midi_port_vanishes_and_returns(tmp_path, tiny_notes):
    jackd = start_jackd()
    try:
        first = jack_midi_dump()
        piece = write_piece(tmp_path / "p.toml", tiny_notes, clock={"tempo": 240.0},
                            midi={"port": "seqart_peer:input", "api": "jack"})
        perf = start_perform(piece, 7.0)
        assert perf.wait_for(r"^\s+1\.0s playing", 20), perf.text()
        time.sleep(0.5)
        first.stop()
        assert perf.wait_for("port lost", 5), perf.text()
        second = jack_midi_dump()
        assert perf.wait_for("reconnected; ended", 5), perf.text()
        perf.p.wait(15)
        wait_balanced(second, _balanced_after_first_on)
        second.stop()
    finally:
        if jackd is not None:
            jackd.stop()
    assert perf.p.returncode == 0, perf.text()
    assert len(midi_dump_events(first)) > 2
    ev = midi_dump_events(second)
    assert _balanced_after_first_on(ev), ev[-8:]


def _balanced_after_first_on(ev) -> bool:
    """The reconnect first ends what was sounding (offs and all-notes-off), then plays on in pairs."""
    first_on = next((i for i, e in enumerate(ev) if e[0] & 0xF0 == 0x90 and e[2] > 0), None)
    return first_on is not None and balanced_bytes(ev[first_on:])


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP", "SIGINT twice"])
def test_ctrl_c_and_sigterm_end_every_sounding_note(tmp_path, tiny_notes, sig):
    import signal

    port = free_port(socket.SOCK_STREAM)
    server = RawMidiServer(port)
    piece = write_piece(tmp_path / "p.toml", tiny_notes, clock={"tempo": 240.0},
                        midi={"port": f"tcp:127.0.0.1:{port}"})
    perf = start_perform(piece, 30.0)
    try:
        assert perf.wait_for(r"^\s+1\.0s playing", 20), perf.text()
        end = time.time() + 15
        while sum(1 for e in server.events if e[0] & 0xF0 == 0x90 and e[2] > 0) < 3 and time.time() < end:
            time.sleep(0.05)
        perf.p.send_signal(getattr(signal, sig.split()[0]))
        if sig.endswith("twice"):  # performers press Ctrl-C again, maybe while it is cleaning up
            time.sleep(0.005)
            perf.p.send_signal(signal.SIGINT)
        try:
            perf.p.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"perform still running 10 s after {sig}:\n{perf.text()[-1500:]}")
        time.sleep(0.3)
    finally:
        perf.stop()  # never left playing for its 30 s beside the next tests
        server.vanish()
    # a second Ctrl-C that lands after the clean-up has finished may still end the process by SIGINT
    assert perf.p.returncode == 0 or (sig.endswith("twice") and perf.p.returncode == -2), perf.text()
    assert perf.wait_for("stopping: all notes off", 1) and perf.wait_for("^done:", 1)
    ons = [e for e in server.events if e[0] & 0xF0 == 0x90 and e[2] > 0]
    assert len(ons) > 2
    # the stream ends with every note off: per pitch, the last message is never a note-on
    last = {}
    for st, note, val in server.events:
        if st & 0xF0 in (0x80, 0x90):
            last[(st & 0x0F, note)] = st & 0xF0 == 0x90 and val > 0
    assert not any(last.values())
    assert any(st & 0xF0 == 0xB0 and note == 123 for st, note, _ in server.events)  # all-notes-off too
