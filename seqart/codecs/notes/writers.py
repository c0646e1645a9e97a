"""Notes out: Standard MIDI Files, piano-roll PNGs and (through FluidSynth) WAV audio.

* `.mid` / `.midi`: a type-1 file, one named track per program (its General
  MIDI name; drums on channel 10), at the clips' tempo (meta "bpm", else 120)
  so a DAW's bar grid lines up; several clips play one after another, `gap`
  seconds apart. Notes are made playable first (`playable`): a note still
  sounding when its pitch strikes again ends there (a reader pairs a note-off
  with the oldest note-on of its pitch, so an overlap would come back as a
  blip of a few milliseconds), and no note is shorter than `MIN_NOTE` seconds.
* `.png`: a piano roll per clip, stacked; time runs right, pitch up, a line at
  every C, a faint line every second; darker notes are louder.
* `.wav`: the `.mid` rendered by the `fluidsynth` program with a General MIDI
  soundfont (`$SEQART_SOUNDFONT`, or the usual Debian/Homebrew paths).

All writers are deterministic: same clips and options, same bytes (the WAV as
far as FluidSynth is).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.export import output, register_writer

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/default.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2",
              "/opt/homebrew/share/soundfonts/default.sf2", "/usr/local/share/soundfonts/default.sf2")
DRUMS = 128
RESOLUTION = 480  # ticks per beat: 480 holds sixteenths, triplets and their halves exactly
MIN_NOTE = 0.02  # seconds: shorter notes are clicks, not notes (and MIDI readers may drop them)


def playable(notes: np.ndarray, min_note: float = MIN_NOTE) -> np.ndarray:
    """(N, 5) notes -> the notes a MIDI file can hold as written, sorted by (start, pitch).

    Per (pitch, program): a note is cut where the same pitch strikes again; a strike within
    `min_note` of the previous one is dropped (the earlier note goes on sounding);
    every note lasts at least `min_note` seconds."""
    notes = notes[np.lexsort((notes[:, 2], notes[:, 0]))]
    key = np.round(notes[:, 2]) * 256 + notes[:, 4]
    keep = np.ones(len(notes), bool)
    out = notes.copy()
    for k in np.unique(key):
        idx = np.flatnonzero(key == k)
        last = -1
        for i in idx:  # in onset order
            if last >= 0 and out[i, 0] - out[last, 0] < min_note:
                keep[i] = False
                out[last, 1] = max(out[last, 1], out[i, 0] + out[i, 1] - out[last, 0])
                continue
            if last >= 0:
                out[last, 1] = min(out[last, 1], out[i, 0] - out[last, 0])
            last = i
    out[:, 1] = np.maximum(out[:, 1], min_note)
    return out[keep]


def clips_to_notes(clips: list[Clip], gap: float = 1.0, program: int = 0) -> np.ndarray:
    """Clips one after another -> (N, 5) rows (start_s, dur_s, pitch, velocity, program)."""
    from seqart.codecs.notes import clip_to_notes

    parts, offset = [], 0.0
    for clip in clips:
        if clip.modality != "notes":
            raise SeqartError(f"cannot write {clip.modality} clips as notes")
        bins = _velocity_bins(clip)
        notes = clip_to_notes(clip, bins, program)
        notes = notes[np.isfinite(notes).all(axis=1)]
        notes[:, 0] += offset
        parts.append(notes)
        if len(notes):
            offset = float((notes[:, 0] + notes[:, 1]).max()) + gap
    return np.concatenate(parts) if parts else np.zeros((0, 5))


def _velocity_bins(clip: Clip) -> int:
    return int(clip.meta.get("velocity_bins", 8))


def to_pretty_midi(notes: np.ndarray, bpm: float = 120.0, time_signature=(4, 4)):
    """(N, 5) notes -> pretty_midi.PrettyMIDI with one instrument per program."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=float(bpm))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(int(time_signature[0]), int(time_signature[1]), 0.0))
    for prog in sorted({int(p) for p in notes[:, 4]}):
        name = "Drums" if prog == DRUMS else pretty_midi.program_to_instrument_name(prog)
        inst = pretty_midi.Instrument(program=0 if prog == DRUMS else prog, is_drum=prog == DRUMS, name=name)
        for s, d, p, v, _ in notes[notes[:, 4] == prog]:
            inst.notes.append(pretty_midi.Note(int(np.clip(v, 1, 127)), int(np.clip(p, 0, 127)), float(s), float(s + d)))
        pm.instruments.append(inst)
    return pm


