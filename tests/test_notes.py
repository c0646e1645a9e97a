"""Notes in: MIDI and JSB reading, the notes codec's model space, augmentation, baselines, bad input."""

import json
import shutil
import pickle
import subprocess
import sys

import mido
import numpy as np
import pretty_midi
import pytest

from seqart.codecs.notes.baselines import BANDWIDTHS, NoteBaselines
from seqart.codecs.notes import NotesCodec, clip_to_notes, notes_to_clip, scale_pitches
from seqart.errors import SeqartError
from seqart.formats.jsb import read_jsb, roll_to_notes
from seqart.formats.midi_in import read_midi, read_midi_folder
from seqart.splits import split_clips

from tests.samples import DATASETS, SHARED

NOTTINGHAM = DATASETS / "midi" / "nottingham"


def smf(tracks, ticks_per_beat=480) -> mido.MidiFile:
    """A MidiFile from [[(delta_ticks, mido.Message | MetaMessage), ...], ...]."""
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for events in tracks:
        tr = mido.MidiTrack()
        for delta, msg in events:
            tr.append(msg.copy(time=delta))
        mid.tracks.append(tr)
    return mid


def on(p, v=90, ch=0):
    return mido.Message("note_on", note=p, velocity=v, channel=ch)


def off(p, ch=0):
    return mido.Message("note_off", note=p, velocity=0, channel=ch)


# --- reading MIDI ---------------------------------------------------------------------------
def test_folder_reads_the_melody_of_every_tune():
    items, report = read_midi_folder(NOTTINGHAM)
    assert {k: report[k] for k in ("read", "skipped", "why")} == {"read": 8, "skipped": 0, "why": {}}
    assert set(report["chosen"].values()) == {"track 0 (by highest mean pitch)"}  # unnamed tracks
    notes, meta = next((n, m) for n, m in items if m["source"] == "jigs1.mid")
    pm = pretty_midi.PrettyMIDI(str(NOTTINGHAM / "jigs1.mid"))
    assert len(notes) == len(pm.instruments[0].notes)  # instrument 0 is the tune; 1 is the chords
    assert notes[:, 2].mean() > 65 > np.mean([n.pitch for n in pm.instruments[1].notes])
    assert meta["time_signature"] == [6, 8] and meta["family"] == "jigs" and meta["group"] == "jigs1"


def test_all_tracks_give_chords_with_zero_time_shift():
    clip = NotesCodec({"tracks": "all"}).read(NOTTINGHAM / "waltzes1.mid")["all"][0]
    melody = NotesCodec().read(NOTTINGHAM / "waltzes1.mid")["all"][0]
    assert len(clip) > len(melody)
    assert (clip.channel("dt") == 0).sum() > len(clip) // 4  # block chords: several notes per onset


def test_tempo_change_is_applied_in_seconds(tmp_path):
    tempo = [(0, mido.MetaMessage("set_tempo", tempo=500000)), (4 * 480, mido.MetaMessage("set_tempo", tempo=1000000))]
    notes = [(0, on(60)), (480, off(60)), (5 * 480, on(64)), (480, off(64))]  # beats 0 and 6
    path = tmp_path / "t.mid"
    smf([tempo, notes]).save(path)
    got, meta = read_midi(path)
    # 4 beats at 120 bpm (2 s) then 2 beats at 60 bpm (2 s): the second note starts at 4 s and lasts 1 s.
    np.testing.assert_allclose(got[:, :2], [[0.0, 0.5], [4.0, 1.0]], atol=1e-6)
    assert meta["bpm"] == 120.0 and meta["tempo_changes"] == 1


def test_overlaps_zero_lengths_and_drums(tmp_path):
    melody = [(0, on(60)), (240, on(60)), (240, off(60)), (240, off(60)),  # same pitch struck again while held
              (0, on(62)), (0, off(62))]  # a zero-length note
    drums = [(0, on(36, ch=9)), (120, off(36, ch=9))]
    path = tmp_path / "o.mid"
    smf([melody, drums]).save(path)
    notes, _ = read_midi(path, "melody")
    assert notes[0, 1] == pytest.approx(0.25)  # cut at the restrike
    assert notes[-1, 1] == pytest.approx(0.01)  # zero length -> the minimum
    d = NotesCodec({"tracks": "drums", "program": True}).read(path)["all"][0]
    assert d.channel("program").tolist() == [128.0] and d.channel("pitch").tolist() == [36.0]


