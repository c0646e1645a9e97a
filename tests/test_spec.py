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


def test_every_piece_number_is_in_the_spec_with_its_default():
    for section, table in PIECE_DEFAULTS.items():
        for key, default in table.items():
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                s = spec.setting(f"{section}.{key}")
                assert s.default == default and s.low is not None, f"{section}.{key}"


def test_one_temperature_everywhere():
    """CLI flag, piece key, OSC message and Sampler: one declaration, one range."""
    used = [spec.setting("temperature"), spec.setting("piece.temperature"), spec.OSC_NUMBERS["/temperature"]]
    assert {(s.low, s.high, s.low_open, s.type) for s in used} == {(0.0, 10.0, False, float)}
    assert spec.setting("clock.tempo").high == spec.OSC_NUMBERS["/tempo"].high


def test_the_osc_doc_gives_the_specs_ranges():
    rows = re.findall(r"\| `/seqart(/\w+)` \| `f` ([\d.]+)\.\.([\d.]+)", (ROOT / "docs" / "osc.md").read_text())
    assert rows
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
    with pytest.raises(SeqartError, match="is not one of auto, bf16, fp32"):
        spec.setting("train.precision").check("fp16")
