"""The notes codec's settings (what a codec's settings.py declares: seqart/codecs/__init__.py)."""

from dataclasses import replace

from seqart.spec import Setting, quantity

_SECONDS = dict(unit="s")
OPTIONS = [
    Setting("codec.tracks", str, "melody", help="MIDI files: melody, all, drums or an instrument index"),
    Setting("codec.velocity_bins", int, 8, 1, 128, help="velocity classes"),
    Setting("codec.program", bool, False, help="a program channel (multi-instrument data)"),
    Setting("codec.eps", float, 0.01, 0.0, 10.0, low_open=True, **_SECONDS, help="added before the log of a time"),
    Setting("codec.snap", float, 0.005, 0.0, 10.0, **_SECONDS, help="sampled time shifts below this are 0 (a chord)"),
    Setting("codec.min_dur", float, 0.02, 0.0, 60.0, **_SECONDS, help="shortest note written"),
    Setting("codec.transpose", int, 5, 0, 127, unit="semitones", help="augmentation: up to this either way"),
    Setting("codec.stretch", float, 0.1, 0.0, 10.0, help="augmentation: tempo factor in [1/(1+s), 1+s]"),
    Setting("codec.ref_bpm", float, 120.0, 0.0, 999.0, unit="BPM", help="learnt: the training data's tempo", learnt=True),
    Setting("codec.pitch_lo", int, 0, 0, 127, help="learnt: lowest pitch of the training data", learnt=True),
    Setting("codec.pitch_hi", int, 127, 0, 127, help="learnt: highest pitch of the training data", learnt=True),
    Setting("codec.grid_seconds", float, 0.0, 0.0, 60.0, **_SECONDS, help="JSB piano rolls: a grid step; 0 = from the file name"),
    Setting("codec.dequantise", float, 0.02, 0.0, 10.0, help="uniform noise on log-times in model space"),
    Setting("codec.time", str, "seconds", choices=("seconds", "grid"),
            help="seconds (a density over log-seconds) or grid (classes of steps on the data's grid)"),
    Setting("codec.grid", int, 0, 0, 96, unit="steps/beat", help="grid time: 0 = inferred from the training data"),
    Setting("codec.grid_share", float, 0.0, 0.0, 1.0, help="learnt: share of training onsets on the grid", learnt=True),
    Setting("codec.max_beats", int, 16, 1, 1024, unit="beats", help="grid time: longest time shift or duration"),
    Setting("codec.dt_steps", list, [], help="learnt: grid time-shift classes", learnt=True),
    Setting("codec.dur_steps", list, [], help="learnt: grid duration classes", learnt=True),
    Setting("codec.dynamics", int, 12, 0, 63, unit="velocity", help="velocity shaping of generated notes; 0 = as sampled"),
]
GENERATION = [
    Setting("scale", str, None, help="TONIC:MODE, e.g. C:major: only its pitches"),
    replace(quantity("tempo", "tempo"), help="play at this tempo (time rescaled from the data's)"),
    Setting("prime_bars", float, None, 0.0, 1024.0, low_open=True, unit="bars", help="prime with this many bars"),
    Setting("dynamics", float, None, 0.0, 63.0, unit="velocity", help="velocity shaping; 0 = as sampled"),
]
