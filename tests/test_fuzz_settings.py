"""Generated values for codec, export and piece settings, through the real command.

Each value is what a person could type after `--set KEY=`: numbers at the extremes, NaN,
infinities, booleans, strings, lists, tables, integers too large for any machine type.
The command either runs (the value was fine) or is refused: exit 2, one line naming the
setting, no traceback, nothing written. Model and training sizes are left out on purpose:
a valid `model.hidden=65536` is a request for a 17-billion-weight model, not hostile input.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile as h
from fuzz_cli import TRAIN_FAST, assert_refused, seqart_run
from live_fixtures import write_piece

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=10, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0", "-1", "1e400", "-0.0", "true", "false", '"x"', "[1, 2]", "{ a = 1 }", "nan", "-inf",
                     "'''a'''", "[[[[[[1]]]]]]", "2", "0.5"]),
)
STROKES = ("rate", "max_len", "scale_aug", "drop_prob", "rdp_epsilon", "dequantise")
EXPORTS = {".svg": ("margin_mm", "gap_mm", "cell_mm", "stroke_width_mm", "columns", "animate", "speed", "hold_s",
                    "page", "landscape", "color"),
           ".png": ("dpi", "margin_mm", "columns", "stroke_width_mm", "background"),
           ".gif": ("speed", "frame_ms", "max_frames", "max_px", "dpi")}
PIECE = ("render.scale", "render.origin", "render.midi_channel", "piece.temperature", "piece.lookahead",
         "piece.gap_beats", "clock.tempo", "osc.ahead_ms", "piece.bias", "clock.beats_per_bar")


def tiny_drawings(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    items = np.empty(8, object)
    for i in range(8):
        d = rng.integers(-9, 10, (12, 3)).astype(np.int16)
        d[:, 2] = 0
        d[-1, 2] = 1
        items[i] = d
    path = folder / "tiny.npz"
    path.write_bytes(h.npz_bytes({"train": items[:6], "valid": items[6:], "test": items[6:]}))
    return path


@FUZZ
@given(key=st.sampled_from(STROKES), value=values)
def test_codec_settings(key, value):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        run = seqart_run("train", tiny_drawings(Path(tmp)), "--out", out, *TRAIN_FAST, "--set", f"codec.{key}={value}",
                         seconds=60)
        if run.code != 0:
            assert_refused(run, key, out=out)


@FUZZ
@given(ext=st.sampled_from(sorted(EXPORTS)), data=st.data(), value=values)
def test_export_settings(ext, data, value):
    key = data.draw(st.sampled_from(EXPORTS[ext]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"s{ext}"
        run = seqart_run("sample", "sheep", "--out", out, "--set", f"export.{key}={value}", seconds=60)
        if run.code != 0:
            assert_refused(run, key, out=out)


@FUZZ
@given(key=st.sampled_from(PIECE), value=values)
def test_piece_settings(key, value, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("piece")
    piece = write_piece(tmp / "p.toml", "sheep", piece={"realtime": False}, osc={"target": "127.0.0.1:9"})
    run = seqart_run("perform", piece, "--duration", "0.3", "--set", f"{key}={value}", seconds=60)
    if run.code != 0:
        assert_refused(run, key.split(".")[1])
