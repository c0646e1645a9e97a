"""One spec for every setting: each place that takes a quantity uses the same range, and the docs agree."""

import math
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from seqart import spec
from seqart.config import TrainConfig
from seqart.errors import SeqartError
from seqart.live.piece import DEFAULTS as PIECE_DEFAULTS
from seqart.model import ModelConfig

ROOT = Path(__file__).resolve().parents[1]


def test_the_settings_doc_is_generated_from_the_spec():
    from seqart.spec_docs import settings_markdown

    assert (ROOT / "docs" / "settings.md").read_text() == settings_markdown(), \
        "docs/settings.md is stale: run python -m seqart.spec_docs"


def test_every_run_setting_is_in_the_spec_with_its_default():
    declared = {s.name: s for s in spec.TRAIN + spec.MODEL}
    for section, cls, skip in (("train", TrainConfig, ()), ("model", ModelConfig, ("layout",))):
        for f in fields(cls):
            if f.name in skip:
                continue
            s = declared.pop(f"{section}.{f.name}")
            assert s.default == f.default and isinstance(f.default, s.type), f.name
    assert not declared  # nothing in the spec that the code does not have


def test_every_piece_key_is_in_the_spec_with_its_default():
    """Live pieces take their keys from the spec; every number has a range, every choice its values."""
    declared = {s.name: s for s in spec.PIECE}
    for section, table in PIECE_DEFAULTS.items():
        for key, default in table.items():
            s = declared.pop(f"{section}.{key}")
            assert s.default == default and isinstance(default, s.type), s.name
            assert s.low is not None or s.type is not float and s.type is not int, s.name
    assert not declared
    from seqart.render import DEFAULTS as RENDER_DEFAULTS

    assert {f"render.{k}": v for k, v in RENDER_DEFAULTS.items()} == {s.name: s.default for s in spec.RENDER}


def test_every_codec_option_is_in_the_spec_with_its_default():
    """Each codec's options (what --set codec.KEY= and a checkpoint's JSON may hold) are declared once."""
    from seqart.codecs import codec_class, known_modalities

    for modality in known_modalities():
        options = codec_class(modality)().options
        declared = {s.name.removeprefix("codec."): s for s in codec_class(modality).settings}
        assert sorted(options) == sorted(declared), modality
        for key, s in declared.items():
            assert s.default == options[key] and (s.default is None or isinstance(options[key], s.type)), (modality, key)
            assert s.check(options[key]) == options[key]  # every default is in its own range


def test_every_export_option_of_every_writer_is_in_the_spec():
    """The same name means the same in every writer: one type, one range; a default that differs
    between writers is declared as none (each writer's own)."""
    import inspect

    from seqart import export

    export._load_all()
    declared = {s.name.removeprefix("export."): s for s in spec.EXPORT}
    used = set()
    for (modality, ext), fn in export._WRITERS.items():
        for p in inspect.signature(fn).parameters.values():
            if p.kind is not p.KEYWORD_ONLY:
                continue
            s = declared[p.name]
            used.add(p.name)
            assert s.default is None or s.default == p.default, (modality, ext, p.name)
            assert p.default is None or s.type is object or isinstance(p.default, s.type), (modality, ext, p.name)
            if p.default is not None:
                s.check(p.default)
    assert used == set(declared)  # nothing declared that no writer takes


def test_every_model_setting_of_every_family_is_in_the_spec():
    from seqart.family import get

    for name, table in spec.MODELS.items():
        settings = get(name).settings()
        assert settings == {s.name.removeprefix("model."): s.default for s in table}, name


def test_every_generation_option_is_in_the_spec():
    from seqart.codecs import codec_class
    from seqart.codecs.notes import SAMPLE_OPTIONS

    assert sorted(SAMPLE_OPTIONS) == sorted(s.name for s in codec_class("notes").generation_settings)


def _numeric_flags():
    """(command, flag, parameter name) of every number-typed option of every seqart command."""
    import typing

    import typer.main

    from seqart.cli import app

    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        hints = typing.get_type_hints(cmd.callback)
        for p in cmd.params:
            kind = hints.get(p.name)
            if kind in (int, float, typing.Optional[int], typing.Optional[float]) and p.opts[0].startswith("-"):
                yield name, p.opts[0], p.name


# train's flags are --set model.* / train.*; sample's are the generation table; the rest are FLAGS
TRAIN_FLAGS = {"--steps": "train.steps", "--batch-size": "train.batch_size", "--hidden": "model.hidden",
               "--mixtures": "model.mixtures", "--seed": "train.seed"}


def _flag_setting(command: str, flag: str, name: str) -> spec.Setting:
    if command == "train":
        return spec.setting(TRAIN_FLAGS[flag])
    if any(s.name == flag for s in spec.FLAGS):
        return spec.setting(flag, spec.FLAGS)
    return spec.setting(name, spec.GENERATE)


def test_every_numeric_cli_flag_is_in_the_spec():
    flags = list(_numeric_flags())
    assert len(flags) >= 20
    for command, flag, name in flags:
        s = _flag_setting(command, flag, name)
        assert s.low is not None and s.high is not None, (command, flag)


