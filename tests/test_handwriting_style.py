"""Style statistics (slant, width per character) and the style-priming benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqart.codecs.handwriting.synthetic import Style, load_font, render_line
from seqart.formats.sketches import drawing_clip
from seqart.quality.handwriting import slant, width_per_char

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["sail come keep game!", "night purple name.", "Farm path"]


def _line(text, slant_rad=0.2, spacing=1.0, size=1.0, font="scripts", seed=0):
    st = Style(font=font, slant=slant_rad, size=size, spacing=spacing, word_space=1.0, wobble=0.5,
               wobble_period=10.0, wobble_phase=0.0, jitter=0.1)
    return drawing_clip(render_line(text, load_font(font), st, np.random.default_rng(seed)), text, {})


@pytest.mark.parametrize("font", ["scripts", "cursive"])
def test_slant_grows_with_the_hands_slant_and_ignores_scale(font):
    for text in TEXTS:
        est = [slant(_line(text, s, font=font)) for s in (-0.05, 0.15, 0.3, 0.45)]
        assert np.all(np.diff(est) > 0), (text, est)
        big = _line(text, 0.3, size=1.25, font=font)
        small = big.with_frames(big.frames * np.array([0.1, 0.1, 1], np.float32))  # same line, a tenth the size
        assert slant(small) == pytest.approx(slant(big), abs=0.01)
    mirrored = _line(TEXTS[0], 0.3, font=font)
    mirrored = mirrored.with_frames(mirrored.frames * np.array([-1, 1, 1], np.float32))  # tops now lean left
    assert slant(mirrored) < -0.2


def test_width_per_char_grows_with_letter_spacing():
    for text in TEXTS:
        assert width_per_char(_line(text, spacing=2.5), text) > width_per_char(_line(text, spacing=0.0), text)
    assert np.isnan(slant(drawing_clip([np.zeros((1, 2))], "dot", {})))


def test_style_benchmark_primes_each_hand_and_scores_it(tmp_path):
    from seqart.codecs.base import Norm
    from seqart.codecs.handwriting import HandwritingCodec
    from tests.test_handwriting_write import _save

    codec = HandwritingCodec(norm=Norm.identity(2))
    model = _save(tmp_path / "model", codec.layout, codec.config(), window=3)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/handwriting_style.py"), "--run", str(model), "--quick",
                           "--out", str(tmp_path / "s.json")], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout)
    assert r == json.loads((tmp_path / "s.json").read_text()) and "--quick" in r["command"]
    s = r["slant"]
    assert set(s["primed_mean"]) == set(s["style_reference_mean"]) == {"upright", "light", "leaning", "steep"}
    refs = s["style_reference_mean"]
    assert refs["upright"] + 0.1 < refs["steep"]  # the hands lean apart, and the statistic sees it
    assert s["data_matched_share"] > s["chance"] and 0 <= s["matched_share"] <= 1
