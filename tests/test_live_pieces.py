"""Pieces and the `seqart perform` command: the shipped pieces parse, bad settings are one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import time
import sys
from pathlib import Path

import pytest

from live_fixtures import free_port, write_piece
from peers import peer
from seqart.errors import SeqartError
from seqart.live.perform import list_outputs, perform
from seqart.live.piece import load_piece

ROOT = Path(__file__).resolve().parent.parent
PIECES = sorted((ROOT / "pieces").glob("*.toml"))
LIVE_PIECES = [p for p in PIECES if "[piece]" in p.read_text()]


def test_there_is_a_live_piece_per_modality():
    models = {load_piece(p)["piece"]["model"] for p in LIVE_PIECES}
    assert {"sheep", "nottingham", "salsa"} <= models


@pytest.mark.parametrize("path", LIVE_PIECES, ids=lambda p: p.name)
def test_shipped_pieces_are_valid_commented_and_control_only_on_loopback(path):
    cfg = load_piece(path)
    assert cfg["control"]["host"] == "127.0.0.1"
    assert cfg["osc"]["target"] or cfg["midi"]["port"]
    assert sum(line.lstrip().startswith("#") for line in path.read_text().splitlines()) >= 5


def test_settings_are_checked_and_overridable(tmp_path):
    p = write_piece(tmp_path / "p.toml", "m", osc={"target": "127.0.0.1:9"})
    cfg = load_piece(p, ["temperature=0.3", "osc.mode=message", "options.scale=D:major", "clock.tempo=90"])
    assert cfg["piece"]["temperature"] == 0.3 and cfg["osc"]["mode"] == "message"
    assert cfg["options"] == {"scale": "D:major"} and cfg["clock"]["tempo"] == 90.0
    with pytest.raises(SeqartError, match=r"unknown setting piece\.temprature"):
        load_piece(p, ["piece.temprature=0.3"])
    with pytest.raises(SeqartError, match="give a section"):
        load_piece(p, ["latency_ms=3"])  # in both [osc] and [midi]
    with pytest.raises(SeqartError, match="osc.ahead_ms must be float"):
        load_piece(p, ["osc.ahead_ms=soon"])
    (tmp_path / "bad.toml").write_text("[piece]\nmodel = 'm'\n[stage]\nlights = 1\n")
    with pytest.raises(SeqartError, match=r"unknown section \[stage\]"):
        load_piece(tmp_path / "bad.toml")


def test_perform_errors_are_one_line(tmp_path, tiny_strokes):
    no_out = write_piece(tmp_path / "none.toml", tiny_strokes)
    with pytest.raises(SeqartError, match="piece has no output"):
        perform(no_out, duration=1.0)
    with pytest.raises(SeqartError, match="OSC target"):
        perform(no_out, duration=1.0, osc="localhost")
    with pytest.raises(SeqartError, match="no such run or model"):
        perform(write_piece(tmp_path / "m.toml", tmp_path / "nothing"), duration=1.0, osc="127.0.0.1:9")
    with pytest.raises(SeqartError, match="cannot open"):
        perform(no_out, duration=1.0, midi=f"tcp:127.0.0.1:{free_port()}")


def test_perform_in_process_reports_status_lines(tmp_path, tiny_strokes):
    port = free_port()
    lines = []
    st = perform(write_piece(tmp_path / "p.toml", tiny_strokes, piece={"gap_beats": 0.02}), duration=1.2,
                 osc=f"127.0.0.1:{port}", sets=["osc.mode=message"], status=lines.append)
    assert lines[0].startswith("performing strokes -> osc udp 127.0.0.1:")
    assert any(" playing | 120.0 bpm | bar " in line for line in lines)
    assert lines[-1].startswith("done: ") and st["sent"] > 50


def test_cli_perform_list_ports_and_bad_piece_exit_2(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "seqart.cli", "perform", "--list-ports"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0 and "osc: HOST:PORT" in r.stdout and "midi (jack)" in r.stdout
    (tmp_path / "bad.toml").write_text("[piece]\nmodle = 'sheep'\n")
    r = subprocess.run([sys.executable, "-m", "seqart.cli", "perform", str(tmp_path / "bad.toml")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "unknown setting piece.modle" in r.stderr and "Traceback" not in r.stderr
    assert list_outputs()[-1].startswith("osc:")


@pytest.mark.peer
@pytest.mark.parametrize("script", ["live_rate.py", "live_soak.py"])
def test_live_benchmarks_run_quick(tmp_path, script):
    peer("oscdump")
    out = tmp_path / "r.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(out.read_text())
    assert d["events_sent"] > 0 and d["arrival_error"]["n"] > 0 and "command" in d
    # every event more than 5 ms late belongs to exactly one late episode
    assert sum(e["events"] for e in d["late_episodes"]) == d["arrival_error"]["late_over_5ms"]


def test_control_switches_piece_with_its_tempo_and_temperature(tmp_path, tiny_strokes):
    from seqart.live.control import ControlServer
    from seqart.live.perform import build

    first = write_piece(tmp_path / "a.toml", tiny_strokes, piece={"temperature": 0.9},
                        osc={"target": "127.0.0.1:9"}, control={"osc_port": free_port()})
    second = write_piece(tmp_path / "b.toml", tiny_strokes, piece={"temperature": 0.2, "title": "second"},
                         clock={"tempo": 75.0})
    engine, closers = build(load_piece(first), lambda line: None)
    try:
        server = next(c for c in closers if isinstance(c, ControlServer))
        assert server.handle("/seqart/piece", [str(second)])
        end = time.time() + 30
        while server.loads.busy() and time.time() < end:  # loads run on the control server's loader thread
            time.sleep(0.01)
        engine._apply_commands()
        assert engine.clock.tempo == 75.0 and engine.sampler.temperature == pytest.approx(0.2)
        assert engine.name == "second"
        server.handle("/seqart/piece", [str(tmp_path / "missing.toml")])  # fails on the loader thread
        while server.loads.busy() and time.time() < end:
            time.sleep(0.01)
        assert server.rejected == 1
    finally:
        for c in closers:
            c.close()
        engine.stop()


def test_bad_engine_settings_are_one_line_errors(tmp_path, tiny_strokes):
    for key, value in (("piece.on_end", "explode"), ("piece.lookahead", "0.0"), ("osc.mode", "shout"),
                       ("clock.source", "sundial"), ("midi.api", "winmm")):
        p = write_piece(tmp_path / "p.toml", tiny_strokes, osc={"target": "127.0.0.1:9"})
        extra = ['midi.port="seqart_peer:input"'] if key.startswith("midi") else []
        with pytest.raises(SeqartError, match=key.split(".")[1].replace("source", "clock")):
            perform(p, duration=1.0, sets=[f"{key}={value!r}".replace("'", '"')] + extra)


@pytest.mark.peer
def test_a_missing_midi_port_is_one_line_without_jack_chatter(tmp_path, tiny_notes):
    peer("jackd")  # libjack present: its own messages would otherwise reach stderr
    piece = write_piece(tmp_path / "p.toml", tiny_notes, osc={"target": "127.0.0.1:9"})
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "seqart.cli", "perform", str(piece), "--duration", "1",
                        "--midi", "nosuchport", "--set", "midi.api=jack"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [r.stderr.strip()], r.stderr
    assert "MIDI port 'nosuchport'" in r.stderr
