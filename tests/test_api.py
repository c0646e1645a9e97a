"""The public Python API: load, sample, sampler, read, save (paths and streams), notebook pictures, provenance."""

import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import seqart
from seqart.errors import SeqartError

from tests.samples import SHEEP


@pytest.fixture(scope="module")
def sheep():
    return seqart.load("sheep")


def test_the_package_exports_a_small_api():
    assert set(seqart.__all__) == {"Clip", "Model", "SeqartError", "load", "perform", "read", "save"}
    assert all(callable(getattr(seqart, name)) for name in seqart.__all__)


def test_sample_is_the_cli_sample(sheep, tmp_path):
    """The API and `seqart sample` go through the same generation: same seed, same file."""
    seqart.save(sheep.sample(3, temperature=0.5, seed=4), tmp_path / "api.svg")
    subprocess.run([sys.executable, "-m", "seqart.cli", "sample", "sheep", "--out", tmp_path / "cli.svg",
                    "-n", "3", "-t", "0.5", "--seed", "4"], check=True, capture_output=True)
    assert (tmp_path / "api.svg").read_bytes() == (tmp_path / "cli.svg").read_bytes()


def test_save_to_streams_needs_a_format(sheep):
    clips = sheep.sample(2, temperature=0.5, seed=1)
    text, png = io.StringIO(), io.BytesIO()
    assert seqart.save(clips, text, format="svg") is None
    assert text.getvalue().startswith("<?xml") and text.getvalue().count("<path") > 2
    seqart.save(clips, png, format=".png")
    assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SeqartError, match="needs format="):
        seqart.save(clips, io.StringIO())


def test_the_stepwise_sampler_has_the_models_limit(sheep):
    s = sheep.sampler(temperature=0.3, seed=2)
    frame = s.step()
    assert frame.shape == (3,) and s.max_frames == sheep.meta["train"]["max_len"]
    assert sheep.sampler(max_frames=None).max_frames is None


def test_prime_with_a_clip(sheep):
    start = seqart.read(SHEEP, split="test")[0].slice(0, 20)
    clip = sheep.sample(1, prime=start, seed=0)[0]
    np.testing.assert_array_equal(clip.frames[:20], start.frames)
    with pytest.raises(SeqartError, match="cannot prime"):
        sheep.sample(prime=seqart.Clip(np.zeros((3, 2)), ("a", "b"), "notes"))


def test_read_by_split():
    test, train = seqart.read(SHEEP, split="test"), seqart.read(SHEEP, split="train")
    assert test and train and len(seqart.read(SHEEP)) >= len(test) + len(train)
    with pytest.raises(SeqartError, match="split='nope'"):
        seqart.read(SHEEP, split="nope")


def test_a_clip_shows_itself_in_a_notebook(sheep):
    bundle = sheep.sample(1, seed=1)[0]._repr_mimebundle_()
    assert bundle["image/svg+xml"].count("<path") >= 1 and bundle["text/plain"].startswith("<Clip strokes")


def test_generated_files_say_what_made_them(sheep):
    buf = io.StringIO()
    seqart.save(sheep.sample(2, temperature=0.25, seed=9), buf, format="svg")
    made = json.loads(re.search(r'<metadata id="seqart-provenance">(.*?)</metadata>', buf.getvalue()).group(1))
    assert made == {"seqart": seqart.__version__, "model": "sheep", "seed": 9, "temperature": 0.25}


def test_converted_data_carries_no_provenance():
    buf = io.StringIO()
    seqart.save(seqart.read(SHEEP, split="test")[:2], buf, format="svg")
    assert "seqart-provenance" not in buf.getvalue()


def test_version_and_short_help():
    version = subprocess.run([sys.executable, "-m", "seqart.cli", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"seqart {seqart.__version__}"
    helped = subprocess.run([sys.executable, "-m", "seqart.cli", "train", "-h"], capture_output=True, text=True)
    assert helped.returncode == 0 and "[model] [train] [codec]" in helped.stdout


@pytest.mark.parametrize("args, says", [(["-n", "abc"], "Invalid value for '-n'"), (["--bogus"], "No such option: --bogus")])
def test_a_mistyped_flag_is_one_line(tmp_path, args, says):
    done = subprocess.run([sys.executable, "-m", "seqart.cli", "sample", "sheep", "--out", str(tmp_path / "x.svg"), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqart: error: ") and says in lines[0]
