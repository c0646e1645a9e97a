"""Generated values for every setting the spec declares beyond pieces and run sizes: each codec's
options (handwriting and the DRAW canvas included), DRAW's [model], every writer's export options,
render pieces and generation options, through the real commands.

Each value is what a person could type after `--set KEY=` or put in a TOML file (tests/
test_fuzz_settings.py's strategy). The command runs in a child under an address-space cap (the
parent's size plus 1 GiB) and a time limit, with SEQART_MAX_MEMORY_MB below the cap so a size
inside its range is answered by the estimate, not the allocator. It either works (the value was
fine) or is refused: exit 2, one line naming the setting, no traceback, nothing written.
"""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile as h
from fuzz_cli import assert_refused, seqart_run
from test_fuzz_settings import tiny_drawings, values
from tests.samples import bar_images

from seqart import spec
from seqart.codecs import codec_class

FUZZ = settings(max_examples=10, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LIMITED = {"SEQART_MAX_MEMORY_MB": "384"}  # below the child's 1 GiB cap: the estimate answers first


def _bars(folder: Path) -> Path:
    return bar_images(folder / "bars-idx3-ubyte", 24)


def _handwriting(folder: Path) -> Path:
    from seqart.codecs.handwriting.synthetic import write_set

    write_set(folder / "hand", 6, 0, 0)
    return folder / "hand"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """A small real input of every modality."""
    folder = tmp_path_factory.mktemp("fuzz_spec")
    return {"strokes": tiny_drawings(folder), "notes": h.midi_scale(folder, 60), "poses": h.bvh_frames(folder, 60, 5),
            "canvas": _bars(folder), "handwriting": _handwriting(folder)}


@pytest.fixture(scope="module")
def draw_model(data, tmp_path_factory) -> Path:
    """A tiny trained DRAW model, for the canvas writers."""
    out = tmp_path_factory.mktemp("draw") / "run"
    run = seqart_run("train", data["canvas"], "--out", out, "--steps", "2", "--batch-size", "4", "--quiet",
                     "--set", "train.valid_every=1", "--set", "model.glimpses=3", "--set", "model.enc_hidden=8",
                     "--set", "model.dec_hidden=8", "--set", "model.z_dim=2", seconds=120)
    assert run.code == 0, run.stderr[-2000:]
    return out


CODEC_KEYS = [(m, s.name.removeprefix("codec.")) for m in ("strokes", "notes", "poses", "canvas", "handwriting")
              for s in codec_class(m).settings]


@FUZZ
@given(case=st.sampled_from(CODEC_KEYS), value=values)
def test_every_codec_option(data, case, value):
    """`seqart prepare` reads the data through the codec made with the option, and writes a cache."""
    modality, key = case
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cache"
        run = seqart_run("prepare", data[modality], "--out", out, "--set", f"codec.{key}={value}", seconds=60,
                         env=LIMITED)
        if run.code != 0:
            assert_refused(run, key, out=out)


@FUZZ
@given(key=st.sampled_from([s.name.removeprefix("model.") for s in spec.DRAW]), value=values)
def test_every_draw_model_setting(data, key, value):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        run = seqart_run("train", data["canvas"], "--out", out, "--steps", "1", "--batch-size", "2", "--quiet",
                         "--set", "train.valid_every=1", "--set", f"model.{key}={value}", seconds=90, env=LIMITED)
        if run.code != 0:
            assert_refused(run, key, out=out)


def _writers() -> list[tuple[str, str, str]]:
    """(modality, extension, option) of every keyword option of every writer."""
    from seqart import export

    export._load_all()
    return sorted((m, ext, p.name) for (m, ext), fn in export._WRITERS.items()
                  for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY)


MODELS = {"strokes": "sheep", "notes": "nottingham", "poses": "salsa"}  # canvas: the tiny DRAW model


@FUZZ
@given(case=st.sampled_from([c for c in _writers() if c[0] in (*MODELS, "canvas")]), value=values)
def test_every_export_option_of_every_writer(draw_model, case, value):
    modality, ext, key = case
    model = MODELS.get(modality, draw_model)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"x{ext}"
        run = seqart_run("sample", model, "--out", out, "--frames", "8", "--set", f"export.{key}={value}",
                         seconds=90, env=LIMITED)
        if run.code != 0:
            assert_refused(run, key, out=out)


@FUZZ
@given(key=st.sampled_from([s.name.removeprefix("render.") for s in spec.RENDER]), value=values)
def test_every_render_piece_setting(key, value):
    with tempfile.TemporaryDirectory() as tmp:
        table = {"model": '"nottingham"', "out": '["x.mid"]', "notes": "8"} | {key: value}
        piece = Path(tmp) / "p.toml"
        piece.write_text("[render]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
        out = Path(tmp) / "out"
        run = seqart_run("render", piece, "--out-dir", out, seconds=60, env=LIMITED)
        if run.code != 0:
            assert_refused(run, out=out)
            assert key in run.lines[0] or "p.toml" in run.lines[0], run.lines[0]


GENERATION = [(m, s.name) for m in ("notes", "poses") for s in codec_class(m).generation_settings]


@FUZZ
@given(case=st.sampled_from(GENERATION), value=values)
def test_every_generation_option(case, value):
    modality, key = case
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / ("x.mid" if modality == "notes" else "x.bvh")
        run = seqart_run("sample", MODELS[modality], "--out", out, "--frames", "8", "--set", f"{key}={value}",
                         seconds=60, env=LIMITED)
        if run.code != 0:
            assert_refused(run, key, out=out)


def test_the_issues_examples_are_one_line_each(data, tmp_path):
    """The audit's own examples, by hand: codec.rate=0, rdp_epsilon=nan, drop_prob=2, export.fps=-1
    for a GIF, render.scale=nan in a live piece."""
    from live_fixtures import write_piece

    for item, named in (("codec.rate=0", "codec.rate = 0.0 is out of range (0, 10000]"),
                        ("codec.rdp_epsilon=nan", "codec.rdp_epsilon = nan is out of range [0, 1e+06]"),
                        ("codec.drop_prob=2", "codec.drop_prob = 2.0 is out of range [0, 1]")):
        run = seqart_run("prepare", data["strokes"], "--out", tmp_path / "c", "--set", item)
        assert_refused(run, named, out=tmp_path / "c")
    run = seqart_run("sample", "salsa", "--out", tmp_path / "x.gif", "--frames", "8", "--set", "export.fps=-1")
    assert_refused(run, "export.fps = -1 is out of range (0, 1000]", out=tmp_path / "x.gif")
    piece = write_piece(tmp_path / "p.toml", "sheep", piece={"realtime": False}, osc={"target": "127.0.0.1:9"})
    run = seqart_run("perform", piece, "--duration", "0.3", "--set", "render.scale=nan")
    assert_refused(run, "render.scale = nan is out of range [-1e+06, 1e+06]")
