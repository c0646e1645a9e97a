"""`seqart write`: a line of text as a centreline SVG (one <path> per stroke), and its answers to bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest
import torch

from seqart import checkpoint
from seqart.codecs.base import Norm
from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.strokes import LAYOUT
from seqart.config import defaults
from seqart.handwrite import write_line
from seqart.model import MDNLSTM, ModelConfig

SVG = "{http://www.w3.org/2000/svg}"


def seqart(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "seqart.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


def cli(*args) -> tuple[int, str]:
    """The CLI in this process (as `seqart ARGS`): (exit status, stderr). Faster than a subprocess."""
    import contextlib
    import io

    from seqart.cli import main

    err, argv = io.StringIO(), sys.argv
    sys.argv = ["seqart", *map(str, args)]
    try:
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
            main()
    finally:
        sys.argv = argv
    return e.value.code or 0, err.getvalue()


def _save(folder, layout, codec_cfg, window: int):
    """An untrained model saved as the trainer saves one (enough to exercise writing end to end)."""
    torch.manual_seed(0)
    cfg = ModelConfig(layout=layout.to_json(), hidden=16, layers=2, mixtures=3, window_mixtures=window)
    model = MDNLSTM(cfg)
    meta = {"model": cfg.to_json(), "codec": codec_cfg, "train": defaults({})["train"] | {"max_len": 0},
            "step": 0, "metrics": {}}
    checkpoint.save(folder, {"model": model.state_dict()}, {"model": meta})
    return folder


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    codec = HandwritingCodec(norm=Norm.identity(2))
    return _save(tmp_path_factory.mktemp("hand") / "model", codec.layout, codec.config(), window=3)


def test_write_svg_has_one_path_per_stroke_and_is_deterministic(hand, tmp_path):
    for name in ("a.svg", "b.svg"):
        done = seqart("write", "Hello there", "--model", hand, "--out", tmp_path / name, "--bias", "1", "--seed", "4",
                      "--width-mm", "120")
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    clip = write_line(hand, "Hello there", bias=1.0, seed=4)
    strokes = int((clip.frames[:-1, 2] == 1).sum()) + int(clip.frames[-2, 2] == 0)  # lifts, plus a last open stroke
    root = ET.parse(tmp_path / "a.svg").getroot()
    paths = root.findall(f".//{SVG}path")
    assert len(paths) == strokes
    assert root.find(f".//{SVG}g[@id='drawing-1']/{SVG}title").text == "Hello there"
    assert float(root.get("width").removesuffix("mm")) <= 120 + 10 + 1e-3  # the line plus 5 mm margins


def test_vpype_reads_every_stroke_of_a_written_line(hand, tmp_path):
    from tests.test_export_strokes import PX_PER_MM, vpype_stat

    done = seqart("write", "Hello there", "--model", hand, "--out", tmp_path / "a.svg", "--bias", "1", "--seed", "4",
                  "--width-mm", "120")
    assert done.returncode == 0, done.stderr
    stat = vpype_stat(tmp_path / "a.svg")
    paths = ET.parse(tmp_path / "a.svg").getroot().findall(f".//{SVG}path")
    assert stat["paths"] == len(paths) and stat["layers"] == 1
    x0, y0, x1, y1 = stat["bounds"]
    assert (x1 - x0) / PX_PER_MM <= 120 + 0.5  # the line fits the width asked for (stroke caps aside)


def test_write_png_and_gif(hand, tmp_path):
    for ext in (".png", ".gif"):
        code, err = cli("write", "ok", "--model", hand, "--out", tmp_path / f"l{ext}")
        assert code == 0, err
        assert (tmp_path / f"l{ext}").stat().st_size > 100


@pytest.mark.parametrize("text, message", [("", "text is empty"), ("   ", "text is empty"),
                                           ("naïve €", "'ï€' not in the model's alphabet")])
def test_write_refuses_bad_text_in_one_line(hand, tmp_path, text, message):
    code, err = cli("write", text, "--model", hand, "--out", tmp_path / "x.svg")
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_write_refuses_a_model_without_a_window(tmp_path):
    from seqart.codecs.strokes import StrokesCodec

    plain = _save(tmp_path / "sheep", LAYOUT, StrokesCodec(norm=Norm.identity(2)).config(), window=0)
    code, err = cli("write", "hi", "--model", plain, "--out", tmp_path / "x.svg")
    assert code == 2 and "does not write text" in err
    code, err = cli("write", "hi", "--model", plain, "--out", tmp_path / "x.svg", "--width-mm", "0")
    assert code == 2 and "--width-mm" in err


STYLE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><path d="M 0 20 '
             + " ".join(f"L {4 * i} {20 + 10 * ((i // 2) % 2)}" for i in range(1, 40)) + '"/></svg>')


def test_style_priming_reads_the_style_line_first(hand, tmp_path):
    (tmp_path / "mine.svg").write_text(STYLE_SVG)
    (tmp_path / "mine.txt").write_text("my hand\n")
    plain = write_line(hand, "hello", seed=2)
    primed = write_line(hand, "hello", seed=2, style=tmp_path / "mine.svg")
    by_flag = write_line(hand, "hello", seed=2, style=tmp_path / "mine.svg", style_text="my hand")
    assert primed.meta["provenance"]["style"] == "mine.svg"
    assert not (len(plain) == len(primed) and (plain.frames == primed.frames).all())  # the state was primed
    assert len(by_flag) == len(primed) and (by_flag.frames == primed.frames).all()  # same transcript, same line


def test_style_without_a_transcript_is_one_line(hand, tmp_path):
    (tmp_path / "bare.svg").write_text(STYLE_SVG)
    done = seqart("write", "hi", "--model", hand, "--out", tmp_path / "x.svg", "--style", tmp_path / "bare.svg")
    assert done.returncode == 2 and "bare.svg: no transcript" in done.stderr and "--style-text" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.svg").exists()


def test_speed_benchmark_reports_characters_per_second(tmp_path):
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(root / "benchmarks/handwriting_speed.py"), "--quick", "--out",
                           str(tmp_path / "s.json")], capture_output=True, text=True, env=env, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout)
    assert r == json.loads((tmp_path / "s.json").read_text()) and "--quick" in r["command"]
    assert r["chars_per_s_cpu"] > 0 and r["chars_per_s_wall"] > 0 and r["step_us"]["n"] == 50 and r["machine"]["torch_threads"] == 1
    # the untrained window moves at its initial pace, 1 / KAPPA_STEP0 = 20 points a character
    assert 15 < r["points_per_char_written"] < 25


def test_nll_benchmark_scores_both_models_on_the_same_lines(hand, tmp_path):
    import json
    from pathlib import Path

    from seqart.codecs.handwriting.synthetic import write_set

    codec = HandwritingCodec(norm=Norm.identity(2))
    plain = _save(tmp_path / "plain", codec.layout, codec.config(), window=0)
    write_set(tmp_path / "data", 3, seed=5, heldout=0, phrases=["go on", "a cat"])
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(root / "benchmarks/handwriting_nll.py"), "--run", str(hand),
                           "--baseline", str(plain), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "n.json")],
                          capture_output=True, text=True, env=env, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout)
    text, base = r["text_conditioned"], r["unconditional"]
    assert text["lines"] == base["lines"] == 3 and text["points"] == base["points"]
    assert text["window_mixtures"] == 3 and base["window_mixtures"] == 0
    assert text["nll_per_line"] == pytest.approx(text["nll_per_point"] * text["points"] / 3, rel=1e-3)
    assert r["gain_per_point"] == pytest.approx(base["nll_per_point"] - text["nll_per_point"], abs=1e-3)
