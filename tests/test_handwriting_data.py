"""Handwriting data: the synthetic Hershey set, IAM-OnDB's files, an artist's own lines, the codec's text column."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqart.codecs import codec_for_path
from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.handwriting.synthetic import Style, layout_line, load_font, write_set
from seqart.errors import SeqartError
from seqart.formats import iam_ondb

ASCII_TXT = """Writer ID: 10000
Form: a01-000u

OCR:

A MOVE to stop
nominating

CSR:

A MOVE to stop
nominating
"""

LINE_XML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<WhiteboardCaptureSession>
  <WhiteboardDescription>
    <SensorLocation corner="top_left"/>
    <DiagonallyOppositeCoords x="6512" y="1376"/>
  </WhiteboardDescription>
  <StrokeSet>
    <Stroke colour="black" start_time="769.05" end_time="769.20">
      <Point x="1073" y="1058" time="769.05"/>
      <Point x="1080" y="1050" time="769.10"/>
      <Point x="1090" y="1046" time="769.20"/>
    </Stroke>
    <Stroke colour="black" start_time="769.40" end_time="769.50">
      <Point x="1100" y="1060" time="769.40"/>
      <Point x="1104" y="1040" time="769.50"/>
    </Stroke>
  </StrokeSet>
</WhiteboardCaptureSession>
"""


def _iam(root, n_points=None, text=ASCII_TXT, line="01"):
    """A tiny IAM-OnDB tree: ascii/a01/a01-000/a01-000u.txt and lineStrokes/.../a01-000u-NN.xml."""
    (root / "ascii/a01/a01-000").mkdir(parents=True)
    (root / "ascii/a01/a01-000/a01-000u.txt").write_text(text, encoding="latin-1")
    d = root / "lineStrokes/a01/a01-000"
    d.mkdir(parents=True)
    xml = LINE_XML
    if n_points:  # a longer second stroke, so a transcript fits the line
        pts = "".join(f'<Point x="{1100 + 3 * i}" y="{1040 + (i % 7)}" time="770"/>' for i in range(n_points))
        xml = xml.replace("</StrokeSet>", f"<Stroke>{pts}</Stroke></StrokeSet>")
    (d / f"a01-000u-{line}.xml").write_text(xml, encoding="latin-1")
    return root


def test_iam_reader_reads_points_strokes_and_transcript(tmp_path):
    (clip,) = iam_ondb.read_folder(_iam(tmp_path), {})
    assert clip.meta["text"] == "A MOVE to stop" and clip.meta["group"] == "a01-000u"
    assert clip.meta["duration_s"] == pytest.approx(0.45)
    f = clip.frames
    assert f[0, :2].tolist() == [1073, 1058]  # first row: from the origin
    xy = np.cumsum(f[:-1, :2], 0)
    assert xy[-1].tolist() == [1104, 1040]
    assert f[:, 2].tolist() == [0, 0, 1, 0, 1, 2]  # pen lifts after each stroke, then the end frame


def test_iam_second_line_takes_second_csr_line(tmp_path):
    (clip,) = iam_ondb.read_folder(_iam(tmp_path, line="02"), {})
    assert clip.meta["text"] == "nominating"


@pytest.mark.parametrize("change, message", [
    (lambda x: x.replace('x="1080"', 'x="nan"'), "not a finite number"),
    (lambda x: x.replace('y="1050"', 'y="1e12"'), "not a finite number"),
    (lambda x: x.replace("<StrokeSet>", "<StrokeSet"), "not valid XML"),
    (lambda x: x.replace("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", '<!DOCTYPE x [<!ENTITY a "b">]>'), "DOCTYPE"),
    (lambda x: x.replace("WhiteboardCaptureSession", "Other"), "not an IAM-OnDB line"),
])
def test_iam_reader_refuses_bad_xml_in_one_line(tmp_path, change, message):
    _iam(tmp_path)
    f = tmp_path / "lineStrokes/a01/a01-000/a01-000u-01.xml"
    f.write_text(change(f.read_text()))
    with pytest.raises(SeqartError, match=message) as e:
        iam_ondb.read_folder(tmp_path, {})
    assert "a01-000u-01.xml" in str(e.value) and "\n" not in str(e.value)


def test_iam_reader_needs_the_transcription(tmp_path):
    _iam(tmp_path, line="03")
    with pytest.raises(SeqartError, match="line 3, but .* has 2 line"):
        iam_ondb.read_folder(tmp_path, {})
    (tmp_path / "ascii/a01/a01-000/a01-000u.txt").unlink()
    with pytest.raises(SeqartError, match="no transcription a01-000u.txt"):
        iam_ondb.read_folder(tmp_path, {})


def test_iam_reader_is_bounded(tmp_path, monkeypatch):
    _iam(tmp_path)
    monkeypatch.setattr(iam_ondb, "MAX_POINTS", 4)
    with pytest.raises(SeqartError, match="more than 4 points"):
        iam_ondb.read_folder(tmp_path, {})


def test_codec_trains_on_an_iam_folder(tmp_path):
    _iam(tmp_path, n_points=40)
    codec = codec_for_path(tmp_path)
    assert isinstance(codec, HandwritingCodec)
    (clip,) = codec.read(tmp_path)["all"]
    codec.fit_norm([clip])
    x = codec.to_model(clip)
    text = "A MOVE to stop"
    assert x.shape == (len(clip), 4)
    assert x[: len(text), 3].tolist() == [codec.alphabet.index(c) + 1 for c in text]
    assert not x[len(text):, 3].any()


