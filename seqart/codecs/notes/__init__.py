"""MIDI notes: melodies, chorales, anything a Standard MIDI File holds.

A notes Clip has one frame per note, in onset order (chords: by pitch):

* `dt`       seconds since the previous note's onset (0 for the other notes of a chord;
             the first note's onset from the start of the piece);
* `dur`      the note's length in seconds;
* `pitch`    MIDI pitch 0..127 (class index);
* `velocity` a velocity bin 0..bins-1 (bin b covers MIDI velocities [b*w, (b+1)*w), w = 128/bins);
* `program`  (option `program = true` only) GM program 0..127, or 128 for drums.

`time_channel` is "dt"; meta carries `bpm` (the tempo the seconds were read at)
and, from files, `time_signature`, `source`, `group` (the file, for splits) and `family`.

Model space: (dt, dur) become `log(seconds + eps)`, normalised, and the head
models them with one bivariate mixture, so rhythm and articulation are
predicted together. A chord's dt = 0 maps to exactly log(eps), a spike the
mixture can fit with one narrow component; on the way out, values within
`snap` seconds of zero become exactly 0 so sampled chords stay chords.

Grid time (option `time = "grid"`, `seqart.codecs.notes.grid`): dt and dur
become classes of whole steps on the data's grid (inferred when fitting,
stored with its vocabulary in the options, so the checkpoint carries it).
The head then holds no mixture: dt, dur, pitch and velocity are four
categoricals, and a sampled note can only fall on the grid, last at least one
step and take a length the training data held. Clips stay in seconds either
way, so export and the live engine see no difference.

Dequantisation (seconds only): MIDI times sit on a grid (ticks, and mostly a few note
values), where a density can grow without bound by narrowing onto the grid
points, so the NLL would measure resolution, not music. As is usual for
densities of discrete data (Uria et al. 2013; Theis et al. 2016), model-space
log-times get uniform noise of width `dequantise` (0.02: +-1% of the time
value, inaudible): fresh noise in training (`augment`), and a fixed draw
seeded by the clip's content everywhere else, so evaluation is repeatable
and every model and baseline scores the same numbers.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from seqart import spec
from seqart.clip import Clip
from seqart.codecs import register
from seqart.codecs.base import Codec, Norm
from seqart.codecs.notes import grid as note_grid
from seqart.codecs.notes.music import dynamics, scale_pitches  # noqa: F401 - scale_pitches is public here
from seqart.codecs.notes import settings as declared
from seqart.errors import SeqartError
from seqart.layout import Categorical, Layout, Mixture

DEFAULTS = {
    "tracks": "melody",  # melody | all | drums | an instrument index, for MIDI files
    "velocity_bins": 8,
    "program": False,  # add a program channel (for multi-instrument data)
    "eps": 0.01,  # seconds added before the log: dt = 0 -> log(0.01)
    "snap": 0.005,  # sampled dt below this many seconds -> exactly 0 (a chord)
    "min_dur": 0.02,  # shortest note written, seconds
    "transpose": 5,  # augmentation: up to this many semitones either way, within the pitch range
    "stretch": 0.1,  # augmentation: tempo stretch factor in [1/(1+s), 1+s]
    "ref_bpm": 120.0,  # the training data's tempo (median of files; set when fitting)
    "pitch_lo": 0,  # the training data's pitch range (set when fitting)
    "pitch_hi": 127,
    "grid_seconds": 0.0,  # JSB piano rolls: seconds per grid step; 0 = from the file name
    "dequantise": 0.02,  # width of the uniform noise on log(seconds + eps) in model space (see above)
    "time": "seconds",  # seconds: a density over log-seconds | grid: classes of steps on the data's grid
    "grid": 0,  # grid: steps per beat; 0 = inferred from the training data when fitting
    "grid_share": 0.0,  # grid: share of the training onsets and ends on that grid (set when fitting)
    "max_beats": 16,  # grid: longest time shift or duration, in beats (longer ones are cut to it)
    "dt_steps": [],  # grid: the time-shift classes, [steps, phase in the beat] (set when fitting)
    "dur_steps": [],  # grid: the duration classes, in steps (set when fitting)
    "dynamics": 12,  # velocity shaping when writing generated notes, MIDI units either way (0: as sampled)
}
TIMES = ("seconds", "grid")
SAMPLE_OPTIONS = ("scale", "tempo", "prime_bars", "dynamics")


def notes_to_clip(notes: np.ndarray, meta: dict, bins: int = 8, program: bool = False) -> Clip:
    """(N, 5) (start_s, dur_s, pitch, velocity, program) sorted by start -> notes Clip."""
    start = notes[:, 0]
    dt = np.diff(start, prepend=0.0)
    vel_bin = np.clip(notes[:, 3] * bins // 128, 0, bins - 1)
    cols = [dt, notes[:, 1], notes[:, 2], vel_bin] + ([notes[:, 4]] if program else [])
    meta = dict(meta) | {"velocity_bins": bins}
    return Clip(np.column_stack(cols), channels(program), "notes", time_channel="dt", meta=meta)


def clip_to_notes(clip: Clip, bins: int = 8, program: int = 0) -> np.ndarray:
    """notes Clip -> (N, 5) rows (start_s, dur_s, pitch, velocity, program); velocity = bin centre,
    shaped by `dynamics` when the clip's meta asks for it (generated clips)."""
    f = clip.frames
    start = np.cumsum(f[:, clip.channels.index("dt")].astype(np.float64))
    vel = (clip.channel("velocity").astype(np.float64) + 0.5) * (128 / bins)
    if float(clip.meta.get("dynamics") or 0) > 0:
        bpm = float(clip.meta.get("bpm") or 120.0)
        vel = vel + dynamics(start, clip.channel("pitch").astype(np.float64), bpm, float(clip.meta["dynamics"]))
    prog = clip.channel("program") if "program" in clip.channels else np.full(len(f), program)
    notes = np.column_stack([start, clip.channel("dur"), clip.channel("pitch"), np.clip(vel, 1, 127), prog])
    return notes.astype(np.float64)


