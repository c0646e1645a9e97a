"""MIDI in: call and response over mido's TCP sockets, and an external MIDI clock driving the engine."""

from __future__ import annotations

import socket
import time

import mido
import pytest
import torch

from live_fixtures import free_port, voice
from seqart.live.clock import InternalClock, MidiClock
from seqart.live.engine import Engine
from seqart.live.midi_in import MidiListener
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)


def connect(port: int, tries: int = 50):
    for _ in range(tries):
        try:
            return mido.sockets.connect("127.0.0.1", port)
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"could not connect to 127.0.0.1:{port}")


def test_answers_a_phrase_after_silence_then_listens_again(tiny_notes):
    sampler, renderer = voice(tiny_notes)
    echo, lines = EchoSink(), []
    eng = Engine(sampler, renderer, InternalClock(240.0), [echo], lines.append)
    port = free_port(socket.SOCK_STREAM)
    listener = MidiListener(eng, f"tcp:127.0.0.1:{port}", respond=True, silence_beats=2.0, answer_beats=4.0,
                            status=lines.append)
    eng.start()
    player = connect(port)
    try:
        eng.run(0.5)
        assert echo.rows == []  # nothing is played before the call
        for pitch in (60, 62, 64, 65):  # the call: four notes, 0.1 s each
            player.send(mido.Message("note_on", note=pitch, velocity=90))
            time.sleep(0.1)
            player.send(mido.Message("note_off", note=pitch))
        t_call_end = time.time()
        eng.run(2.5)  # 2 beats of silence = 0.5 s, then a 4-beat (1 s) answer
    finally:
        player.close()
        listener.close()
        eng.stop()
    assert listener.answers == 1 and any("heard 4 notes; answering for 4.0 beats" in line for line in lines)
    sent = [s for s, *_ in echo.rows]
    assert sent and min(sent) >= t_call_end + 0.45  # it waited for the silence
    assert max(sent) <= t_call_end + 0.5 + 1.0 + 0.2  # and stopped after four beats
    assert not echo.sounding  # every note of the answer ended


def test_engine_follows_an_external_midi_clock(tiny_notes):
    sampler, renderer = voice(tiny_notes)
    echo, lines = EchoSink(), []
    clock = MidiClock(120.0)
    eng = Engine(sampler, renderer, clock, [echo], lines.append)
    port = free_port(socket.SOCK_STREAM)
    listener = MidiListener(eng, f"tcp:127.0.0.1:{port}", clock=clock, status=lines.append)
    eng.start()
    master = connect(port)
    try:
        eng.run(0.3)
        assert echo.rows == []  # waiting for the master's start
        master.send(mido.Message("start"))
        period = 60.0 / (150.0 * 24)
        t0 = time.time()
        for i in range(24 * 4):  # four beats at 150 BPM
            while time.time() < t0 + i * period:
                time.sleep(0.0005)
            master.send(mido.Message("clock"))
        master.send(mido.Message("stop"))
        eng.run(0.3)
        n_stopped = len(echo.rows)
        eng.run(0.5)
    finally:
        master.close()
        listener.close()
        eng.stop()
    assert clock.tempo == pytest.approx(150.0, abs=2.0)
    assert n_stopped > 0 and len(echo.rows) == n_stopped  # nothing after the master stopped
