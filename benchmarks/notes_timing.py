"""Does a notes model's music sit on its grid? Onsets on the grid, blips, pitch range, velocity spread.

    .venv/bin/python benchmarks/notes_timing.py MODEL DATA --name nottingham [--n 20 --seconds 40 -t 0.8]

Samples `n` pieces (seeds 0..n-1) as `seqart sample` does, writes each as a MIDI
file, reads the file back with mido (what a DAW sees) and measures, beside the
same figures for the held-out test split of DATA written and read back the same
way (the control):

* `on_grid`: the share of onsets within 0.01 beats of the grid at the file's
  tempo, for the data's own grid (inferred from its training split, see
  seqart.codecs.notes.grid) and for eighths and sixteenths;
* `blips`: the share of notes shorter than 20 ms;
* `pitch_outside_training`: the share of pitches outside the training range;
* `velocity`: distinct velocities and their standard deviation (MIDI units).
"""

from __future__ import annotations

import _common as C  # noqa: I001 - pins threads before numpy/torch load

import argparse
import tempfile
from pathlib import Path

import mido
import numpy as np

from seqart.codecs.notes.grid import infer_grid, on_grid, onsets_and_ends
from seqart.export import export_clips
from seqart.generate import sample_clips
from seqart.modelio import load_model, resolve
from seqart.splits import split_clips

BLIP = 0.02  # seconds


def read_back(path: Path) -> tuple[np.ndarray, float]:
    """(N, 4) onset_beats, dur_s, pitch, velocity of every note in a MIDI file, and its first tempo (bpm)."""
    mid = mido.MidiFile(path)
    tempo = next((m.tempo for t in mid.tracks for m in t if m.type == "set_tempo"), 500000)
    rows, held, now = [], {}, 0.0
    for msg in mid:  # merged tracks, times in seconds
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            held.setdefault(msg.note, []).append((now, msg.velocity))
        elif msg.type in ("note_on", "note_off") and held.get(msg.note):
            start, vel = held[msg.note].pop(0)
            rows.append([start, now - start, msg.note, vel])
    bpm = mido.tempo2bpm(tempo)
    notes = np.asarray(rows, np.float64).reshape(-1, 4)
    notes[:, 0] *= bpm / 60.0
    return notes, bpm


def measure(files: list[Path], grid: int, lo: int, hi: int) -> dict:
    notes = np.concatenate([read_back(f)[0] for f in files])
    on = notes[:, 0]
    return {"files": len(files), "notes": int(len(notes)),
            "on_grid": {f"data grid ({grid}/beat)": round(float(on_grid(on, grid).mean()), 4),
                        "eighths": round(float(on_grid(on, 2).mean()), 4),
                        "sixteenths": round(float(on_grid(on, 4).mean()), 4)},
            "blips": round(float((notes[:, 1] < BLIP).mean()), 4),
            "shortest_note_s": round(float(notes[:, 1].min()), 4),
            "pitch_outside_training": round(float(((notes[:, 2] < lo) | (notes[:, 2] > hi)).mean()), 4),
            "velocity": {"distinct": int(len(np.unique(notes[:, 3]))), "std": round(float(notes[:, 3].std()), 2)}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--name", required=True)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("-t", "--temperature", type=float, default=0.8)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    _, codec, meta = load_model(Path(a.model))
    splits = split_clips(codec.read(Path(a.data)))
    grid, share = infer_grid([t for c in splits["train"] for t in onsets_and_ends(c, float(c.meta.get("bpm", 120)))])
    lo, hi = int(codec.options["pitch_lo"]), int(codec.options["pitch_hi"])
    result = C.header(f"notes_timing_{a.name}") | {
        "model": str(resolve(Path(a.model))), "model_time": codec.options.get("time", "seconds"),
        "model_step": meta.get("step"), "data": a.data, "data_grid": {"steps_per_beat": grid, "share": round(share, 5)},
        "sampling": {"n": a.n, "seconds": a.seconds, "temperature": a.temperature, "seeds": f"0..{a.n - 1}"},
        "training_pitch_range": [lo, hi]}
    with tempfile.TemporaryDirectory() as tmp:
        made = []
        for seed in range(a.n):
            clips = sample_clips(Path(a.model), n=1, temperature=a.temperature, seed=seed, seconds=a.seconds,
                                 max_frames=2000)
            made.append(export_clips(clips, Path(tmp) / f"s{seed}.mid"))
        held = [export_clips([c], Path(tmp) / f"d{i}.mid") for i, c in enumerate(splits["test"])]
        result["model"] = measure(made, grid, lo, hi) | {"checkpoint": result["model"]}
        result["held_out_data"] = measure(held, grid, lo, hi)
    result["loadavg_end"] = C.loadavg()
    C.emit(f"notes_timing_{a.name}", result, a.out)


if __name__ == "__main__":
    main()