def channels(program: bool) -> tuple[str, ...]:
    return ("dt", "dur", "pitch", "velocity") + (("program",) if program else ())


@register
class NotesCodec(Codec):
    modality = "notes"
    writer_modules = ("seqart.codecs.notes.writers",)
    training_options = ("tracks", "transpose", "stretch", "grid_seconds", "dequantise")
    settings = tuple(declared.OPTIONS)  # seqart/codecs/notes/settings.py
    defaults = DEFAULTS
    generation_settings = tuple(declared.GENERATION)
    legacy_options = {"dynamics": 0}  # checkpoints from before the option played velocities as sampled
    suffixes = (".mid", ".midi", ".smf", ".kar", ".json")

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        options = self.with_defaults(options)
        if options["time"] not in TIMES:
            raise SeqartError(f"notes option time={options['time']!r}: expected seconds or grid")
        super().__init__(options, norm)
        self.time_factor, self.prime_bars, self.report = 1.0, None, None

    @property
    def grid(self) -> bool:
        return self.options["time"] == "grid"

    @property
    def layout(self) -> Layout:
        o = self.options
        cats = [Categorical("pitch", 128), Categorical("velocity", int(o["velocity_bins"]))]
        if o["program"]:
            cats.append(Categorical("program", 129))
        if self.grid:
            times = [Categorical("dt", max(len(o["dt_steps"]), 1)), Categorical("dur", max(len(o["dur_steps"]), 1))]
            return Layout(channels(bool(o["program"])), (), tuple(times + cats))
        return Layout(channels(bool(o["program"])), (Mixture(("dt", "dur"), "bivariate"),), tuple(cats))

    def clip_defaults(self) -> dict:
        o = self.options
        return {"time_channel": "dt", "meta": {"bpm": float(o["ref_bpm"]) / self.time_factor,
                                               "velocity_bins": int(o["velocity_bins"]), "dynamics": float(o["dynamics"])}}

    # --- reading ---------------------------------------------------------------------------
    def read(self, path: Path) -> dict[str, list[Clip]]:
        from seqart.formats import jsb, midi_in

        path, o = Path(path), self.options
        if path.is_dir():
            items, self.report = midi_in.read_midi_folder(path, str(o["tracks"]))
            splits = {"all": items}
        elif path.suffix.lower() == ".json":
            splits = jsb.read_jsb(path, float(o["grid_seconds"]) or None)
        elif path.suffix.lower() in midi_in.MIDI_SUFFIXES:
            splits = {"all": [midi_in.read_midi(path, str(o["tracks"]))]}
        else:
            raise SeqartError(f"{path}: not a notes file (expected .mid/.midi or a JSB chorales .json)")
        bins, prog = int(o["velocity_bins"]), bool(o["program"])
        return {k: [notes_to_clip(n, m, bins, prog) for n, m in v] for k, v in splits.items()}

    def renderer(self, options: dict, prefix: str):
        from seqart.codecs.notes.live import NoteRenderer

        return NoteRenderer(self, options, prefix)

    def inside_marks(self, clip: Clip) -> dict[str, dict]:
        """The piano roll over the pitch distribution: (T, 3) onset s from the clip's start, pitch,
        duration s, one per frame (a frame is a note)."""
        dt, pitch, dur = (clip.frames[:, clip.channels.index(c)].astype(np.float64) for c in ("dt", "pitch", "dur"))
        return {"classes pitch": {"spans": np.stack([np.cumsum(np.maximum(dt, 0.0)), pitch, dur], 1)}}

    def phrase_clip(self, notes: np.ndarray) -> Clip:
        from seqart.codecs.notes.live import phrase_clip

        return phrase_clip(self, notes)

    def baselines(self, train: list[Clip], valid: list[Clip]):
        from seqart.codecs.notes.baselines import NoteBaselines

        return NoteBaselines(self, train, valid)

    def describe_data(self, path: Path, options: dict | None = None) -> list[str]:
        """Lines saying which track was taken from each MIDI file under `path` (none for JSB rolls)."""
        from seqart.formats import midi_in

        o = type(self)(options).options if options is not None else self.options  # checked as the trainer will
        path, tracks = Path(path), str(o["tracks"])
        if path.is_dir():
            items, _ = midi_in.read_midi_folder(path, tracks)
            chosen = {m["source"]: ", ".join(m["tracks"]) for _, m in items}
        elif path.suffix.lower() in midi_in.MIDI_SUFFIXES:
            _, meta = midi_in.read_midi(path, tracks)
            chosen = {meta["source"]: ", ".join(meta["tracks"])}
        else:
            return []
        return [f"{path}: tracks={tracks}: {line}" for line in midi_in.summarise_choices(chosen)]

    # --- model space -----------------------------------------------------------------------
    def _log_times(self, frames: np.ndarray, chans: tuple[str, ...]) -> np.ndarray:
        t = frames[:, [chans.index("dt"), chans.index("dur")]].astype(np.float64)  # (T, 2) seconds
        return np.log(np.maximum(t, 0.0) + float(self.options["eps"]))

    def _bpm(self, clip: Clip) -> float:
        return float(clip.meta.get("bpm") or self.options["ref_bpm"])

    def _steps(self, clip: Clip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return note_grid.to_steps(clip, self._bpm(clip), int(self.options["grid"]))

    def _dt_steps(self) -> np.ndarray:
        """The steps of each dt class (a class is [steps, phase], or steps alone in early grid runs)."""
        return np.asarray([v[0] if isinstance(v, (list, tuple)) else v for v in self.options["dt_steps"]])

    def fit_grid(self, clips: list[Clip]) -> None:
        """Grid time: the grid (unless set) and the vocabularies of dt and dur steps."""
        o = self.options
        times = [t for c in clips for t in note_grid.onsets_and_ends(c, self._bpm(c))]
        g, share = note_grid.infer_grid(times)
        if int(o["grid"]):
            g, share = int(o["grid"]), float(np.mean(note_grid.on_grid(np.concatenate(times), int(o["grid"]))))
        o.update(grid=g, grid_share=round(share, 5))
        steps = [self._steps(c) for c in clips]
        cap = int(round(float(o["max_beats"]) * g))
        dts = [note_grid.cap_steps(s[0], cap, g) for s in steps]
        o.update(dt_steps=note_grid.pair_vocabulary(dts, [s[2] for s in steps]),
                 dur_steps=note_grid.vocabulary([s[1] for s in steps], cap))

    def fit_norm(self, clips: list[Clip]) -> None:
        """Mean and std of log(seconds + eps) (grid time: the grid and its classes instead);
        also records the tempo and pitch range of the data."""
        if self.grid:
            self.fit_grid(clips)
            self.norm = Norm.identity(0)
            self.options.update(pitch_lo=127, pitch_hi=0)
            self.fit_data(clips)
            return
        x = np.concatenate([self._log_times(c.frames, c.channels) for c in clips])
        std = x.std(axis=0)
        self.norm = Norm(x.mean(axis=0).astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32))
        self.options.update(pitch_lo=127, pitch_hi=0)  # fit_data widens from nothing
        self.fit_data(clips)

    def fit_data(self, clips: list[Clip]) -> None:
        """The pitch range (widened to hold these clips: transposition stays inside it) and the tempo."""
        pitches = np.concatenate([c.channel("pitch") for c in clips])
        bpms = [float(c.meta["bpm"]) for c in clips if c.meta.get("bpm")]
        o = self.options
        o.update(pitch_lo=min(int(o["pitch_lo"]), int(pitches.min())), pitch_hi=max(int(o["pitch_hi"]), int(pitches.max())),
                 ref_bpm=float(np.median(bpms)) if bpms else 120.0)

    def to_model(self, clip: Clip) -> np.ndarray:
        if self.grid:  # (T, F) class columns: dt, dur, then pitch, velocity (program)
            dt, dur, phase = self._steps(clip)
            o, rest = self.options, [clip.channels.index(c.channel) for c in self.layout.categoricals[2:]]
            if o["dt_steps"] and isinstance(o["dt_steps"][0], (list, tuple)):
                g = int(o["grid"])
                dt_cls = note_grid.pair_classes_of(note_grid.cap_steps(dt, int(round(float(o["max_beats"]) * g)), g),
                                                   phase, o["dt_steps"])
            else:
                dt_cls = note_grid.classes_of(dt, o["dt_steps"])
            times = [dt_cls, note_grid.classes_of(dur, o["dur_steps"])]
            return np.column_stack(times + [clip.frames[:, rest]]).astype(np.float32)
        logt = self._log_times(clip.frames, clip.channels)  # (T, 2)
        d = float(self.options["dequantise"])
        if d > 0:
            seed = clip.meta.get("jitter_seed", zlib.crc32(clip.frames.tobytes()))
            logt = logt + np.random.default_rng(seed).uniform(-d / 2, d / 2, logt.shape)
        cont = (logt - self.norm.shift) / self.norm.scale
        cats = [clip.channels.index(c.channel) for c in self.layout.categoricals]
        return np.concatenate([cont, clip.frames[:, cats]], axis=1).astype(np.float32)

    def _grid_seconds(self, x: np.ndarray) -> np.ndarray:
        """Class columns (T, 2) -> (dt, dur) seconds (T, 2) at the reference tempo."""
        o = self.options
        step = 60.0 / (float(o["ref_bpm"]) * int(o["grid"]))  # seconds per grid step
        cls = np.clip(x[:, :2].astype(np.int64), 0, [len(o["dt_steps"]) - 1, len(o["dur_steps"]) - 1])
        return np.column_stack([self._dt_steps()[cls[:, 0]], np.asarray(o["dur_steps"])[cls[:, 1]]]) * step

    def from_model(self, x: np.ndarray, **clip_fields) -> Clip:
        o = self.options
        if self.grid:
            secs = self._grid_seconds(x) if len(x) else np.zeros((0, 2))
        else:
            secs = np.exp(x[:, :2].astype(np.float64) * self.norm.scale + self.norm.shift) - float(o["eps"])
        dt = np.where(secs[:, 0] < float(o["snap"]), 0.0, secs[:, 0]) * self.time_factor
        dur = np.maximum(secs[:, 1] * self.time_factor, float(o["min_dur"]))  # never shorter, at any tempo
        frames = np.column_stack([dt, dur, x[:, 2:]]) if len(x) else np.zeros((0, len(self.layout.channels)))
        fields = {"modality": self.modality} | self.clip_defaults() | clip_fields
        return Clip(frames, self.layout.channels, **fields)

    # --- augmentation ------------------------------------------------------------------------
    def augment(self, clip: Clip, rng: np.random.Generator) -> Clip:
        """Transpose within the training pitch range (not drums) and stretch the tempo."""
        f = clip.frames.copy()
        pc = clip.channels.index("pitch")
        drums = "program" in clip.channels and (f[:, clip.channels.index("program")] == 128).any()
        t = int(self.options["transpose"])
        if t and not drums and len(f):
            lo = max(-t, int(self.options["pitch_lo"]) - int(f[:, pc].min()))
            hi = min(t, int(self.options["pitch_hi"]) - int(f[:, pc].max()))
            if hi >= lo:
                f[:, pc] += rng.integers(lo, hi + 1)
        s = float(self.options["stretch"])
        if s > 0 and not self.grid:  # on the grid, time is in beats: a tempo stretch changes nothing
            f[:, [clip.channels.index("dt"), clip.channels.index("dur")]] *= np.exp(rng.uniform(-np.log1p(s), np.log1p(s)))
        return clip.with_frames(f, meta=clip.meta | {"jitter_seed": int(rng.integers(2**62))})  # fresh dequantisation

    # --- generation hooks ---------------------------------------------------------------------
    def allowed_classes(self) -> dict[str, list[int]]:
        """What any Sampler of this codec may play: pitches inside the training range only."""
        lo, hi = int(self.options["pitch_lo"]), int(self.options["pitch_hi"])
        return {"pitch": [p for p in range(128) if lo <= p <= hi]}

    def allowed_after(self, prev: np.ndarray | None) -> dict[str, np.ndarray]:
        """Grid time: after a frame whose onset fell at phase p (model space; None at the start: p = 0),
        only the time-shift classes whose phase is p + steps (mod g). The model reads the phase in
        its input; a class that disagreed with the steps would put it in one place in the beat and
        the notes in another, and every later onset off the beat with them."""
        o = self.options
        if not self.grid or not o["dt_steps"] or not isinstance(o["dt_steps"][0], (list, tuple)):
            return {}
        key = (int(o["grid"]), len(o["dt_steps"]))
        if getattr(self, "_phase_masks", (None,))[0] != key:  # (g, K) -> g masks over the K classes
            v, g = np.asarray(o["dt_steps"], np.int64), int(o["grid"])
            self._phase_masks = (key, [(v[:, 1] - v[:, 0]) % g == p for p in range(g)])
        p = 0 if prev is None else int(o["dt_steps"][int(prev[0])][1])
        mask = self._phase_masks[1][p]
        return {"dt": mask} if mask.any() else {}

    def configure_sampler(self, sampler, options: dict) -> None:
        """Pitches stay inside the training range, always; scale=TONIC:MODE keeps those of a scale;
        tempo=BPM rescales time; prime_bars=N primes with N bars; dynamics=V shapes velocities."""
        unknown = set(options) - set(SAMPLE_OPTIONS)
        if unknown:
            raise SeqartError(f"unknown notes generation option(s): {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(SAMPLE_OPTIONS)})")
        options = spec.check_options(self.generation_settings, options)
        lo, hi = int(self.options["pitch_lo"]), int(self.options["pitch_hi"])
        pitches = self.allowed_classes()["pitch"]
        if "scale" in options:
            pitches = sorted(set(pitches) & set(scale_pitches(str(options["scale"]))))
            if not pitches:
                raise SeqartError(f"scale={options['scale']}: no pitch of it lies in the model's range {lo}..{hi}")
        sampler.allow("pitch", pitches)
        if "dynamics" in options:
            self.options["dynamics"] = options["dynamics"]
        if "tempo" in options:
            self.time_factor = float(self.options["ref_bpm"]) / options["tempo"]
        if "prime_bars" in options:
            self.prime_bars = options["prime_bars"]

    def prime_clip(self, path: Path, seconds: float | None = None) -> Clip:
        if self.prime_bars is not None:
            clip = super().prime_clip(path, None)
            num, den = clip.meta.get("time_signature", [4, 4])
            bpm = float(clip.meta.get("bpm", 120.0))
            seconds = self.prime_bars * num * (4.0 / den) * 60.0 / bpm
        return super().prime_clip(path, seconds)

    def frames_in(self, clip: Clip, seconds: float) -> int:
        """Notes whose onset falls before `seconds`."""
        onsets = np.cumsum(clip.channel("dt"))
        return int(np.searchsorted(onsets, seconds - 1e-9, side="left"))

    def join(self, primer: Clip, generated: Clip) -> Clip:
        """The primer (at the output tempo) followed by its continuation."""
        f = primer.frames.copy()
        f[:, [primer.channels.index("dt"), primer.channels.index("dur")]] *= self.time_factor
        return generated.with_frames(np.concatenate([f, generated.frames]))