# --- the codec ----------------------------------------------------------------------------------
def test_clip_and_model_space_round_trip_keep_chords_exact():
    codec = NotesCodec({"dequantise": 0.0})
    clips = codec.read(NOTTINGHAM)["all"]
    codec.fit_norm(clips)
    clip = NotesCodec({"tracks": "all"}).read(NOTTINGHAM / "xmas1.mid")["all"][0]
    back = codec.from_model(codec.to_model(clip))
    assert (back.channel("dt") == 0).sum() == (clip.channel("dt") == 0).sum() > 0
    np.testing.assert_allclose(back.frames, clip.frames, rtol=1e-4, atol=1e-5)
    notes = clip_to_notes(clip)
    again = notes_to_clip(notes, clip.meta)
    np.testing.assert_allclose(again.frames, clip.frames, atol=1e-5)


def test_dequantisation_is_small_repeatable_and_fresh_in_training():
    codec = NotesCodec({"tracks": "all", "transpose": 0})
    clip = codec.read(NOTTINGHAM / "xmas1.mid")["all"][0]
    codec.fit_norm([clip])
    exact = NotesCodec({"tracks": "all", "dequantise": 0.0}, codec.norm)
    x, x0 = codec.to_model(clip), exact.to_model(clip)
    assert np.array_equal(x, codec.to_model(clip))  # evaluation sees one fixed draw
    noise = (x[:, :2] - x0[:, :2]) * codec.norm.scale  # back in log-seconds
    assert np.abs(noise).max() <= 0.01 + 1e-6 and noise.std() > 0.004  # uniform, width 0.02
    np.testing.assert_array_equal(x[:, 2:], x0[:, 2:])
    rng = np.random.default_rng(0)
    a, b = codec.to_model(codec.augment(clip, rng)), codec.to_model(codec.augment(clip, rng))
    assert not np.array_equal(a, b) and not np.array_equal(a, x)  # training draws afresh
    back = codec.from_model(x)
    assert np.array_equal(back.channel("dt") == 0, clip.channel("dt") == 0)  # chords survive the noise
    np.testing.assert_allclose(back.channel("dur"), clip.channel("dur"), rtol=0.011)


def test_fit_norm_records_range_and_tempo():
    codec = NotesCodec()
    clips = codec.read(NOTTINGHAM)["all"]
    codec.fit_norm(clips)
    pitches = np.concatenate([c.channel("pitch") for c in clips])
    assert (codec.options["pitch_lo"], codec.options["pitch_hi"]) == (pitches.min(), pitches.max())
    assert codec.options["ref_bpm"] == 120.0
    x = np.concatenate([codec.to_model(c)[:, :2] for c in clips])
    np.testing.assert_allclose(x.mean(0), 0, atol=0.01)  # up to the dequantisation noise
    np.testing.assert_allclose(x.std(0), 1, atol=0.01)


def test_near_zero_shift_snaps_to_an_exact_chord():
    codec = NotesCodec({"dequantise": 0.0})
    codec.fit_norm(codec.read(NOTTINGHAM)["all"])
    eps = codec.options["eps"]
    shift, scale = codec.norm.shift[0], codec.norm.scale[0]
    at = lambda seconds: (np.log(seconds + eps) - shift) / scale  # noqa: E731 - seconds -> model units
    x = np.array([[at(0.0), 0, 60, 5], [at(0.0) - 0.3, 0, 64, 5], [at(0.004), 0, 65, 5], [at(0.25), 0, 67, 5]], np.float32)
    dt = codec.from_model(x).channel("dt")
    assert dt[:3].tolist() == [0.0, 0.0, 0.0] and dt[3] == pytest.approx(0.25, rel=1e-4)


