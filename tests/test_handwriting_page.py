"""`seqart write` of several lines: a text file wrapped to the page, stacked, read back by vpype; bad input."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import numpy as np
import pytest

from seqart.codecs.base import Norm
from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.strokes import clip_to_stroke3, stroke3_to_strokes
from seqart.handwrite import stack_lines, wrap, write_line, write_page
from tests.test_handwriting_write import SVG, cli

POEM = "The owl and the cat went to sea\nin a beautiful boat.\n\nThey took some honey, and plenty of money."


def save_writer(folder):
    """An untrained model that never draws the end token, so lines end by the window (Graves' rule)."""
    import torch

    from seqart import checkpoint
    from seqart.config import defaults
    from seqart.model import MDNLSTM, ModelConfig

    codec = HandwritingCodec(norm=Norm.identity(2))
    torch.manual_seed(0)
    cfg = ModelConfig(layout=codec.layout.to_json(), hidden=16, layers=2, mixtures=3, window_mixtures=3)
    model = MDNLSTM(cfg)
    with torch.no_grad():
        model.head.bias[-1] = -8.0  # the pen's "end" logit
    meta = {"model": cfg.to_json(), "codec": codec.config(), "train": defaults({})["train"] | {"max_len": 0},
            "step": 0, "metrics": {}}
    checkpoint.save(folder, {"model": model.state_dict()}, {"model": meta})
    return folder


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    return save_writer(tmp_path_factory.mktemp("page") / "model")


def test_wrap_breaks_between_words_and_keeps_paragraphs_apart():
    lines = wrap(POEM, 20)
    assert all(len(x) <= 20 for x in lines) and " ".join(lines) == " ".join(POEM.split())
    assert "in a beautiful boat." in lines  # a paragraph's last line is never joined to the next paragraph
    assert wrap("a verylongwordindeed b", 5) == ["a", "verylongwordindeed", "b"]
    assert wrap(" \n\n  ", 10) == []


def test_lines_stack_downwards_left_aligned(hand):
    lines = [write_line(hand, t, seed=i) for i, t in enumerate(["one line", "and two", "three"])]
    page = stack_lines(lines, "one line\nand two\nthree")
    strokes = stroke3_to_strokes(clip_to_stroke3(page))
    assert sum(len(s) for s in strokes) == sum(len(c) - 1 for c in lines)  # every point of every line, once
    # split the page's points back into its lines, in order: each line's ink sits lower than the last's
    pts = np.concatenate(strokes)
    cuts = np.cumsum([len(c) - 1 for c in lines])[:-1]
    centres = [(p[:, 1].min() + p[:, 1].max()) / 2 for p in np.split(pts, cuts)]
    assert centres[0] < centres[1] < centres[2]
    assert all(abs(p[:, 0].min()) < 1e-3 for p in np.split(pts, cuts))  # each line starts at the left margin
    assert page.meta["text"] == "one line\nand two\nthree" and page.modality == "handwriting"


def test_write_a_text_file_wrapped_svg_png_gif_and_vpype_reads_it(hand, tmp_path):
    from tests.test_export_strokes import PX_PER_MM, vpype_stat

    (tmp_path / "poem.txt").write_text(POEM)
    for name in ("a.svg", "b.svg", "p.png", "p.gif"):
        code, err = cli("write", "--text-file", tmp_path / "poem.txt", "--model", hand, "--out", tmp_path / name,
                        "--width-mm", "100", "--chars-per-line", "24", "--seed", "3")
        assert code == 0, err
    assert f"{len(wrap(POEM, 24))} lines" in err
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    page = write_page(hand, POEM, chars_per_line=24, seed=3)
    assert page.meta["text"].split("\n") == wrap(POEM, 24)
    paths = ET.parse(tmp_path / "a.svg").getroot().findall(f".//{SVG}path")
    assert len(paths) == len(stroke3_to_strokes(clip_to_stroke3(page)))
    stat = vpype_stat(tmp_path / "a.svg")
    assert stat["paths"] == len(paths) and stat["layers"] == 1
    x0, _, x1, _ = stat["bounds"]
    assert (x1 - x0) / PX_PER_MM <= 100 + 0.5  # the widest line fits the width asked for
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "p.gif").read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize("content, message", [("naïve ok\nfine €", "poem.txt: character(s) 'ï€' not in the model's alphabet"),
                                              ("\n  \n", "poem.txt: text is empty"),
                                              (b"caf\xe9", "poem.txt: not UTF-8 text")])
def test_a_bad_text_file_is_one_line_and_nothing_written(hand, tmp_path, content, message):
    f = tmp_path / "poem.txt"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, err = cli("write", "--text-file", f, "--model", hand, "--out", tmp_path / "x.svg")
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.svg").exists()


def test_text_and_text_file_are_one_or_the_other(hand, tmp_path):
    (tmp_path / "t.txt").write_text("hi")
    for args in ([], ["hi", "--text-file", tmp_path / "t.txt"]):
        code, err = cli("write", *args, "--model", hand, "--out", tmp_path / "x.svg")
        assert code == 2 and "either as TEXT or as --text-file" in err and len(err.strip().splitlines()) == 1
    code, err = cli("write", "hi", "--model", hand, "--out", tmp_path / "x.svg", "--chars-per-line", "0")
    assert code == 2 and "--chars-per-line" in err
    assert not (tmp_path / "x.svg").exists()
