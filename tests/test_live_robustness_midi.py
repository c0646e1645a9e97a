"""MIDI out/in survive what receivers, players and JACK do: never block the sender, find every loss.

Real TCP sockets on 127.0.0.1 (a receiver that never reads, a black-holed
listener whose accept queue is full) and a real JACK server (dummy driver)
with jack_midi_dump and rtmidi ports restarting between two checks.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import mido
import pytest
import rtmidi
import torch

from live_fixtures import free_port, voice
from live_peers import jack_midi_dump, jack_ports, midi_dump_events, start_jackd
from seqart.errors import SeqartError
from seqart.live.clock import InternalClock
from seqart.live.control import MAX_PRIME_FRAMES
from seqart.live.engine import Engine
from seqart.live.events import Event
from seqart.live.midi_in import MidiListener
from seqart.live.midi_out import MidiSink
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)


def note(pitch: int, ch: int = 0) -> Event:
    return Event(0.0, "/seqart/note", (pitch, 90, 0.25, ch), (pitch, 90, 0.25, ch))


def within(seconds: float, fn, *args):
    """(finished, result or exception) of fn run on a daemon thread for at most `seconds`."""
    out = []

    def run():
        try:
            out.append(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    return (not t.is_alive()), (out[0] if out else None)


def wait_until(pred, timeout: float = 3.0) -> bool:
    end = time.time() + timeout
    while time.time() < end and not pred():
        time.sleep(0.02)
    return pred()


class Receiver:
    """A TCP MIDI receiver: keeps every connection; `read` False never reads a byte."""

    def __init__(self, read: bool = True, port: int = 0):
        self.read, self.data, self.conns = read, bytearray(), []
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small, so a stall shows soon
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.srv.settimeout(0.05)
        while not self._stop.is_set():
            try:
                self.conns.append(self.srv.accept()[0])
            except (socket.timeout, OSError):
                pass
            for c in self.conns if self.read else ():
                c.settimeout(0.01)
                try:
                    self.data += c.recv(65536)
                except (socket.timeout, OSError):
                    pass

    def events(self) -> list[tuple[int, int, int]]:
        d = bytes(self.data)
        return [tuple(d[i:i + 3]) for i in range(0, len(d) - 2, 3)]

    def close(self):
        self._stop.set()
        time.sleep(0.1)
        for c in self.conns:
            c.close()
        self.srv.close()


def test_a_tcp_receiver_that_never_reads_never_blocks_the_sender(tiny_notes):
    rx = Receiver(read=False)
    sink = MidiSink(f"tcp:127.0.0.1:{rx.port}")
    try:
        def pump():  # far more than the kernel's and our buffers hold
            for i in range(30000):
                key = sink.send(note(40 + i % 40), 0.0)
                sink.note_off(key, 0.0)

        finished, err = within(5.0, pump)
        assert finished and err is None, "the sink blocked on a full socket"
        assert sink.dropped > 1000 and sink.sent > 1000
        finished, _ = within(0.5, sink.panic)
        assert finished  # panic (and so stop) returns at once too

        # a whole engine: OSC keeps flowing while the MIDI receiver stays stalled
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(0.05)
        from seqart.live.osc_out import OscUdpSink

        osc = OscUdpSink(f"127.0.0.1:{udp.getsockname()[1]}", "message")
        lines = []
        eng = Engine(*voice(tiny_notes), InternalClock(240.0), [osc, sink], lines.append)
        got = []
        stop = threading.Event()

        def listen():
            while not stop.is_set():
                try:
                    udp.recv(65536)
                    got.append(time.time())
                except socket.timeout:
                    pass

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        eng.start()
        t0 = time.time()
        eng.run(2.6)  # the supervisor's checks see the stall (2 s without a byte taken)
        finished, _ = within(2.0, eng.stop)
        stop.set()
        reader.join(1.0)
        udp.close()
    finally:
        sink.close()
        rx.close()
    assert finished, "stop hung on the stalled MIDI receiver"
    assert len(got) > 4 and max(got) > t0 + 1.8, "OSC stopped flowing"  # the tiny model: a few notes a second
    assert any("the receiver stopped reading" in line for line in lines), lines


def test_a_black_holed_tcp_target_neither_hangs_startup_nor_the_supervisor():
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    port = hole.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))  # the accept queue is full: SYNs now vanish
    try:
        t = time.time()
        finished, err = within(4.0, MidiSink, f"tcp:127.0.0.1:{port}")
        assert finished and isinstance(err, SeqartError) and "cannot open" in str(err), err
        assert time.time() - t < 3.5

        rx = Receiver()
        sink = MidiSink(f"tcp:127.0.0.1:{rx.port}")
        sink.send(note(60), 0.0)
        rx.close()  # the receiver goes, and a black hole takes its place
        hole2 = socket.socket()
        hole2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hole2.bind(("127.0.0.1", rx.port))
        hole2.listen(0)
        filler2 = socket.create_connection(("127.0.0.1", rx.port))
        for i in range(20):  # the reset shows on a later send
            sink.send(note(61 + i), 0.0)
            time.sleep(0.01)
        assert sink.port is None
        t = time.time()
        finished, line = within(2.0, sink.check)
        assert finished and time.time() - t < 0.6, "check() waited on the connect"
        assert "port lost" in line
        sink.close()
        filler2.close()
        hole2.close()
    finally:
        filler.close()
        hole.close()


def test_release_ends_only_our_notes_and_panic_also_sends_all_notes_off():
    rx = Receiver()
    sink = MidiSink(f"tcp:127.0.0.1:{rx.port}")
    try:
        for p in (60, 64, 67):
            sink.send(note(p, ch=2), 0.0)
        sink.release()
        assert wait_until(lambda: len(rx.events()) >= 6)
        time.sleep(0.1)
        ev = rx.events()
        assert sorted((st, n) for st, n, _ in ev[3:]) == [(0x82, 60), (0x82, 64), (0x82, 67)]
        assert not sink.sounding
        sink.send(note(50, ch=2), 0.0)
        sink.panic()
        assert wait_until(lambda: (0xB2, 123, 0) in rx.events())  # panic: CC 123 too
    finally:
        sink.close()
        rx.close()


class DyingPort(mido.ports.BaseOutput):
    """Fault injection: a port whose send raises rtmidi's InvalidUseError (a RuntimeError), as a
    dead rtmidi port can; no real port raises it on demand."""

    def _send(self, msg):
        raise rtmidi.InvalidUseError("the port is dead")


def test_a_send_raising_anything_loses_the_port_and_the_sender_goes_on():
    rx = Receiver()
    sink = MidiSink(f"tcp:127.0.0.1:{rx.port}")
    try:
        sink.send(note(60), 0.0)
        with sink._lock:
            sink.port = DyingPort()
        key = sink.send(note(62), 0.0)  # must not raise into the sending thread
        sink.note_off(key, 0.0)
        assert sink.errors == 1 and sink.port is None
        line = sink.check()
        assert "port lost (InvalidUseError: the port is dead); reconnected; ended 2 notes" in line, line
        sink.send(note(64), 0.0)
        assert wait_until(lambda: (0x90, 64, 90) in rx.events()) and len(rx.conns) == 2
    finally:
        sink.close()
        rx.close()


# --- JACK ---------------------------------------------------------------------------------------
@pytest.fixture
def jack():
    """{"proc": our jackd or None when one was already running (then it is never restarted)}."""
    state = {"proc": start_jackd()}
    yield state
    if state["proc"] is not None:
        state["proc"].stop()


@pytest.mark.peer
def test_a_jack_target_restarting_between_two_checks_is_reconnected(jack):
    first = jack_midi_dump()
    sink = MidiSink("seqart_peer:input", "jack")
    second = None
    try:
        sink.send(note(60), 0.0)
        assert wait_until(lambda: midi_dump_events(first))
        first.stop()
        second = jack_midi_dump()  # the same port name, back before the next check
        line = sink.check()
        assert line and "JACK dropped our connection" in line and "reconnected" in line, line
        sink.send(note(62), 0.0)
        assert wait_until(lambda: any(e[:2] == (0x90, 62) for e in midi_dump_events(second))), second.text()
    finally:
        sink.close()
        first.stop()
        if second is not None:
            second.stop()


@pytest.mark.peer
def test_a_jack_server_restart_reopens_a_virtual_port(jack):
    if jack["proc"] is None:
        pytest.skip("a JACK server was already running here; it is not ours to restart")
    sink = MidiSink("virtual:seqart-robust", "jack")
    try:
        assert any(p.endswith(":seqart-robust") for p in jack_ports())
        assert sink.check() is None
        jack["proc"].stop()
        jack["proc"] = start_jackd()
        line = sink.check()
        assert line and "JACK server" in line and "reconnected" in line, line
        assert any(p.endswith(":seqart-robust") for p in jack_ports())
    finally:
        sink.close()


@pytest.mark.peer
def test_midi_in_leaves_jacks_thread_alone_and_reconnects_a_restarted_source(jack, tiny_notes):
    def source():
        out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="seqart-src")
        out.open_virtual_port("out")
        return out

    src = source()
    eng = Engine(*voice(tiny_notes), InternalClock(120.0), [EchoSink()], rt_priority=20)
    lines = []
    listener = MidiListener(eng, "seqart-src:out", "jack", status=lines.append)
    tids = []
    feed = listener.feed
    listener.feed = lambda msg, t, source=None: (tids.append(threading.get_native_id()), feed(msg, t, source))
    try:
        src.send_message([0x90, 60, 90])
        assert wait_until(lambda: listener.received == 1)
        if jack["proc"] is not None:  # our jackd runs --no-realtime: JACK's thread is a normal one
            assert os.sched_getscheduler(tids[0]) == os.SCHED_OTHER
        src.delete()
        src = source()  # the source restarts at once: same name, JACK dropped the connection
        assert wait_until(lambda: any("reconnected" in line for line in lines), 4.0), lines
        assert any("port lost" in line and "released 1 held keys" in line for line in lines), lines
        assert not listener.held
        src.send_message([0x90, 62, 90])
        assert wait_until(lambda: listener.received == 2), lines
    finally:
        listener.close()
        src.delete()


# --- MIDI in over TCP -----------------------------------------------------------------------------
class Player:
    """Raw MIDI bytes over a plain TCP socket (mido's SocketPort.close leaves the socket open
    while its file objects live, so the server would never see the player leave)."""

    def __init__(self, port: int):
        for _ in range(50):
            try:
                self.sock = socket.create_connection(("127.0.0.1", port))
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"could not connect to 127.0.0.1:{port}")

    def send(self, msg: mido.Message) -> None:
        self.sock.sendall(msg.bin())

    def close(self) -> None:
        self.sock.close()


def test_a_player_lost_with_a_key_down_still_gets_an_answer(tiny_notes):
    lines = []
    eng = Engine(*voice(tiny_notes), InternalClock(240.0), [EchoSink()], lines.append)
    port = free_port(socket.SOCK_STREAM)
    listener = MidiListener(eng, f"tcp:127.0.0.1:{port}", respond=True, silence_beats=2.0, answer_beats=2.0,
                            status=lines.append)
    eng.start()
    player = Player(port)
    try:
        for pitch in (60, 62):
            player.send(mido.Message("note_on", note=pitch, velocity=90))
            time.sleep(0.05)
            player.send(mido.Message("note_off", note=pitch))
        player.send(mido.Message("note_on", note=64, velocity=90))
        time.sleep(0.1)
        player.close()  # the cable is pulled with the key still down
        eng.run(1.5)
    finally:
        listener.close()
        eng.stop()
    assert any("disconnected; released 1 held keys" in line for line in lines), lines
    assert listener.answers == 1 and not listener.held, lines


@pytest.mark.parametrize("respond", [False, True])
def test_the_phrase_is_kept_only_when_responding_and_is_bounded(tiny_notes, respond):
    eng = Engine(*voice(tiny_notes), InternalClock(120.0), [EchoSink()])
    port = free_port(socket.SOCK_STREAM)
    listener = MidiListener(eng, f"tcp:127.0.0.1:{port}", respond=respond, silence_beats=1000.0)
    player = Player(port)
    try:
        n = MAX_PRIME_FRAMES + 500
        for i in range(n):
            player.send(mido.Message("note_on", note=40 + i % 40, velocity=90))
            player.send(mido.Message("note_off", note=40 + i % 40))
        assert wait_until(lambda: listener.received == 2 * n, 10.0)
    finally:
        player.close()
        listener.close()
    assert len(listener.phrase) == (MAX_PRIME_FRAMES if respond else 0)