def test_augment_transposes_within_range_and_stretches_time():
    codec = NotesCodec({"transpose": 5, "stretch": 0.2})
    clips = codec.read(NOTTINGHAM)["all"]
    codec.fit_norm(clips)
    rng = np.random.default_rng(0)
    lo, hi = codec.options["pitch_lo"], codec.options["pitch_hi"]
    for clip in clips:
        a = codec.augment(clip, rng)
        shift = np.unique(a.channel("pitch") - clip.channel("pitch"))
        assert len(shift) == 1 and abs(shift[0]) <= 5
        assert lo <= a.channel("pitch").min() and a.channel("pitch").max() <= hi
        ratio = a.channel("dur") / clip.channel("dur")
        assert np.allclose(ratio, ratio[0], rtol=1e-5) and 1 / 1.2 - 1e-6 <= ratio[0] <= 1.2 + 1e-6
        np.testing.assert_allclose(a.channel("dt"), clip.channel("dt") * ratio[0], rtol=1e-5)


def test_scales():
    d_major = scale_pitches("D:major")
    assert 62 in d_major and 66 in d_major and 63 not in d_major and 65 not in d_major
    assert set(scale_pitches("F#:minor")) == {p for p in range(128) if (p - 6) % 12 in (0, 2, 3, 5, 7, 8, 10)}
    assert 70 in scale_pitches("Bb:major")
    for bad in ("H:major", "C:lydianish", "", "Cx:major"):
        with pytest.raises(SeqartError, match="scale="):
            scale_pitches(bad)


def test_unknown_option_is_one_line():
    with pytest.raises(SeqartError, match="unknown notes option.*trakcs"):
        NotesCodec({"trakcs": "all"})


# --- JSB chorales -----------------------------------------------------------------------------
def test_roll_merges_ties_and_keeps_chords():
    roll = [[60, 64, 67], [60, 64, 67], [60, 65], [], [62]]
    notes = roll_to_notes(roll, 0.5)
    # (start, dur, pitch): C held 3 steps, E 2, G 2, F 1; a rest; D at step 4.
    assert notes[:, :3].tolist() == [[0, 1.5, 60], [0, 1.0, 64], [0, 1.0, 67], [1.0, 0.5, 65], [2.0, 0.5, 62]]


def test_jsb_bad_json(write_file):
    with pytest.raises(SeqartError, match="not valid JSON"):
        read_jsb(write_file("x.json", "{train: "))
    with pytest.raises(SeqartError, match="expected a JSON object"):
        read_jsb(write_file("y.json", "[1, 2]"))
    with pytest.raises(SeqartError, match="pitch 300"):
        read_jsb(write_file("z.json", json.dumps({"train": [[[60, 300]]]})))


@pytest.mark.skipif(not (SHARED / "midi" / "jsb_chorales").exists(), reason="needs ../shared/datasets")
def test_jsb_keeps_its_split():
    splits = NotesCodec().read(SHARED / "midi" / "jsb_chorales" / "jsb-chorales-16th.json")
    assert {k: len(v) for k, v in splits.items()} == {"train": 229, "valid": 76, "test": 77}
    assert split_clips(splits)["test"] == splits["test"]


