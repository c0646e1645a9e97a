"""The engine recovers from what a stage throws at it: bad commands, poisoned state, long gaps, races."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
import torch

from live_fixtures import free_port, run_engine, voice, write_piece
from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.live.clock import InternalClock
from seqart.live.engine import Engine
from seqart.live.events import Event
from seqart.live.osc_out import OscUdpSink
from seqart.live.piece import load_piece
from seqart.live.scheduler import Scheduler
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)


def sent_after(echo, t: float) -> int:
    return sum(1 for sent, *_ in echo.rows if sent > t)


def test_a_failing_command_is_reported_and_the_performance_goes_on(tiny_strokes):
    wrong = Clip(np.zeros((5, 2), np.float32), ("a", "b"), "strokes", fps=200.0)  # not this model's channels
    t0 = time.time()
    eng, echo, lines = run_engine(tiny_strokes, 1.6, commands=[(0.5, "prime", (wrong,))])
    assert any(line.startswith("control prime: failed") for line in lines), lines
    assert sent_after(echo, t0 + 1.0) > 50  # still drawing after it


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_a_poisoned_model_state_is_reset_and_playing_continues(tiny_strokes):
    def poison(engine):
        for h in engine.sampler.h:  # what an inf in a prime would leave behind
            h[:] = np.nan

    t0 = time.time()
    eng, echo, lines = run_engine(tiny_strokes, 1.6, commands=[(0.5, "call", (poison,))])
    assert any(line.startswith("generation failed") for line in lines), lines
    assert eng.error is None and sent_after(echo, t0 + 1.0) > 50
    assert all(np.isfinite(args[:2]).all() for _, _, addr, args, _ in echo.rows if addr == "/seqart/pen")


def test_bundles_sent_further_ahead_than_the_lookahead_still_play(tiny_strokes):
    far = EchoSink(ahead=0.3)  # e.g. osc.ahead_ms = 300 to ride out stalls, lookahead 0.15 s
    eng, _, _ = run_engine(tiny_strokes, 1.5, sinks=[far], lookahead=0.15)
    assert len(far.rows) > 100
    assert all(sent <= due - 0.29 for sent, due, *_ in far.rows[5:])  # each left 300 ms before its time


def test_a_long_gap_between_sequences_is_kept_not_mistaken_for_a_clock_jump(tiny_strokes):
    # 8 beats at 480 BPM = 1 s of rest between drawings: longer than the lookahead plus two bars
    eng, echo, _ = run_engine(tiny_strokes, 3.5, gap_beats=8.0, tempo=480.0)
    ends = [due for _, due, addr, *_ in echo.rows if addr == "/seqart/pen/end"]
    assert ends, "no drawing was ever finished and sent"
    after = [due for _, due, addr, *_ in echo.rows if addr == "/seqart/pen" and due > ends[0]]
    assert after and after[0] - ends[0] == pytest.approx(1.0, abs=0.02)  # the rest, to the ms
    assert eng.resyncs == 0 and eng.sequences <= 4


def test_start_after_the_model_ended_begins_a_new_sequence(tiny_strokes):
    eng, echo, _ = run_engine(tiny_strokes, 0.1, on_end="stop")  # warm up the fixture's model
    sampler, renderer = voice(tiny_strokes)
    echo = EchoSink()
    eng = Engine(sampler, renderer, InternalClock(120.0), [echo], lambda line: None, on_end="stop")
    eng.start()
    try:
        end = time.time() + 10
        while eng.playing and time.time() < end:
            eng.run(0.1)
        assert not eng.playing and eng.sequences == 1  # the drawing ended and the engine stopped
        before = len(echo.rows)
        eng.command("start")
        eng.run(1.0)
    finally:
        eng.stop()
    pens = [args for _, _, addr, args, _ in echo.rows[before:] if addr == "/seqart/pen"]
    assert pens and eng.sequences == 2  # a whole new drawing, not just another end
    assert pens[0][2] == 0  # it begins with the pen travelling from the origin


class FlushWhilePreparing(EchoSink):
    """Simulates a flush from another thread landing while the sender prepares an event."""

    def __init__(self):
        super().__init__()
        self.sched = None
        self.flushed = False

    def prepare(self, event, when):
        if not self.flushed:
            self.flushed = True
            self.sched.flush()
        return None


def test_an_event_taken_just_before_a_flush_is_never_sent():
    clock = InternalClock(120.0)
    clock.start(0.0, at=time.time())
    sink = FlushWhilePreparing()
    sched = Scheduler(clock, [sink])
    sink.sched = sched
    sched.queue.extend([Event(0.2, "/a", (1,)), Event(0.3, "/b", (2,))])  # due 0.1 s and 0.15 s from now
    sched.start()
    time.sleep(0.25)
    sched.queue.append(Event(clock.beat_at(time.time()) + 0.1, "/c", (3,)))
    time.sleep(0.2)
    sched.stop()
    assert [row[2] for row in sink.rows] == ["/c"]  # /a was being prepared when the flush came; /b was queued


def test_out_of_range_piece_settings_are_one_line_errors(tmp_path, tiny_strokes):
    piece = write_piece(tmp_path / "p.toml", tiny_strokes, osc={"target": "127.0.0.1:9"})
    for setting, name in [("clock.beats_per_bar=0", "clock.beats_per_bar"), ("osc.ahead_ms=-5", "osc.ahead_ms"),
                          ("midi.latency_ms=-300", "midi.latency_ms"), ("piece.lookahead=0", "piece.lookahead")]:
        with pytest.raises(SeqartError, match=rf"^--set: {name} = .* is out of range"):
            load_piece(piece, [setting])  # the override is named, not the file that holds a good value
    bad = write_piece(tmp_path / "bad.toml", tiny_strokes, clock={"beats_per_bar": 0})
    with pytest.raises(SeqartError, match=r"bad.toml: clock.beats_per_bar = 0 is out of range \[1, 64\]"):
        load_piece(bad)


def test_udp_receiver_is_only_back_when_sends_get_through():
    port = free_port()  # nobody listens: the kernel answers with "port unreachable"
    sink = OscUdpSink(f"127.0.0.1:{port}", mode="message")
    ev = Event(0.0, "/seqart/pen", (0.0, 0.0, 1))
    for _ in range(3):
        sink.send(ev, time.time())
        time.sleep(0.02)
    assert "no receiver listening" in sink.check()
    assert sink.check() is None  # nothing sent since: not "back"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", port))
        sink.send(ev, time.time())  # this one may still meet an earlier "unreachable"
        sink.check()
        sink.send(ev, time.time())
        assert sink.check() == f"osc udp 127.0.0.1:{port}: receiver is back"
        sink.panic()
        rx.settimeout(1.0)
        got = [rx.recv(100)]  # the pen points that got through, then the panic message
        while b"/seqart/panic" not in got[-1]:
            got.append(rx.recv(100))
        assert b"/seqart/pen" in got[0]
    sink.close()


def test_a_tempo_request_while_following_midi_clock_is_answered_not_silently_dropped(tiny_strokes):
    from seqart.live.clock import MidiClock

    sampler, renderer = voice(tiny_strokes)
    lines = []
    eng = Engine(sampler, renderer, MidiClock(100.0), [EchoSink()], lines.append)
    eng.command("tempo", 140.0)
    eng._apply_commands()  # what the generator thread does between steps
    assert eng.clock.tempo == 100.0
    assert lines == ["tempo 140: ignored, the tempo follows the MIDI clock"]


class CallsSink(EchoSink):
    def __init__(self):
        super().__init__()
        self.calls = []

    def panic(self):
        self.calls.append("panic")
        super().panic()

    def release(self):
        self.calls.append("release")
        super().panic()  # the echo sink's panic ends only its own notes anyway


def test_a_player_taking_over_ends_our_notes_without_an_all_notes_off(tiny_notes):
    sampler, renderer = voice(tiny_notes)
    sink = CallsSink()
    eng = Engine(sampler, renderer, InternalClock(120.0), [sink], lambda line: None)
    eng.command("listen")  # what MIDI in sends when the player plays during an answer
    eng._apply_commands()
    eng.command("stop")  # whereas stop is a panic: all notes off, whoever played them
    eng._apply_commands()
    assert sink.calls == ["release", "panic"]
