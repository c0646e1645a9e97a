"""Notes out: MIDI files that independent readers agree on, piano rolls, audio, and sampling controls."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seqart.clip import Clip
from seqart.codecs.notes import NotesCodec, channels, scale_pitches
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.export import export_clips
from seqart.codecs.notes.writers import find_soundfont
from seqart.generate import sample_clips
from seqart.train import train

from tests.peers import find_peer, peer, peers_bin
from tests.samples import DATASETS, ROOT

NOTTINGHAM = DATASETS / "midi" / "nottingham"
TINY = ["model.hidden=16", "model.mixtures=3", "train.batch_size=8", "train.max_len=64", "train.threads=1",
        "train.steps=4", "train.valid_every=4"]


def clip(rows, bpm=120.0) -> Clip:
    """A notes clip from (dt, dur, pitch, velocity_bin) rows."""
    return Clip(np.asarray(rows, np.float32), channels(False), "notes", time_channel="dt", meta={"bpm": bpm})


MELODY = clip([[0, 0.5, 60, 5], [0.5, 0.5, 64, 5], [0, 0.5, 67, 6],  # a two-note chord at 0.5 s
               [0.5, 1.0, 72, 7], [1.0, 0.25, 71, 2]])  # ends at 2.0 + 0.25 = 2.25 s


def midicsv(path: Path) -> list[list[str]]:
    p = subprocess.run([peer("midicsv"), str(path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [[c.strip() for c in line.split(",")] for line in p.stdout.splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A tiny model trained for a few steps on the shipped tunes (enough to exercise sampling)."""
    out = tmp_path_factory.mktemp("run")
    train(NOTTINGHAM, out, merge(defaults(NotesCodec().options), None, TINY), progress=False)
    return out


# --- MIDI files -------------------------------------------------------------------------------
def test_midi_is_read_the_same_by_midicsv(tmp_path):
    path = export_clips([MELODY], tmp_path / "m.mid")
    rows = midicsv(path)
    ppq = int(rows[0][5])
    ons = [(int(r[1]), int(r[4]), int(r[5])) for r in rows if r[2] == "Note_on_c" and int(r[5]) > 0]
    assert [p for _, p, _ in ons] == [60, 64, 67, 72, 71]
    ticks = [t for t, _, _ in ons]
    assert ticks[1] == ticks[2] == ppq and ticks[3] == 2 * ppq  # 0.5 s = one beat at 120 bpm; the chord shares a tick
    assert [v for *_, v in ons] == [88, 88, 104, 120, 40]  # velocity bin centres
    tempo = next(int(r[3]) for r in rows if r[2] == "Tempo")
    assert tempo == 500000
    offs = [int(r[1]) for r in rows if r[2] == "Note_off_c" or (r[2] == "Note_on_c" and int(r[5]) == 0)]
    assert max(offs) == int(2.25 * 2 * ppq)