# --- bad input --------------------------------------------------------------------------------
def test_bad_files_each_give_one_clear_line(tmp_path, write_file):
    good = (NOTTINGHAM / "xmas1.mid").read_bytes()
    marker = tmp_path / "pwned"
    payload = pickle.dumps(eval, protocol=2)  # a pickle saved as .mid must never be unpickled
    cases = {
        "text.mid": (b"hello, not music\n" * 4, "not a MIDI file"),
        "pickle.mid": (payload + f"os.system('touch {marker}')".encode(), "not a MIDI file"),
        "truncated.mid": (good[: len(good) // 2], "truncated MIDI"),
        "huge.mid": (good[:18] + b"\xff\xff\xff\xf0" + good[22:], "claims 4294967280 bytes"),
        "header.mid": (b"MThd\x7f\xff\xff\xff" + good[8:], "corrupt MIDI header"),
    }
    for name, (data, message) in cases.items():
        with pytest.raises(SeqartError, match=message) as e:
            read_midi(write_file(name, data))
        assert name in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()


def test_empty_tracks(tmp_path):
    path = tmp_path / "empty.mid"
    smf([[(0, mido.MetaMessage("set_tempo", tempo=500000))], []]).save(path)
    with pytest.raises(SeqartError, match="no notes in the chosen tracks"):
        read_midi(path)


def test_folder_skips_and_counts_bad_files(tmp_path, caplog):
    for f in ("xmas1.mid", "slip1.mid"):
        (tmp_path / f).write_bytes((NOTTINGHAM / f).read_bytes())
    (tmp_path / "broken.mid").write_bytes(b"MThd" + b"\x00" * 3)
    (tmp_path / "notes.txt.mid").write_text("not midi")
    items, report = read_midi_folder(tmp_path)
    assert len(items) == 2 and report["skipped"] == 2 and sum(report["why"].values()) == 2
    assert "skipped 2" in caplog.text


def test_folder_without_usable_file(tmp_path):
    (tmp_path / "a.mid").write_text("nope")
    (tmp_path / "b.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0")
    with pytest.raises(SeqartError, match="no usable MIDI file.*1 not a MIDI file.*1 truncated"):
        read_midi_folder(tmp_path)


def test_cli_bad_midi_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"RIFF0000WAVEfmt ")
    p = subprocess.run([sys.executable, "-m", "seqart.cli", "train", str(bad), "--out", str(tmp_path / "run")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [f"seqart: error: {bad}: not a MIDI file (no MThd header)"]


# --- baselines ----------------------------------------------------------------------------------
def test_baselines_score_in_the_model_space():
    codec = NotesCodec()
    clips = codec.read(NOTTINGHAM)["all"]
    train, valid, test = clips[:6], clips[6:7], clips[7:]
    codec.fit_norm(train)
    base = NoteBaselines(codec, train, valid)
    held, seen = base.score(test), base.score(train)
    assert seen["bigram"]["pitch"] < seen["unigram"]["pitch"] < np.log(128)  # context helps where it was counted
    uni = held["unigram"]
    assert held["bigram"]["dt+dur"] == uni["dt+dur"] and np.isfinite(held["bigram"]["nll"])
    assert uni["frames"] == sum(len(c) for c in test)
    assert uni["nll"] == pytest.approx(uni["dt+dur"] + uni["pitch"] + uni["velocity"])
    assert held["settings"]["kernel_sd"] >= BANDWIDTHS[0]


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "midi" / "nottingham").exists(), reason="needs ../shared/datasets")
def test_bigram_beats_unigram_on_held_out_nottingham_tunes(tmp_path):
    for f in sorted((SHARED / "midi" / "nottingham").glob("*.mid"))[::4]:  # 259 of the 1,034 tunes: a quarter of the time
        shutil.copy(f, tmp_path / f.name)
    codec = NotesCodec()
    splits = split_clips(codec.read(tmp_path))
    codec.fit_norm(splits["train"])
    scores = NoteBaselines(codec, splits["train"], splits["valid"]).score(splits["test"])
    assert scores["bigram"]["pitch"] < scores["unigram"]["pitch"] - 0.2


def test_fine_tuning_widens_the_pitch_range_and_takes_the_new_tempo():
    codec = NotesCodec({"pitch_lo": 55, "pitch_hi": 88, "ref_bpm": 120.0})  # as a shipped model's options hold
    low = np.array([[0.0, 0.5, 40, 90, 0], [0.5, 0.5, 50, 90, 0]], float)  # start s, dur s, pitch, velocity, program
    clip = notes_to_clip(low, {"bpm": 96.0})
    codec.fit_data([clip])
    assert (codec.options["pitch_lo"], codec.options["pitch_hi"]) == (40, 88)
    assert codec.options["ref_bpm"] == 96.0
    fresh = NotesCodec()
    fresh.fit_norm([clip])  # a new model's range is the data's own, not widened from 0..127
    assert (fresh.options["pitch_lo"], fresh.options["pitch_hi"]) == (40, 50)