@pytest.mark.slow
def test_every_numeric_cli_flag_refuses_what_the_spec_refuses(tmp_path):
    """Just past each flag's spec range: exit 2, one line naming the flag (or its setting) and the range."""
    from fuzz_cli import assert_refused, seqart_run
    from test_fuzz_settings import tiny_drawings

    data = tiny_drawings(tmp_path)
    args = {"train": [data, "--out", tmp_path / "run"], "prepare": [data, "--out", tmp_path / "cache"],
            "sample": ["sheep", "--out", tmp_path / "x.svg"], "interpolate": ["sheep", data, data, "--out", tmp_path / "x.svg"],
            "write": ["hi", "--model", "nosuch", "--out", tmp_path / "x.svg"], "make-handwriting": [tmp_path / "hw"],
            "perform": ["nosuch.toml"], "studio": [], "inspect": ["sheep", data, "--out", tmp_path / "v.png"]}
    for command, flag, name in _numeric_flags():
        s = _flag_setting(command, flag, name)
        bad = s.high + 1 if s.type is int else s.high * 2 + 1
        run = seqart_run(command, *args[command], flag, bad, seconds=60)
        named = flag if command != "train" else TRAIN_FLAGS[flag]
        assert_refused(run, named, s.range_text(), out=tmp_path / "run")


def test_one_temperature_everywhere():
    """CLI flag, piece key, OSC message and Sampler: one declaration, one range."""
    used = [spec.setting("temperature"), spec.setting("piece.temperature"), spec.OSC_NUMBERS["/temperature"]]
    assert {(s.low, s.high, s.low_open, s.type) for s in used} == {(0.0, 10.0, False, float)}
    assert spec.setting("clock.tempo").high == spec.OSC_NUMBERS["/tempo"].high


def test_the_osc_doc_gives_the_specs_ranges():
    rows = re.findall(r"\| `/seqart(/\w+)` \| `[fi]` ([\d.]+)\.\.([\d.]+)", (ROOT / "docs" / "osc.md").read_text())
    assert {a for a, _, _ in rows} == {a for a in spec.OSC_NUMBERS if " " not in a}  # every one that takes a number
    for address, lo, hi in rows:
        q = spec.OSC_NUMBERS[address]
        assert (float(lo), float(hi)) == (q.low, q.high), address


@pytest.mark.parametrize("value", [math.nan, -0.5, math.inf, 11.0])
def test_the_sampler_refuses_a_bad_temperature_in_one_line(value):
    import seqart

    sheep = seqart.load("sheep")
    with pytest.raises(SeqartError, match=r"^Sampler: temperature = .* is out of range \[0, 10\]$"):
        sheep.sampler(temperature=value)
    s = sheep.sampler(temperature=0.5)
    with pytest.raises(SeqartError, match="out of range"):
        s.set_temperature(value)
    assert s.temperature == 0.5


@pytest.mark.parametrize("args, line", [
    (["--temperature", "nan"], "--temperature = nan is out of range [0, 10]"),
    (["--temperature", "-3"], "--temperature = -3.0 is out of range [0, 10]"),
    (["--seconds", "0"], "--seconds = 0.0 is out of range (0, 604800]"),
    (["-n", "0"], "-n = 0 is out of range [1, 1000000]"),
])
def test_the_cli_checks_generation_flags_against_the_spec(tmp_path, args, line):
    out = tmp_path / "x.svg"
    done = subprocess.run([sys.executable, "-m", "seqart.cli", "sample", "sheep", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip() == f"seqart: error: {line}"
    assert not out.exists()


def test_a_setting_checks_types_and_ranges():
    lr = spec.setting("train.lr")
    assert lr.check(0.5) == 0.5
    for bad in (True, "fast", -1.0, math.nan):
        with pytest.raises(SeqartError, match="train.lr"):
            lr.check(bad, "run.toml")
    huge = 10**400  # past any float: TOML and JSON both give such an int
    with pytest.raises(SeqartError, match=r"^run.toml: train.steps = 1000\d+ is out of range \[1, 1000000000\]$"):
        spec.setting("train.steps").check(huge, "run.toml")
    with pytest.raises(SeqartError, match=r"^train.lr = 1000\d+ is out of range"):
        lr.check(huge)
    with pytest.raises(SeqartError, match="is not one of auto, bf16, fp32"):
        spec.setting("train.precision").check("fp16")


def test_learnt_codec_options_are_not_settings(tmp_path):
    """What a codec fits on its training data (a skeleton, a pitch range) comes from the data and the
    checkpoint, never from --set or a TOML file, where a hand-made value would break decoding."""
    from seqart.codecs import codec_class
    from seqart.config import defaults, merge

    for modality, key, value in (("poses", "skeleton", "0"), ("notes", "pitch_lo", "40"), ("handwriting", "rescale", "2.0")):
        cls = codec_class(modality)
        codec = cls({"alphabet": "abc"}) if modality == "handwriting" else cls()
        assert any(s.learnt and s.name == f"codec.{key}" for s in cls.settings)
        with pytest.raises(SeqartError, match=rf"^--set codec.{key}={value}: codec.{key} is learnt from the training data"):
            merge(defaults(codec.options), None, [f"codec.{key}={value}"], codec_settings=cls.settings)
        toml = tmp_path / f"{modality}.toml"
        toml.write_text(f"[codec]\n{key} = {value}\n")
        with pytest.raises(SeqartError, match="is learnt from the training data"):
            merge(defaults(codec.options), toml, [], codec_settings=cls.settings)
