"""A huge but in-range size is refused before anything is allocated: one line naming the settings.

Each case runs the real command in a forked child capped at the parent's size plus 1 GiB of
address space (tests/fuzz_cli.py), so a MemoryError or an allocator failure would show; the
estimate (seqart.memory) must answer first, with exit 2 and nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz_cli import assert_refused, seqart_run
from test_fuzz_settings import tiny_drawings
from tests.samples import bar_images

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--steps", "1", "--quiet", "--set", "train.valid_every=1", "--set", "model.mixtures=1"]  # sizes from each case


@pytest.fixture(scope="module")
def drawings(tmp_path_factory) -> Path:
    return tiny_drawings(tmp_path_factory.mktemp("memory"))


@pytest.fixture(scope="module")
def bars(tmp_path_factory) -> Path:
    """Images for DRAW: 40 8 x 8 bars, as an MNIST-style IDX file."""
    return bar_images(tmp_path_factory.mktemp("bars") / "bars-idx3-ubyte", 40)


@pytest.mark.parametrize("args, named", [
    (["--set", "model.hidden=65536"], "model.hidden=65536"),
    (["--set", "model.layers=64", "--set", "model.hidden=8192"], "model.hidden=8192, model.layers=64"),
    (["--set", "train.batch_size=1000000"], "train.batch_size=1000000"),
    (["--set", "model.z_dim=65536", "--set", "model.enc_hidden=65536"], "model.z_dim=65536"),
])
def test_a_huge_mdn_is_refused_naming_its_settings(drawings, tmp_path, args, named):
    out = tmp_path / "run"
    run = seqart_run("train", drawings, "--out", out, *FAST, *args, seconds=60)
    line = assert_refused(run, named, "SEQART_MAX_MEMORY_MB", out=out, budget_s=30)
    assert "MiB: over the limit of 8,192 MiB" in line


@pytest.mark.parametrize("key", ["glimpses", "enc_hidden", "dec_hidden", "write_n"])
def test_a_huge_draw_model_is_refused_naming_its_settings(bars, tmp_path, key):
    out = tmp_path / "run"
    run = seqart_run("train", bars, "--out", out, "--steps", "1", "--quiet", "--set", f"model.{key}=65536", seconds=60)
    assert_refused(run, f"model.{key}=65536", "SEQART_MAX_MEMORY_MB", out=out, budget_s=30)


def test_the_memory_limit_is_the_users_to_raise(drawings, tmp_path):
    out = tmp_path / "run"
    small = ["--set", "model.hidden=64", "--set", "train.batch_size=2"]
    run = seqart_run("train", drawings, "--out", out, *FAST, *small, env={"SEQART_MAX_MEMORY_MB": "1"})
    assert_refused(run, "model.hidden=64", "over the limit of 1 MiB", out=out)
    run = seqart_run("train", drawings, "--out", out, *FAST, *small, env={"SEQART_MAX_MEMORY_MB": "64"}, seconds=120)
    assert run.code == 0, run.stderr[-2000:]
    assert (out / "latest").is_dir()


@pytest.mark.parametrize("args, named", [
    (["-n", "1000000", "--frames", "10000000"], "n=1000000 sequences of up to frames=10000000"),
    (["-n", "1000000"], "n=1000000 sequences of up to frames=250"),  # the shipped model's window
])
def test_a_huge_sampling_request_is_refused_before_it_runs(tmp_path, args, named):
    out = tmp_path / "x.svg"
    run = seqart_run("sample", "sheep", "--out", out, *args, seconds=60)
    assert_refused(run, named, "SEQART_MAX_MEMORY_MB", out=out, budget_s=30)


def test_a_stream_with_seconds_stops_at_the_limit(tmp_path):
    """Notes stream (no end token), so --seconds alone has no frame count ahead: held to the budget as it runs."""
    out = tmp_path / "x.mid"
    run = seqart_run("sample", "nottingham", "--out", out, "-n", "3", "--seconds", "100000", seconds=120,
                     env={"SEQART_MAX_MEMORY_MB": "1"})
    assert_refused(run, "n=3 sequences of seconds=100000.0 s: the output passed the limit of 1 MiB", out=out)


def test_every_recipe_fits_the_default_limit():
    """The estimate refuses absurd sizes, not the models the project trains (with their fitted codecs'
    shapes unknown here, the recipes' own settings on each codec's defaults)."""
    from seqart import family, limits, memory
    from seqart.codecs import codec_class
    from seqart.config import defaults, merge

    modality = {"draw": "canvas", "handwriting": "handwriting", "jsb": "notes", "nottingham": "notes",
                "salsa": "poses", "sheep": "strokes"}
    recipes = sorted((ROOT / "recipes").glob("*.toml"))
    assert recipes
    for recipe in recipes:
        cls = codec_class(next(m for k, m in modality.items() if recipe.stem.startswith(k)))
        codec = cls()
        if "alphabet" in codec.options:
            codec = cls({"alphabet": "abc"})
        cfg = merge(defaults(codec.options, codec.family), recipe, [], codec.family, codec.settings)
        need = memory.training_bytes(family.get(codec.family), cfg, cls(cfg["codec"]))
        assert need < limits.get("memory_mb") * 2**20 / 4, (recipe.name, need / 2**20)
