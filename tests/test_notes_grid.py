"""Notes on the data's grid (`time = "grid"`), track choice by name, the pitch mask, and playable MIDI out."""

import json
import os
import subprocess
import sys

import mido
import numpy as np
import pytest

from seqart.codecs.notes.baselines import NoteBaselines
from seqart.codecs import codec_from_config
from seqart.codecs.notes.grid import infer_grid, on_grid
from seqart.codecs.notes import NotesCodec, clip_to_notes, notes_to_clip
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.export import export_clips
from seqart.codecs.notes.writers import playable
from seqart.generate import sample_clips
from seqart.modelio import load_model
from seqart.sample import Sampler
from seqart.train import train

from tests.peers import peer
from tests.samples import DATASETS
from tests.test_notes import off, on, smf

NOTTINGHAM = DATASETS / "midi" / "nottingham"
TINY = ["model.hidden=16", "train.batch_size=8", "train.max_len=64", "train.threads=1",
        "train.steps=4", "train.valid_every=4"]
PPQ = 480


def name(text):
    return mido.MetaMessage("track_name", name=text)


def tune(path, rows, bpm=120.0, track="Melody"):
    """A one-track MIDI file from (onset_ticks, dur_ticks, pitch) rows, at PPQ ticks per beat."""
    events = sorted([(s, 1, on(p)) for s, d, p in rows] + [(s + d, 0, off(p)) for s, d, p in rows],
                    key=lambda e: (e[0], e[1]))
    track_events, now = [(0, name(track)), (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))], 0
    for t, _, msg in events:
        track_events.append((t - now, msg))
        now = t
    smf([track_events], PPQ).save(path)
    return path


# Eighths, sixteenths and eighth-note triplets (160 ticks), a rest and a chord: all on a grid of 12 per beat.
ROWS = [(0, 240, 60), (240, 240, 62), (480, 160, 64), (640, 160, 65), (800, 160, 67), (960, 120, 69),
        (1080, 120, 67), (1200, 240, 65), (1920, 960, 60), (1920, 960, 64), (2880, 480, 72)]


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """A tiny grid-time model trained a few steps on the shipped tunes."""
    out = tmp_path_factory.mktemp("grid")
    train(NOTTINGHAM, out, merge(defaults(NotesCodec().options), None, TINY + ["codec.time=grid"]), progress=False)
    return out


# --- the grid --------------------------------------------------------------------------------
def test_grid_is_inferred_from_the_data():
    straight = np.arange(0, 16, 0.5)  # eighths
    assert infer_grid([straight]) == (2, 1.0)
    assert infer_grid([straight, np.array([0.25, 1.75])])[0] == 4  # some sixteenths
    assert infer_grid([straight, np.array([1 / 3, 2 / 3])])[0] in (6, 12)  # triplets: a triplet-aware grid
    assert infer_grid([np.concatenate([straight, [1 / 3, 0.25]])])[0] == 12  # both
    played = np.random.default_rng(0).uniform(0, 16, 500)  # unquantised: no grid holds it
    g, share = infer_grid([played])
    assert share < 0.9 and on_grid(played, g).mean() == share


