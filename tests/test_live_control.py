"""OSC control of a running engine: valid messages act, bad ones are dropped with one line each."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
import torch
from pythonosc.udp_client import SimpleUDPClient

from live_fixtures import voice
from seqart.errors import SeqartError
from seqart.live.clock import InternalClock
from seqart.live.control import ControlServer
from seqart.live.engine import Engine
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)


@pytest.fixture
def rig(tiny_strokes):
    sampler, renderer = voice(tiny_strokes)
    echo, lines = EchoSink(), []
    eng = Engine(sampler, renderer, InternalClock(120.0), [echo], lines.append, gap_beats=0.02)
    server = ControlServer(eng, 0, status=lines.append, loader=lambda kind, text: (*voice(tiny_strokes, seed=3), text))
    eng.start()
    client = SimpleUDPClient("127.0.0.1", server.port)
    yield eng, server, client, echo, lines
    server.close()
    eng.stop()


def settle(eng, seconds=0.3):
    eng.run(seconds)


def test_control_binds_loopback_by_default(rig):
    eng, server, *_ = rig
    assert server.host == "127.0.0.1"


def test_valid_messages_change_the_performance(rig):
    eng, server, client, echo, lines = rig
    client.send_message("/seqart/temperature", 0.25)
    client.send_message("/seqart/tempo", 90)
    client.send_message("/seqart/prime/drawing", [0.0, 0.0, 0.0, 10.0, 5.0, 0.0, 20.0, 0.0, 1.0])
    client.send_message("/seqart/prime/frames", [1.0, 2.0, 0.0, 3.0, -1.0, 1.0])
    client.send_message("/seqart/reset", [])
    client.send_message("/seqart/model", "another")
    settle(eng, 0.5)
    assert eng.sampler.temperature == pytest.approx(0.25)  # kept across the model switch
    assert eng.clock.tempo == 90.0 and eng.name == "another"
    assert server.accepted == 6 and server.rejected == 0, lines
    assert any("switched model to another" in line for line in lines)


def test_bad_messages_are_dropped_with_one_line_each_and_time_is_kept(rig):
    eng, server, client, echo, lines = rig
    settle(eng, 0.3)
    bad = [("/seqart/temperature", "hot"), ("/seqart/temperature", 11.0), ("/seqart/tempo", []),
           ("/seqart/tempo", [120.0, 3.0]), ("/seqart/nonsense", 1), ("/elsewhere", 1),
           ("/seqart/prime/frames", [1.0, 2.0]), ("/seqart/prime/phrase", [60.0, 100.0, 0.0, 0.5]),
           ("/seqart/prime/file", "/no/such/file.npz"), ("/seqart/stop", 1)]
    for addr, args in bad:
        client.send_message(addr, args)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00\x01garbage that is not OSC", ("127.0.0.1", server.port))
        s.sendto(b"/seqart/tempo\x00\x00\x00,f\x00", ("127.0.0.1", server.port))  # truncated float
    time.sleep(1.1)  # the report limit is per second
    settle(eng, 0.4)
    assert server.rejected == len(bad) + 2 and server.accepted == 0
    reports = [line for line in lines if line.startswith("control: ")]
    assert len(reports) >= 5 and all("\n" not in line for line in reports)
    assert any("temperature must be in 0..10" in line for line in reports)
    assert eng.playing and eng.sampler.temperature == pytest.approx(0.8) and eng.clock.tempo == 120.0
    late = np.array([(sent - due) for sent, due, *_ in echo.rows])
    assert len(late) > 50 and late.max() < 0.02  # generous: the shared VM stalls now and then


def test_notes_phrase_primes_a_notes_model(tiny_notes):
    sampler, renderer = voice(tiny_notes)
    eng = Engine(sampler, renderer, InternalClock(120.0), [EchoSink()])
    server = ControlServer(eng, 0)
    try:
        assert server.handle("/seqart/prime/phrase", [60, 100, 0.0, 0.5, 64, 90, 0.5, 0.5, 67, 80, 1.0, 1.0])
        name, args = eng.commands.get_nowait()
        clip = args[0]
        assert name == "prime" and clip.channel("pitch").tolist() == [60, 64, 67]
        assert clip.channel("dt").tolist() == [0.0, 0.5, 0.5]
        assert not server.handle("/seqart/prime/drawing", [0.0, 0.0, 0.0])  # not a strokes model
    finally:
        server.close()


def test_a_taken_control_port_is_a_one_line_error(tiny_strokes):
    sampler, renderer = voice(tiny_strokes)
    eng = Engine(sampler, renderer, InternalClock(120.0), [EchoSink()])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        with pytest.raises(SeqartError, match="control: cannot listen on 127.0.0.1"):
            ControlServer(eng, s.getsockname()[1])


def test_prime_with_a_file_the_codec_reads(rig):
    from live_fixtures import SHEEP

    eng, server, client, echo, lines = rig
    if not SHEEP.exists():
        pytest.skip(f"{SHEEP} is not here")
    clip = server._primer("file", [str(SHEEP), 0.25])  # the first drawing's first quarter second
    assert clip.modality == "strokes" and 1 <= len(clip) <= 0.25 * 200 + 1
    assert server.handle("/seqart/prime/file", [str(SHEEP), 0.25])
    settle(eng, 0.3)
    assert server.rejected == 0 and eng.playing