@pytest.mark.peer
def test_symusic_reads_it_too(tmp_path):
    py = peers_bin() / "python"
    if not py.exists():
        peer("symusic-python")  # skips (fails under CI) with the reason
    path = export_clips([MELODY], tmp_path / "m.mid")
    code = ("import symusic,sys,json; s=symusic.Score(sys.argv[1], ttype='second');"
            "print(json.dumps([[n.time, n.duration, n.pitch] for t in s.tracks for n in t.notes]))")
    p = subprocess.run([str(py), "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    notes = sorted(json.loads(p.stdout))
    np.testing.assert_allclose(notes, [[0, 0.5, 60], [0.5, 0.5, 64], [0.5, 0.5, 67], [1.0, 1.0, 72], [2.0, 0.25, 71]],
                               atol=2e-3)


def test_midi_bytes_are_deterministic_and_tempo_sets_the_grid(tmp_path):
    a, b = export_clips([MELODY], tmp_path / "a.mid"), export_clips([MELODY], tmp_path / "b.mid")
    assert a.read_bytes() == b.read_bytes()
    slow = export_clips([MELODY], tmp_path / "s.mid", tempo=60)
    rows = midicsv(slow)
    assert int(next(r[3] for r in rows if r[2] == "Tempo")) == 1000000
    ppq = int(rows[0][5])
    assert max(int(r[1]) for r in rows if r[2].startswith("Note")) == int(2.25 * ppq)  # same seconds, half the beats


def test_several_clips_play_one_after_another(tmp_path):
    path = export_clips([MELODY, MELODY], tmp_path / "two.mid", gap=1.0)
    rows = midicsv(path)
    ppq = int(rows[0][5])
    ons = [int(r[1]) for r in rows if r[2] == "Note_on_c" and int(r[5]) > 0]
    assert len(ons) == 10 and ons[5] == int((2.25 + 1.0) * 2 * ppq)


@pytest.mark.peer
def test_check_midi_passes_on_a_sampled_file(run, tmp_path):
    py = peers_bin() / "python"
    if not py.exists():
        peer("symusic-python")
    clips = sample_clips(run, n=1, seed=3, seconds=6.0)
    path = export_clips(clips, tmp_path / "s.mid")
    script = Path(__file__).resolve().parents[2] / "shared" / "peers" / "check_midi.py"
    if not script.exists():
        pytest.skip(f"{script} not found: ../shared holds the peers' check scripts (CI has it)")
    p = subprocess.run([str(py), str(script), str(path), "--out-dir", str(tmp_path / "chk")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


# --- piano roll and audio --------------------------------------------------------------------------
def test_piano_roll_png(tmp_path):
    path = export_clips([MELODY, MELODY], tmp_path / "roll.png", px_per_second=40, px_per_pitch=4)
    img = np.asarray(Image.open(path).convert("L"))
    assert img.shape[1] == int(np.ceil(2.25 * 40)) + 2
    band = (72 - 60 + 5) * 4
    assert img.shape[0] == 2 * band + 2
    assert (img < 100).sum() > 0 and (img > 250).mean() > 0.5  # dark notes on a white page
    row_of = lambda p: (72 + 2 - p) * 4 + 1  # noqa: E731 - pitch -> a pixel row inside its note
    assert img[row_of(72), int(1.5 * 40)] < 200 and img[row_of(72), int(0.25 * 40)] > 200


def test_wav_render_or_a_clear_message(tmp_path, monkeypatch):
    if find_peer("fluidsynth") and find_soundfont():
        path = export_clips([MELODY], tmp_path / "m.wav")
        import wave

        w = wave.open(str(path))
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        assert 2.25 <= w.getnframes() / w.getframerate() <= 2.25 + 5 and np.sqrt((x.astype(float) ** 2).mean()) > 30
    monkeypatch.setenv("PATH", str(tmp_path))  # no fluidsynth on this PATH
    with pytest.raises(SeqartError, match="needs FluidSynth.*apt install fluidsynth fluid-soundfont-gm"):
        export_clips([MELODY], tmp_path / "n.wav")
    assert not (tmp_path / "n.wav").exists()


# --- sampling controls -----------------------------------------------------------------------------
def test_scale_tempo_and_length_controls(run):
    key = sample_clips(run, n=2, seed=1, max_frames=40, options={"scale": "A:minor"})
    assert all(len(c) == 40 for c in key)
    assert set(np.concatenate([c.channel("pitch") for c in key]).astype(int)) <= set(scale_pitches("A:minor"))
    fast = sample_clips(run, seed=1, max_frames=30, options={"tempo": 240})[0]
    base = sample_clips(run, seed=1, max_frames=30)[0]
    np.testing.assert_allclose(fast.channel("dur"), base.channel("dur") / 2, rtol=1e-5)
    assert fast.meta["bpm"] == 240 and np.array_equal(fast.channel("pitch"), base.channel("pitch"))
    timed = sample_clips(run, seed=2, seconds=5.0, max_frames=10_000)[0]
    onsets = np.cumsum(timed.channel("dt"))
    assert onsets[-2] < 5.0  # stops once the generated time passes 5 s


def test_priming_with_seconds_and_bars(run):
    tune = NOTTINGHAM / "jigs1.mid"
    primer = NotesCodec().read(tune)["all"][0]
    out = sample_clips(run, seed=0, prime=tune, prime_seconds=3.0, max_frames=20)[0]
    k = int((np.cumsum(primer.channel("dt")) < 3.0).sum())
    assert len(out) == k + 20
    np.testing.assert_allclose(out.frames[:k], primer.frames[:k], atol=1e-6)
    bars = sample_clips(run, seed=0, prime=tune, max_frames=5, options={"prime_bars": 2})[0]
    k2 = int((np.cumsum(primer.channel("dt")) < 2 * 3 * 0.5 - 1e-9).sum())  # 6/8 at 120: a bar is 1.5 s
    assert len(bars) == k2 + 5


def test_unknown_generation_option(run):
    with pytest.raises(SeqartError, match="unknown notes generation option.*colour"):
        sample_clips(run, options={"colour": "red"})
    with pytest.raises(SeqartError, match="^tempo must be a number, not 'fast'$"):
        sample_clips(run, options={"tempo": "fast"})
    with pytest.raises(SeqartError, match=r"^tempo = 0 is out of range \[4, 999\]$"):
        sample_clips(run, options={"tempo": "0"})


@pytest.mark.slow
def test_cli_sample_eval_and_png(run, tmp_path):
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "seqart.cli"]
    mid, png = tmp_path / "x.mid", tmp_path / "x.png"
    p = subprocess.run(cli + ["sample", str(run), "--out", str(mid), "--seconds", "4", "--set", "scale=C:major"],
                       capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert mid.read_bytes()[:4] == b"MThd"
    p = subprocess.run(cli + ["sample", str(run), "--out", str(png), "-n", "2"], capture_output=True, text=True,
                       env=env, timeout=300, cwd=ROOT)
    assert p.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    p = subprocess.run(cli + ["eval", str(run), str(NOTTINGHAM), "--split", "all"], capture_output=True, text=True,
                       env=env, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    scores = json.loads(p.stdout)
    assert scores["frames"] > 1000 and set(scores) >= {"dt+dur", "pitch", "velocity", "nll"}


# --- render pieces ----------------------------------------------------------------------------------
def test_render_piece_writes_every_output(run, tmp_path, write_file):
    from seqart.render import load_render_piece, render_piece

    shipped = load_render_piece(ROOT / "pieces" / "render_melody.toml")
    assert shipped["model"] == "nottingham" and shipped["out"] == ["melody.mid", "melody.png"]
    piece = write_file("p.toml", f'[render]\nmodel = "{run}"\nout = ["a.mid", "a.png"]\nnotes = 12\nseed = 3\n'
                                 '[render.options]\nscale = "G:major"\n')
    written = render_piece(piece, tmp_path)
    assert [p.name for p in written] == ["a.mid", "a.png"]
    rows = midicsv(tmp_path / "a.mid")
    pitches = [int(r[4]) for r in rows if r[2] == "Note_on_c" and int(r[5]) > 0]
    assert len(pitches) == 12 and set(pitches) <= set(scale_pitches("G:major"))
    with pytest.raises(SeqartError, match="unknown render setting.*tempo"):
        load_render_piece(write_file("bad.toml", '[render]\nmodel = "x"\nout = "a.mid"\ntempo = 3\n'))


def test_a_bad_render_piece_writes_nothing_and_names_the_setting(run, tmp_path, write_file):
    from seqart.render import render_piece

    out = tmp_path / "out"
    cases = [('out = ["a.mid", "a.xyz"]', "render.out: .*a.xyz: cannot write .xyz files from notes"),
             ('out = ["a.mid"]\nseconds = "long"', "render.seconds must be a number, not 'long'"),
             ('out = ["a.mid"]\nn = 0', r"render.n = 0 is out of range \[1, 1000000\]")]
    for i, (body, message) in enumerate(cases):
        piece = write_file(f"p{i}.toml", f'[render]\nmodel = "{run}"\nnotes = 8\n{body}\n')
        with pytest.raises(SeqartError, match=message):
            render_piece(piece, out)
        assert not out.exists()  # nothing half-made: not even the folder
    missing = write_file("m.toml", '[render]\nmodel = "nosuchmodel"\nout = "a.mid"\n')
    with pytest.raises(SeqartError, match=r"m.toml: render.model: nosuchmodel: no such run or model"):
        render_piece(missing, out)