def test_gridded_midi_round_trips_exactly_through_the_codec(tmp_path):
    path = tune(tmp_path / "t.mid", ROWS, bpm=100.0)
    codec = NotesCodec({"time": "grid"})
    clip = codec.read(path)["all"][0]
    codec.fit_norm([clip])
    o = codec.options
    assert o["grid"] == 12 and o["grid_share"] == 1.0 and o["ref_bpm"] == 100.0
    assert [c.channel for c in codec.layout.categoricals][:2] == ["dt", "dur"] and not codec.layout.mixtures
    x = codec.to_model(clip)
    assert x.shape == (len(ROWS), 4) and (x[:, :2] == np.round(x[:, :2])).all()
    back = codec.from_model(x)
    np.testing.assert_allclose(back.frames, clip.frames, atol=1e-9)
    out = export_clips([back], tmp_path / "back.mid")
    rows = _midicsv_notes(out)
    assert rows == sorted((s * rows_ppq(out) // PPQ, d * rows_ppq(out) // PPQ, p) for s, d, p in ROWS)


def test_a_time_shift_class_knows_where_in_the_beat_its_onset_falls(tmp_path):
    codec = NotesCodec({"time": "grid"})
    clip = codec.read(tune(tmp_path / "t.mid", ROWS))["all"][0]
    late = codec.read(tune(tmp_path / "late.mid", [(s + 1200, d, p) for s, d, p in ROWS]))["all"][0]  # 2.5 beats in
    codec.fit_norm([clip, late])
    dt_classes = [codec.options["dt_steps"][int(c)] for c in codec.to_model(clip)[:, 0]]
    onsets = np.cumsum([steps for steps, _ in dt_classes])
    assert [phase for _, phase in dt_classes] == list(onsets % 12)  # steps past the beat, 12 steps a beat
    assert [4, 8] == [p for _, p in dt_classes if p % 3]  # the triplet's second and third notes
    classes = codec.to_model(late)[:, 0]
    assert codec.options["dt_steps"][int(classes[0])] == [6, 6]  # whole beats of silence dropped, the phase kept
    steps = [codec.options["dt_steps"][int(c)][0] for c in classes]
    assert steps[1:] == [a for a, _ in dt_classes][1:]  # the same shifts, each half a beat later in its beat


def rows_ppq(path):
    return mido.MidiFile(path).ticks_per_beat


def _midicsv_notes(path):
    """(onset tick, duration ticks, pitch) of every note, as midicsv reads the file."""
    p = subprocess.run([peer("midicsv"), str(path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    cells = [[c.strip() for c in line.split(",")] for line in p.stdout.splitlines()]
    sounding, notes = {}, []
    for r in cells:
        if r[2] == "Note_on_c" and int(r[5]) > 0:
            sounding.setdefault(int(r[4]), []).append(int(r[1]))
        elif r[2] in ("Note_on_c", "Note_off_c"):
            start = sounding[int(r[4])].pop(0)
            notes.append((start, int(r[1]) - start, int(r[4])))
    return sorted(notes)


def test_grid_sampling_lands_on_the_grid_with_no_blips(grid_run, tmp_path):
    _, codec, _ = load_model(grid_run)
    g, bpm = codec.options["grid"], codec.options["ref_bpm"]
    clips = sample_clips(grid_run, n=2, temperature=1.5, seed=4, max_frames=150)  # hot: unusual classes too
    for clip in clips:
        onsets = np.cumsum(clip.channel("dt").astype(np.float64)) * bpm / 60
        assert on_grid(onsets, g, 1e-4).all()  # clips hold float32 seconds
        assert (clip.channel("dur") * bpm / 60 * g >= 1 - 1e-6).all()  # at least one step
    path = export_clips(clips, tmp_path / "s.mid")
    rows = _midicsv_notes(path)
    ppq = rows_ppq(path)
    assert min(d for _, d, _ in rows) * 60 / (bpm * ppq) >= 0.02  # no note under 20 ms, read back by midicsv
    first = [s for s, _, _ in rows if s < (rows[-1][0] + 1)]
    assert all((s * g) % ppq == 0 for s in first)  # every onset on a grid tick in the file too


def test_every_sampled_time_shift_class_agrees_with_the_phase_it_names(grid_run):
    model, codec, _ = load_model(grid_run)
    vocab, g = codec.options["dt_steps"], codec.options["grid"]
    assert len({p for _, p in vocab}) > 1  # the tunes hold onsets at several places in the beat
    sampler = Sampler(model, codec, temperature=2.0, seed=5)  # hot: a model a few steps old, nearly uniform
    onset = 0
    for _ in range(300):
        sampler.step()
        steps, phase = vocab[int(sampler._prev[0])]
        onset += steps
        assert onset % g == phase  # the model's idea of where it is in the beat is where the note lands
    assert codec.allowed_after(None)["dt"].sum() < len(vocab)  # a real constraint, even at the start


def test_old_seconds_checkpoints_load_as_they_were():
    cfg = json.loads((NOTTINGHAM.parents[2] / "seqart" / "models" / "nottingham" / "model.json").read_text())["codec"]
    cfg["options"] = {k: v for k, v in cfg["options"].items() if k not in ("time", "dynamics", "grid")}
    codec = codec_from_config(cfg)
    assert codec.options["time"] == "seconds" and codec.options["dynamics"] == 0
    assert [m.channels for m in codec.layout.mixtures] == [("dt", "dur")]


def test_grid_baselines_score_classes_and_the_timing_bigram_uses_context():
    codec = NotesCodec({"time": "grid"})
    clips = codec.read(NOTTINGHAM)["all"]
    train_, valid, test = clips[:6], clips[6:7], clips[7:]
    codec.fit_norm(train_)
    base = NoteBaselines(codec, train_, valid)
    seen, held = base.score(train_), base.score(test)
    assert seen["bigram"]["dt+dur"] < seen["unigram"]["dt+dur"]  # context helps where it was counted
    assert held["settings"]["time"] == "grid" and np.isfinite(held["bigram"]["nll"])
    uni = held["unigram"]
    assert uni["nll"] == pytest.approx(uni["dt+dur"] + uni["pitch"] + uni["velocity"])
    k = len(codec.options["dt_steps"]) * len(codec.options["dur_steps"])
    assert 0 < uni["dt+dur"] < np.log(k)  # a probability of classes, not a density


# --- the pitch mask -----------------------------------------------------------------------------
def test_a_model_never_samples_a_pitch_outside_its_training_range(grid_run):
    _, codec, _ = load_model(grid_run)
    lo, hi = codec.options["pitch_lo"], codec.options["pitch_hi"]
    assert 0 < lo < hi < 127
    clips = sample_clips(grid_run, n=2, temperature=3.0, seed=1, max_frames=300)  # nearly uniform over 128
    model, codec, _ = load_model(grid_run)
    clips.append(Sampler(model, codec, temperature=3.0, seed=2).generate(300))  # a Sampler used directly too
    pitches = np.concatenate([c.channel("pitch") for c in clips])
    assert lo <= pitches.min() and pitches.max() <= hi
    codec.options.update(pitch_lo=60, pitch_hi=60)
    with pytest.raises(SeqartError, match=r"scale=D:major: no pitch of it lies in the model's range 60..60"):
        codec.configure_sampler(Sampler(model, codec), {"scale": "D:major"})


# --- tracks -------------------------------------------------------------------------------------
def _three_tracks(path, names):
    """MELODY (mean pitch 67), BRIDGE (an upper part, mean 79) and PIANO (chords, mean 52)."""
    parts = [[(0, 480, 67), (480, 480, 69), (960, 480, 65)], [(0, 960, 79), (960, 480, 81)],
             [(0, 960, 48), (0, 960, 55), (960, 960, 53)]]
    tracks = []
    for i, (label, rows) in enumerate(zip(names, parts)):
        events = sorted([(s, 1, on(p, ch=i)) for s, d, p in rows] + [(s + d, 0, off(p, ch=i)) for s, d, p in rows],
                        key=lambda e: (e[0], e[1]))
        out, now = ([(0, name(label))] if label else []), 0
        for t, _, msg in events:
            out.append((t - now, msg))
            now = t
        tracks.append(out)
    smf(tracks, PPQ).save(path)
    return path


def test_track_names_choose_the_melody_before_pitch(tmp_path):
    from seqart.formats.midi_in import read_midi

    named = _three_tracks(tmp_path / "named.mid", ["MELODY", "BRIDGE", "PIANO"])
    notes, meta = read_midi(named)
    assert sorted(notes[:, 2]) == [65, 67, 69] and meta["tracks"] == ['track 0 "MELODY" (by name)']
    lead = _three_tracks(tmp_path / "lead.mid", ["Piano", "lead vocal", "Strings"])
    assert read_midi(lead)[1]["tracks"] == ['track 1 "lead vocal" (by name)']
    # names that say nothing about a melody: the highest mean pitch, leaving out what names call accompaniment
    accomp = _three_tracks(tmp_path / "accomp.mid", ["Flute", "Bridge", "Piano"])
    assert read_midi(accomp)[1]["tracks"] == ['track 0 "Flute" (by highest mean pitch)']
    plain = _three_tracks(tmp_path / "plain.mid", [None, None, None])
    assert read_midi(plain)[1]["tracks"] == ["track 1 (by highest mean pitch)"]


def test_the_cli_says_which_track_it_took_from_each_file(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    for i in range(3):
        _three_tracks(folder / f"song{i}.mid", ["MELODY", "BRIDGE", "PIANO"])
    _three_tracks(folder / "other.mid", [None, None, None])
    p = subprocess.run([sys.executable, "-m", "seqart.cli", "eval", "nottingham", str(folder), "--split", "all"],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert p.returncode == 0, p.stderr
    lines = p.stderr.strip().splitlines()
    assert f'{folder}: tracks=melody: track 0 "MELODY" (by name): 3 files (song0.mid, song1.mid, song2.mid)' in lines
    assert f"{folder}: tracks=melody: track 1 (by highest mean pitch): 1 file (other.mid)" in lines
    assert json.loads(p.stdout)["clips"] == 4


# --- playable MIDI out --------------------------------------------------------------------------
def test_overlapping_strikes_of_one_pitch_never_come_back_as_blips(tmp_path):
    notes = np.array([[0.0, 1.0, 60, 90, 0], [0.5, 0.5, 60, 90, 0], [0.5, 0.4, 64, 90, 0],
                      [0.505, 0.4, 64, 90, 0], [1.2, 0.001, 67, 90, 0]])
    fixed = playable(notes)  # cut at the restrike; a restrike within 20 ms merged; 1 ms lengthened to 20
    np.testing.assert_allclose(fixed[:, :3], [[0.0, 0.5, 60], [0.5, 0.5, 60], [0.5, 0.405, 64], [1.2, 0.02, 67]])
    path = export_clips([notes_to_clip(notes, {"bpm": 120.0})], tmp_path / "o.mid")
    got = _midicsv_notes(path)
    assert len(got) == 4 and min(d for _, d, _ in got) * 0.5 / rows_ppq(path) >= 0.02  # seconds at 120 bpm
    names = [m.name for t in mido.MidiFile(path).tracks for m in t if m.type == "track_name"]
    assert "Acoustic Grand Piano" in names  # tracks are named for their instrument


def test_generated_velocities_follow_metre_and_contour(grid_run, tmp_path):
    assert sample_clips(grid_run, n=1, seed=2, max_frames=5)[0].meta["dynamics"] == 12  # a new model's default
    eighths = np.array([[i * 0.25, 0.25, 64 + 12 * (i >= 4), 90, 0] for i in range(8)])  # 120 bpm; up an octave
    flat = notes_to_clip(eighths, {"bpm": 120.0})
    shaped = flat.with_frames(flat.frames, meta=flat.meta | {"dynamics": 12})

    def velocities(clip, name):
        path = export_clips([clip], tmp_path / name)
        return [m.velocity for m in mido.MidiFile(path) if m.type == "note_on" and m.velocity > 0]

    assert len(set(velocities(flat, "flat.mid"))) == 1  # data as read: as written
    v = velocities(shaped, "shaped.mid")
    assert v[0] > v[1] and v[2] > v[3] and v[4] > v[5]  # on the beat louder than off it
    assert v[4] > v[0] and v[5] > v[1]  # an octave up, louder
    assert max(v) - min(v) <= 24
    with pytest.raises(SeqartError, match="dynamics"):
        sample_clips(grid_run, options={"dynamics": "loud"})


def test_live_notes_get_the_velocities_a_written_file_gets(grid_run):
    """The live (and studio) renderer shapes velocities as clip_to_notes does; one pitch, so the
    contour (a running median live, the whole piece's in a file) is the same on both sides."""
    _, codec, _ = load_model(grid_run)
    rows = [[t, 0.2, 67, 90, 0] for t in (0.0, 0.25, 0.5, 0.625, 1.0, 1.3, 1.55)]  # beat, eighth, between...
    clip = notes_to_clip(np.array(rows), codec.clip_defaults()["meta"])
    frames = np.column_stack([clip.channel(c) for c in codec.layout.channels])
    renderer = codec.renderer({}, "/seqart")
    live = [renderer.events(f, 0.0, 2.0)[0].args[1] for f in frames]
    written = clip_to_notes(clip, int(clip.meta["velocity_bins"]))[:, 3]
    assert live == [int(np.clip(v, 1, 127)) for v in written]
    assert len(set(live)) == 3  # on the beat, on an eighth, between: three velocities
    renderer.reset()  # a new sequence counts its onsets from its own start again
    assert renderer.events(frames[2], 0.0, 2.0)[0].args[1] == live[1]  # 0.25 s in: an eighth (unreset: 1.8 s)