@register_writer("notes", ".mid", ".midi")
def write_midi(clips: list[Clip], dest, *, gap: float = 1.0, program: int = 0, tempo: float | None = None) -> None:
    """Clips -> a Standard MIDI File; `tempo` (bpm) only sets the file's beat grid."""
    if not 0 <= int(program) <= 127:
        raise SeqartError(f"program={program}: expected a General MIDI program 0..127")
    notes = clips_to_notes(clips, gap, program)
    if len(notes) == 0:
        raise SeqartError(f"{dest}: no notes to write")
    bpm = float(tempo or clips[0].meta.get("bpm") or 120.0)
    if not 1.0 <= bpm <= 1000.0:
        raise SeqartError(f"tempo={bpm}: expected 1..1000 bpm")
    notes = playable(notes, MIN_NOTE + 2 * 60.0 / (bpm * RESOLUTION))  # two ticks spare: times round to ticks
    pm = to_pretty_midi(notes, bpm, clips[0].meta.get("time_signature", (4, 4)))
    with output(dest, binary=True) as f:
        pm.write(f)


@register_writer("notes", ".png")
def write_piano_roll(clips: list[Clip], dest, *, px_per_second: float = 40.0, px_per_pitch: int = 4,
                     max_width: int = 4000) -> None:
    """Clips -> a PNG piano roll, one band per clip (white background, notes dark blue)."""
    bands = [clips_to_notes([c]) for c in clips]
    allnotes = np.concatenate(bands)
    if len(allnotes) == 0:
        raise SeqartError(f"{dest}: no notes to draw")
    lo, hi = int(allnotes[:, 2].min()) - 2, int(allnotes[:, 2].max()) + 2
    end = float((allnotes[:, 0] + allnotes[:, 1]).max())
    pps = min(float(px_per_second), max_width / max(end, 1e-3))
    band_h = (hi - lo + 1) * px_per_pitch
    img = Image.new("RGB", (max(1, int(np.ceil(end * pps)) + 2), band_h * len(bands) + 2 * (len(bands) - 1)), "white")
    draw = ImageDraw.Draw(img)
    for b, notes in enumerate(bands):
        top = b * (band_h + 2)
        _grid(draw, img.size[0], top, band_h, lo, hi, end, pps, px_per_pitch)
        for s, d, p, v, _ in notes:
            y = top + (hi - int(p)) * px_per_pitch
            shade = int(200 - 1.5 * float(v))  # louder -> darker
            draw.rectangle([int(s * pps), y, max(int(s * pps), int((s + d) * pps) - 1), y + px_per_pitch - 1],
                           fill=(shade // 3, shade // 2, 140 + shade // 3), outline=(20, 20, 60))
    with output(dest, binary=True) as f:
        img.save(f, format="PNG")


def _grid(draw, width: int, top: int, band_h: int, lo: int, hi: int, end: float, pps: float, px: int) -> None:
    for sec in range(int(end) + 1):
        draw.line([(int(sec * pps), top), (int(sec * pps), top + band_h - 1)], fill=(235, 235, 235))
    for p in range(lo, hi + 1):
        if p % 12 == 0:  # every C
            y = top + (hi - p) * px + px - 1
            draw.line([(0, y), (width, y)], fill=(190, 190, 190))


def find_soundfont() -> str | None:
    env = os.environ.get("SEQART_SOUNDFONT")
    if env:
        return env if Path(env).is_file() else None
    return next((p for p in SOUNDFONTS if Path(p).is_file()), None)


@register_writer("notes", ".wav")
def write_wav(clips: list[Clip], dest, *, gap: float = 1.0, program: int = 0, rate: int = 44100) -> None:
    """Clips -> audio, rendered offline by FluidSynth with a General MIDI soundfont."""
    synth, sf2 = shutil.which("fluidsynth"), find_soundfont()
    if synth is None or sf2 is None:
        missing = "the fluidsynth program" if synth is None else "a General MIDI soundfont"
        raise SeqartError(f"{dest}: writing .wav needs FluidSynth and a General MIDI soundfont; {missing} is missing "
                          "(Debian/Ubuntu: apt install fluidsynth fluid-soundfont-gm; macOS: brew install fluid-synth "
                          "and set SEQART_SOUNDFONT=/path/to/GM.sf2); .mid needs neither")
    with tempfile.TemporaryDirectory(prefix="seqart-wav-") as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        write_midi(clips, mid, gap=gap, program=program)
        try:
            p = subprocess.run([synth, "-ni", "-q", "-F", str(wav), "-r", str(int(rate)), sf2, str(mid)],
                               capture_output=True, text=True, errors="replace", timeout=600)
        except subprocess.TimeoutExpired:
            raise SeqartError(f"{dest}: fluidsynth took over 10 minutes; write .mid instead") from None
        if p.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
            raise SeqartError(f"{dest}: fluidsynth failed (exit {p.returncode}: {(p.stderr or p.stdout).strip()[:160]})")
        with output(dest, binary=True) as f:
            f.write(wav.read_bytes())
