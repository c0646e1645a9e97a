"""The live engine against the in-memory echo sink: timing, tempo, stop, model switch, crash."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from live_fixtures import run_engine, voice
from seqart.live.clock import InternalClock
from seqart.live.engine import Engine
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)


def lateness_ms(echo):
    return np.array([(sent - due) * 1e3 for sent, due, *_ in echo.rows])


def test_events_leave_at_their_deadlines_in_order(tiny_strokes):
    eng, echo, _ = run_engine(tiny_strokes, 1.5)
    late = lateness_ms(echo)
    assert len(late) > 100  # 200 points/s less the rests between drawings
    assert np.median(late) < 1.0 and (late > 5.0).mean() < 0.01, (np.median(late), late.max())
    dues = [due for _, due, *_ in echo.rows]
    assert dues == sorted(dues)
    # Inside a drawing, consecutive pen points are exactly 1/rate apart (no accumulated drift).
    pen = [(due, args) for _, due, addr, args, _ in echo.rows if addr == "/seqart/pen"]
    steps = np.diff([d for d, _ in pen])
    assert np.isclose(np.median(steps), 1 / 200.0, atol=1e-6)


def test_tempo_change_rescales_time_of_everything_queued(tiny_strokes):
    eng, echo, _ = run_engine(tiny_strokes, 1.6, commands=[(0.8, "tempo", (240.0,))])
    dues = np.array([due for _, due, addr, *_ in echo.rows if addr == "/seqart/pen"])
    first, second = np.diff(dues[dues < dues[0] + 0.6]), np.diff(dues[dues > dues[0] + 1.1])
    assert np.isclose(np.median(first), 0.005, atol=1e-6)
    assert np.isclose(np.median(second), 0.0025, atol=1e-6)
    assert eng.clock.tempo == 240.0


def balanced(midi) -> bool:
    """Per (channel, pitch): on, off, on, off ... ending with off."""
    state = {}
    for _, kind, pitch, ch in midi:
        if state.get((ch, pitch), "off") == kind:
            return False
        state[(ch, pitch)] = kind
    return all(v == "off" for v in state.values())


def test_every_note_on_gets_its_note_off_when_the_performance_stops(tiny_notes):
    eng, echo, _ = run_engine(tiny_notes, 1.5, tempo=240.0)
    ons = sum(1 for m in echo.midi if m[1] == "on")
    assert ons > 3
    assert balanced(echo.midi), echo.midi[-6:]
    notes = [(args, note) for _, _, addr, args, note in echo.rows if addr == "/seqart/note"]
    assert all(0 <= a[0] <= 127 and 1 <= a[1] <= 127 and a[2] > 0 for a, _ in notes)


def test_stop_command_silences_and_start_resumes(tiny_notes):
    eng, echo, lines = run_engine(tiny_notes, 2.4, tempo=240.0,
                                  commands=[(0.8, "stop", ()), (1.6, "start", ())])
    t_stop = echo.rows[0][0] + 0.0
    sent = np.array([s for s, *_ in echo.rows])
    start = sent[0]
    quiet = sent[(sent > start + 0.95) & (sent < start + 1.5)]  # after the stop, before the start
    assert len(quiet) == 0, quiet - t_stop
    assert (sent > start + 1.7).sum() > 0  # playing again
    assert balanced(echo.midi)


def test_model_switch_mid_piece_keeps_time_and_note_offs(tiny_notes, tiny_strokes):
    other_sampler, other_renderer = voice(tiny_notes, seed=7)
    eng, echo, lines = run_engine(tiny_notes, 1.6, tempo=240.0,
                                  commands=[(0.8, "swap", (other_sampler, other_renderer, "other"))])
    assert eng.sampler is other_sampler and eng.name == "other"
    late = lateness_ms(echo)
    assert late.max() < 20.0, late.max()  # generous: the shared VM stalls now and then (docs/osc.md)
    sent = np.array([s for s, *_ in echo.rows])
    assert (sent > sent[0] + 1.0).sum() > 0  # still playing after the switch
    assert balanced(echo.midi)


def test_a_crash_in_the_generator_is_reported_in_one_line_and_ends_notes(tiny_notes):
    def explode():
        raise RuntimeError("model exploded")

    def boom(engine):  # from the next step on, the model itself fails (not a control command)
        engine.sampler.step = explode

    sampler, renderer = voice(tiny_notes)
    echo, lines = EchoSink(), []
    eng = Engine(sampler, renderer, InternalClock(240.0), [echo], lines.append)
    eng.start()
    try:
        eng.run(0.8)
        eng.command("call", boom)
        with pytest.raises(RuntimeError, match="model exploded"):
            eng.run(3.0)
    finally:
        eng.stop()
    assert any(line.startswith("live engine failed: RuntimeError: model exploded") for line in lines)
    assert balanced(echo.midi) and not echo.sounding


def test_end_of_sequence_starts_a_new_one_after_a_gap(tiny_strokes):
    eng, echo, _ = run_engine(tiny_strokes, 1.5, gap_beats=0.5)
    ends = [due for _, due, addr, *_ in echo.rows if addr == "/seqart/pen/end"]
    assert eng.sequences >= 1 and len(ends) == eng.sequences or len(ends) == eng.sequences - 1
    firsts = [args for _, _, addr, args, _ in echo.rows if addr == "/seqart/pen"]
    assert all(a[2] in (0, 1) for a in firsts)


def test_latency_offset_per_output(tiny_strokes):
    plain, later = EchoSink(), EchoSink(latency_ms=12.0)
    eng, _, _ = run_engine(tiny_strokes, 1.0, sinks=[plain, later])
    n = min(len(plain.rows), len(later.rows))
    assert n > 50
    shift = np.array([b[1] - a[1] for a, b in zip(plain.rows[:n], later.rows[:n])])
    assert np.allclose(shift, 0.012, atol=1e-6)  # the deadline moved by exactly the offset
    sent_shift = np.median([b[0] - a[0] for a, b in zip(plain.rows[:n], later.rows[:n])])
    assert abs(sent_shift - 0.012) < 0.001  # and so did the moment it left