def test_codec_refuses_a_cut_line_and_unknown_characters(tmp_path):
    _iam(tmp_path, n_points=40)
    codec = codec_for_path(tmp_path)
    (clip,) = codec.read(tmp_path)["all"]
    with pytest.raises(SeqartError, match="trained whole.*train.max_len = 0"):
        codec.to_model(clip.slice(0, 20))
    with pytest.raises(SeqartError, match="'é'.*not in the model's alphabet"):
        codec.encode_text("café")
    with pytest.raises(SeqartError, match="empty text"):
        codec.encode_text("")
    small = HandwritingCodec({"alphabet": "abc "})
    with pytest.raises(SeqartError, match="'AEMOVopst'"):
        small.read(tmp_path)


def test_synthetic_set_is_deterministic_and_reads_back(tmp_path):
    a, b, c = (write_set(tmp_path / n, 12, seed=s, heldout=5) for n, s in (("a", 3), ("b", 3), ("c", 4)))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a/lineStrokes/syn003-0000/syn003-0000-01.xml").read_bytes() != \
        (tmp_path / "c/lineStrokes/syn004-0000/syn004-0000-01.xml").read_bytes()
    clips = codec_for_path(tmp_path / "a").read(tmp_path / "a")["all"]
    assert len(clips) == 12 and a["lines"] == 12
    held = (tmp_path / "a/heldout-phrases.txt").read_text().splitlines()
    assert len(held) == 5 and not {c.meta["text"] for c in clips} & set(held)


def test_synthetic_set_can_write_given_phrases(tmp_path):
    write_set(tmp_path, 3, seed=1, heldout=0, phrases=["one", "two words"])
    texts = [c.meta["text"] for c in codec_for_path(tmp_path).read(tmp_path)["all"]]
    assert texts == ["one", "two words", "one"]


def test_script_letters_join_where_the_font_joins():
    font = load_font("scripts")
    plain = Style("scripts", 0.0, 1.0, 0.0, 1.0, 0.0, 10.0, 0.0, 0.0)
    n = len(font["n"].strokes)
    assert len(layout_line("n", font, plain)) == n
    assert len(layout_line("nn", font, plain)) == 2 * n - 1  # n ends where the next n starts: one pen-down
    assert len(layout_line("n n", font, plain)) == 2 * n  # a space always lifts the pen
    spaced = Style("scripts", 0.0, 1.0, 2.0, 1.0, 0.0, 10.0, 0.0, 0.0)
    assert len(layout_line("nn", font, spaced)) == 2 * n - 1  # wider spacing stretches the join, still joined
    assert len(layout_line(".n", font, plain)) == len(font["."].strokes) + n  # a full stop never joins


def test_own_hand_folder_svg_with_txt_or_title_and_ndjson(tmp_path):
    zigzag = " ".join(f"L {3 * i} {20 + 8 * (i % 2)}" for i in range(1, 30))  # a line of enough points
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">{}<path d="M 0 20 ' + zigzag + ' M 70 5 L 90 30"/></svg>'
    (tmp_path / "one.svg").write_text(svg.format(""))
    (tmp_path / "one.txt").write_text("hi there\n")
    (tmp_path / "two.svg").write_text(svg.format("<title>my  title</title>"))
    (tmp_path / "two.txt").write_text("")  # empty: the title is used
    rec = {"word": "x", "drawing": [[list(range(0, 200, 10)), [5 * (i % 2) for i in range(20)]]]}
    (tmp_path / "three.ndjson").write_text(json.dumps(rec | {"text": "ok"}) + "\n" + json.dumps(rec) + "\n")
    (tmp_path / "three.txt").write_text("unused\nfrom txt\n")
    codec = codec_for_path(tmp_path)
    assert isinstance(codec, HandwritingCodec)
    texts = sorted(c.meta["text"] for c in codec.read(tmp_path)["all"])
    assert texts == ["from txt", "hi there", "my title", "ok"]


def test_own_hand_line_without_transcript_is_an_error(tmp_path):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><path d="M 5 20 L 30 10 L 60 25 L 90 5"/></svg>'
    (tmp_path / "one.svg").write_text(svg)
    assert not isinstance(codec_for_path(tmp_path), HandwritingCodec)  # plain drawings stay drawings
    (tmp_path / "one.txt").write_text("\n")
    codec = codec_for_path(tmp_path)
    with pytest.raises(SeqartError, match="one.svg: no transcript"):
        codec.read(tmp_path)


def test_fine_tune_scales_new_units_to_the_model(tmp_path):
    write_set(tmp_path / "syn", 10, seed=0, heldout=0)
    model_codec = HandwritingCodec({"dequantise": 0.0})  # no noise, so the two arrays compare exactly
    clips = model_codec.read(tmp_path / "syn")["all"]
    model_codec.fit_norm(clips)
    px = [c.with_frames(c.frames * np.array([0.1, 0.1, 1], np.float32)) for c in clips]  # the same hand, 10x smaller
    tuned = HandwritingCodec(model_codec.options, model_codec.norm)
    tuned.fit_data(px)
    assert tuned.options["rescale"] == pytest.approx(10.0, rel=1e-4)
    np.testing.assert_allclose(tuned.to_model(px[0]), model_codec.to_model(clips[0]), atol=1e-4)
    assert tuned.config()["options"]["rescale"] == tuned.options["rescale"]  # the checkpoint keeps it


def test_only_iam_line_files_claim_a_folder(tmp_path):
    (tmp_path / "notes.xml").write_text("<x/>")  # some other XML beside drawings
    (tmp_path / "one.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><path d="M 0 0 L 5 5"/></svg>')
    assert not isinstance(codec_for_path(tmp_path), HandwritingCodec)
    _iam(tmp_path / "iam")
    assert isinstance(codec_for_path(tmp_path / "iam"), HandwritingCodec)
