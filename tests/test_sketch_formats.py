"""Sketch readers on the shipped real samples, and every kind of bad input.

Samples (datasets/sketches, sources in datasets/SOURCES.md): the aaron_sheep
subset (200/50/50), four Quick, Draw! simplified files of 25 drawings, three
Hershey fonts of 96 glyphs (95 with ink), two SVG drawings (11 and 9 strokes).
"""

from __future__ import annotations

import io
import json
import os
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from seqart.codecs import codec_for_path
from seqart.codecs.strokes import StrokesCodec, clip_to_stroke3, stroke3_to_strokes
from seqart.errors import SeqartError
from seqart.formats.sketches import read

SHARED_SHEEP = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sketches" / "aaron_sheep.npz"
SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">'


@pytest.fixture(scope="module")
def sk() -> Path:
    return Path(__file__).resolve().parents[1] / "datasets" / "sketches"


def polylines(clip) -> list[np.ndarray]:
    return stroke3_to_strokes(clip_to_stroke3(clip))


def _objects(*items) -> np.ndarray:
    """A 1-D object array (what sketch-rnn pickles), one item per drawing."""
    out = np.empty(len(items), object)
    out[:] = list(items)
    return out


def bad(path: Path, *needles: str) -> str:
    """Read path expecting one SeqartError line that names the file and each needle."""
    with pytest.raises(SeqartError) as e:
        read(path, {})
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg, msg
    for n in needles:
        assert n in msg, msg
    return msg


# --- sketch-rnn .npz ---------------------------------------------------------------------


def test_npz_subset_counts_and_values(sk):
    splits = read(sk / "aaron_sheep_small.npz", {})
    assert {k: len(v) for k, v in splits.items()} == {"train": 200, "valid": 50, "test": 50}
    with np.load(sk / "aaron_sheep_small.npz", allow_pickle=False) as z:
        first = z["train"][: z["train_lengths"][0]]
        assert z["train"].dtype == np.int16 and len(z["train_lengths"]) == 200
    np.testing.assert_array_equal(clip_to_stroke3(splits["train"][0]), first)
    lengths = [len(c) - 1 for c in splits["train"]]
    assert min(lengths) == 24 and max(lengths) == 250 and int(np.median(lengths)) == 128
    assert splits["test"][7].meta["source"] == "aaron_sheep_small.npz:test[7]"


def test_npz_object_layout_reads_like_the_pickle_free_one(sk, tmp_path):
    plain = read(sk / "aaron_sheep_small.npz", {})
    objs = {k: _objects(*[clip_to_stroke3(c).astype(np.int16) for c in clips]) for k, clips in plain.items()}
    np.savez(tmp_path / "obj.npz", **objs)  # pickled object arrays, the upstream layout
    back = read(tmp_path / "obj.npz", {})
    for split in plain:
        assert len(back[split]) == len(plain[split])
        for a, b in zip(back[split], plain[split]):
            np.testing.assert_array_equal(a.frames, b.frames)


@pytest.mark.skipif(not SHARED_SHEEP.exists(), reason="the full aaron_sheep.npz is only in ../shared")
def test_npz_full_upstream_python2_pickles():
    splits = read(SHARED_SHEEP, {})
    assert {k: len(v) for k, v in splits.items()} == {"train": 7400, "valid": 300, "test": 300}


class _RunsShell:
    """Pickles as a call to os.system: what a hostile .npz would hold."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # unpickling this calls os.system("touch marker")
        return (os.system, (f"touch {self.marker}",))


def test_npz_pickle_payload_never_runs(sk, tmp_path):
    marker = tmp_path / "pwned"
    np.savez(tmp_path / "evil.npz", train=_objects(np.zeros((3, 3), np.int16), _RunsShell(marker)))
    with pytest.raises(SeqartError, match="refused to load posix.system|refused to load os.system") as e:
        read(tmp_path / "evil.npz", {})
    assert str(tmp_path / "evil.npz") in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()


def test_npz_truncated_or_corrupt_is_one_line_error(sk, tmp_path):
    raw = (sk / "aaron_sheep_small.npz").read_bytes()
    buf = io.BytesIO()
    np.savez(buf, train=_objects(*[np.ones((4, 3), np.int16)] * 3))  # the pickled layout, uncompressed: truncation lands in the pickle
    rng = random.Random(0)
    for name, data in (("plain.npz", raw), ("obj.npz", buf.getvalue())):
        for cut in [0, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1]:
            (tmp_path / name).write_bytes(data[:cut])
            bad(tmp_path / name)
        for _ in range(30):  # flipped bytes: an error or a clean read, never a traceback
            flipped = bytearray(data)
            for _ in range(4):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            (tmp_path / name).write_bytes(bytes(flipped))
            try:
                read(tmp_path / name, {})
            except SeqartError as e:
                assert "\n" not in str(e) and str(tmp_path / name) in str(e)


@pytest.mark.parametrize(
    "arrays, needle",
    [
        ({"train": _objects(np.zeros((5, 2)))}, "train[0] is not an (N, 3)"),
        ({"train": _objects(np.zeros((5, 3)), "text")}, "train[1] is not an (N, 3)"),
        ({"train": _objects([[1, 2, 0], [1, 2]])}, "train[0] is not an (N, 3)"),
        ({"train": np.empty((2, 2), object)}, "2-D object array"),
        ({"train": _objects(np.zeros((0, 3)))}, "train[0] is an empty drawing"),
        ({"train": _objects(np.array([[1.0, np.nan, 0]]))}, "NaN or infinite"),
        ({"valid": _objects(np.array([[1.0, 2, 0], [np.inf, 0, 1]]))}, "valid[0] contains NaN"),
        ({"train": np.zeros((5, 3)), "train_lengths": np.array([2, 2])}, "summing to 5"),
        ({"train": np.zeros((5, 3)), "train_lengths": np.array([6, -1])}, "non-negative"),
        ({}, "no arrays"),
    ],
)
def test_npz_bad_contents(tmp_path, arrays, needle):
    np.savez(tmp_path / "x.npz", **arrays)
    bad(tmp_path / "x.npz", needle)


def test_npz_not_an_array_inside(tmp_path):
    path = tmp_path / "list.npz"
    with zipfile.ZipFile(path, "w") as zf:  # an object-dtype .npy whose pickle is a plain list
        body = io.BytesIO()
        np.lib.format.write_array_header_1_0(body, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        zf.writestr("train.npy", body.getvalue() + b"\x80\x02]q\x00K\x01a.")
    bad(path, "holds a list")


def test_missing_and_unknown_files(tmp_path):
    bad(tmp_path / "nope.npz", "no such file")
    bad(tmp_path / "nope.ndjson", "no such file")
    (tmp_path / "notes.txt").write_text("hi")
    bad(tmp_path / "notes.txt", "not a drawing file")
    (tmp_path / "text.npz").write_text("not a zip")
    bad(tmp_path / "text.npz", "not a readable .npz")


# --- Quick, Draw! ndjson -------------------------------------------------------------------


def test_ndjson_simplified_samples(sk):
    for word in ("cat", "sheep", "owl", "flamingo"):
        clips = read(sk / "quickdraw_simplified" / f"{word}.ndjson", {})["all"]
        assert len(clips) == 25 and {c.meta["word"] for c in clips} == {word}
        assert len({c.meta["group"] for c in clips}) == 25  # each drawing its own group
    first = json.loads((sk / "quickdraw_simplified" / "cat.ndjson").read_text().splitlines()[0])
    clip = read(sk / "quickdraw_simplified" / "cat.ndjson", {})["all"][0]
    assert clip.meta == {
        "word": "cat", "key_id": first["key_id"], "countrycode": first["countrycode"],
        "recognized": True, "source": "cat.ndjson:1", "group": first["key_id"],
    }
    got = polylines(clip)
    assert len(got) == len(first["drawing"]) == 9  # simplified data is read as is
    for (xs, ys), pts in zip(first["drawing"], got):
        np.testing.assert_allclose(pts, np.column_stack([xs, ys]), atol=1e-3)


def _densify(stroke: list, t0: float) -> tuple[list, float]:
    """A simplified stroke as a raw one: a point every pixel, 4 ms apart."""
    xy = np.column_stack(stroke).astype(float)
    pts = [xy[0]]
    for a, b in zip(xy[:-1], xy[1:]):
        n = max(1, int(np.ceil(np.hypot(*(b - a)))))
        pts += [a + (b - a) * k / n for k in range(1, n + 1)]
    pts = np.array(pts)
    t = t0 + 4.0 * np.arange(len(pts))
    return [pts[:, 0].round(3).tolist(), pts[:, 1].round(3).tolist(), t.tolist()], float(t[-1]) + 300


def test_ndjson_raw_simplified_with_timing(sk, write_file):
    first = json.loads((sk / "quickdraw_simplified" / "owl.ndjson").read_text().splitlines()[0])
    raw, t = [], 0.0
    for stroke in first["drawing"]:
        r, t = _densify(stroke, t)
        raw.append(r)
    path = write_file("owl_raw.ndjson", json.dumps(first | {"drawing": raw}) + "\n")
    n_dense = sum(len(r[0]) for r in raw)
    clip = read(path, {"rdp_epsilon": 0.5})["all"][0]
    got = polylines(clip)
    assert len(got) == len(first["drawing"]) and len(clip) - 1 < n_dense / 3
    for (xs, ys), pts in zip(first["drawing"], got):  # every original vertex within eps of the result
        segs = list(zip(pts[:-1], pts[1:])) or [(pts[0], pts[0])]
        assert max(min(_seg_dist(o, a, b) for a, b in segs) for o in np.column_stack([xs, ys])) <= 0.5 + 1e-3
    t_ms = clip.meta["t_ms"]
    assert len(t_ms) == len(clip) - 1 and t_ms == sorted(t_ms) and t_ms[0] == 0
    assert clip.meta["duration_s"] == pytest.approx((t - 300) / 1000)
    assert len(read(path, {"rdp_epsilon": 0.0})["all"][0]) - 1 == n_dense  # epsilon 0 keeps all


def _seg_dist(p, a, b) -> float:
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0, 1)
    return float(np.hypot(*(p - a - t * ab)))


def test_ndjson_empty_strokes_dropped(write_file):
    line = {"word": "x", "key_id": "1", "drawing": [[[], []], [[0, 10], [0, 0]], [[], []], [[5], [5]]]}
    clip = read(write_file("e.ndjson", json.dumps(line)), {})["all"][0]
    assert [len(p) for p in polylines(clip)] == [2, 1]


@pytest.mark.parametrize(
    "lines, needles",
    [
        (['{"drawing": [[[0, 1], [0, 1]]]}', '{"drawing": [[[0, 1], [0, 1]]', "{}"], ["line 2", "not valid JSON"]),
        (['{"drawing": [[[0, NaN], [0, 1]]]}'], ["line 1", "NaN or infinite"]),
        (['', '{"drawing": [[[0, 1], [0, Infinity]]]}'], ["line 2", "NaN or infinite"]),
        (['{"drawing": [[[], []], [[], []]]}'], ["line 1", "empty drawing"]),
        (['{"drawing": []}'], ["line 1", "empty drawing"]),
        (['{"drawing": [[[0, 1, 2], [0, 1]]]}'], ["line 1", "stroke 0"]),
        (['{"drawing": [[[0, 1], [0, 1]], [[0, 1], [0, "a"]]]}'], ["line 1", "stroke 1"]),
        (['{"drawing": [[[0, 1], [0, 1], [0, 5]], [[0, 1], [0, 1]]]}'], ["line 1", "with and without timing"]),
        (['{"drawing": [[[0, 1], [0, 1], [0, NaN]]]}'], ["line 1", "NaN or infinite times"]),
        (['{"word": "x"}'], ["line 1", "'drawing'"]),
        (['[1, 2]'], ["line 1", "'drawing'"]),
        ([], ["no drawings"]),
    ],
)
def test_ndjson_bad_input(write_file, lines, needles):
    bad(write_file("bad.ndjson", "\n".join(lines) + "\n"), *needles)


def test_ndjson_truncated_and_binary(sk, write_file):
    text = (sk / "quickdraw_simplified" / "cat.ndjson").read_text()
    cut = text[: len(text) // 2]
    assert cut.count("\n") == 11  # the cut falls inside line 12
    col = len(cut.splitlines()[-1]) + 1  # the error is where the cut line stops
    bad(write_file("cut.ndjson", cut), "line 12:", "not valid JSON", f"at column {col})")
    bad(write_file("bin.ndjson", b'{"drawing": [[[0], [0]]]}\n\xff\xfe\x00'), "not UTF-8")


# --- SVG ---------------------------------------------------------------------------------


def test_svg_sheep_sample(sk):
    (clip,) = read(sk / "svg" / "sheep.svg", {})["all"]
    assert clip.meta == {"source": "sheep.svg", "name": "sheep", "group": "sheep", "units": "px"}
    strokes = polylines(clip)
    assert len(strokes) == 11  # body, head, eye, 4 legs, tail, ground, bale, hill
    px = 96 / 25.4  # width="120mm" over a 120-unit viewBox: 1 user unit = 1 mm
    pts = np.concatenate(strokes) / px
    assert pts.min() > 0 and pts[:, 0].max() < 120 and pts[:, 1].max() < 80
    legs = [s / px for s in strokes[3:7]]
    for leg, x in zip(legs, (38, 45, 60, 67)):  # <use> copies of one line, translated
        np.testing.assert_allclose(leg, [[x, 57], [x, 68]], atol=1e-3)
    head = strokes[1] / px  # an ellipse under rotate(25 79 38): the rotation must be applied
    np.testing.assert_allclose(head[:-1].mean(axis=0), [79, 38], atol=0.3)
    major = head[np.argmax(np.hypot(head[:, 0] - 79, head[:, 1] - 38))] - [79, 38]
    assert np.degrees(np.arctan2(abs(major[1]), abs(major[0]))) == pytest.approx(25, abs=3)
    eye = strokes[2] / px  # a circle, flattened then simplified (epsilon 2 px), closed
    np.testing.assert_allclose(np.hypot(eye[:, 0] - 81, eye[:, 1] - 36.5), 0.7, atol=1e-3)
    np.testing.assert_allclose(eye[0], eye[-1], atol=1e-3)


def test_svg_hershey_word_matches_its_font(sk):
    """The SVG sample is scripts.jhf glyphs under translate/scale: reading both must agree."""
    glyphs = {c.meta["char"]: c for c in read(sk / "hershey" / "scripts.jhf", {})["all"]}
    (clip,) = read(sk / "svg" / "hershey_sheep_word.svg", {"rdp_epsilon": 0.0})["all"]
    got = polylines(clip)
    want, x = [], 10
    for ch in "sheep":
        g = glyphs[ch].meta
        x -= 2 * g["left"]
        want += [p * 2 + [x, 50] for p in polylines(glyphs[ch])]
        x += 2 * g["right"]
    assert len(got) == len(want) == 9
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-3)


def test_svg_shapes_transforms_and_subpaths(write_file):
    svg = SVG_HEAD + """
      <g transform="translate(10 20) scale(2)"><line x1="0" y1="0" x2="5" y2="0"/></g>
      <path d="M 0 50 L 10 50 M 0 60 L 10 60 L 20 60"/>
      <polyline points="0,80 1,80 2,80 3,80 30,80"/>
      <rect x="40" y="40" width="10" height="5"/>
      <text x="0" y="0">ignored</text>
      <circle cx="5" cy="5" r="3" display="none"/>
    </svg>"""
    (clip,) = read(write_file("s.svg", svg), {"rdp_epsilon": 0.5})["all"]
    got = polylines(clip)
    assert [len(p) for p in got] == [2, 2, 2, 2, 5]  # RDP drops the collinear points
    np.testing.assert_allclose(got[0], [[10, 20], [20, 20]], atol=1e-3)
    np.testing.assert_allclose(got[2], [[0, 60], [20, 60]], atol=1e-3)
    np.testing.assert_allclose(got[4], [[40, 40], [50, 40], [50, 45], [40, 45], [40, 40]], atol=1e-3)


def test_svg_curves_flattened_within_epsilon(write_file):
    svg = SVG_HEAD + '<circle cx="50" cy="50" r="40"/><path d="M 0 0 Q 50 100 100 0"/></svg>'
    for eps in (0.1, 1.0):
        circle, quad = polylines(read(write_file("c.svg", svg), {"rdp_epsilon": eps})["all"][0])
        r = np.hypot(circle[:, 0] - 50, circle[:, 1] - 50)
        np.testing.assert_allclose(r, 40, atol=1e-3)  # kept points are on the circle
        mids = (circle[1:] + circle[:-1]) / 2  # chord sag stays within about epsilon
        assert (40 - np.hypot(mids[:, 0] - 50, mids[:, 1] - 50)).max() <= eps * 1.05
        assert 8 < len(circle) < 400 and quad[0].tolist() == [0, 0] and quad[-1].tolist() == [100, 0]
    assert len(polylines(read(write_file("c.svg", svg), {"rdp_epsilon": 0.1})["all"][0])[0]) > len(circle)


@pytest.mark.parametrize(
    "body, needles",
    [
        ('<path d="M 0 0 L 10 10"></svg', ["not valid SVG/XML"]),
        ('<text x="1" y="1">only words</text></svg>', ["no drawable shapes"]),
        ('<path d=""/></svg>', ["no drawable shapes"]),
        ('<path id="wing" d="M 0 0 L nan 10"/></svg>', ["path id='wing'", "bad path data"]),
        ('<path d="M 0 0 L 10 10 Z 4"/></svg>', ["bad path data"]),
        ('<path d="M 0 0 L 1e999 10"/></svg>', ["NaN or infinite"]),
    ],
)
def test_svg_bad_input(write_file, body, needles):
    bad(write_file("bad.svg", SVG_HEAD + body), *needles)


def test_svg_truncated_and_missing(sk, write_file, tmp_path):
    text = (sk / "svg" / "sheep.svg").read_text()
    bad(write_file("cut.svg", text[: len(text) // 2]), "not valid SVG/XML")
    bad(write_file("empty.svg", ""), "not valid SVG/XML")
    bad(tmp_path / "gone.svg", "no such file")


# --- Hershey .jhf ------------------------------------------------------------------------


def test_hershey_samples(sk):
    for font in ("futural", "scripts", "rowmans"):
        clips = read(sk / "hershey" / f"{font}.jhf", {})["all"]
        assert len(clips) == 95  # 96 glyphs (ASCII 32..127) less the inkless space
        assert clips[0].meta["char"] == "!" and clips[-1].meta["char"] == chr(127)
        assert {c.meta["font"] for c in clips} == {font}
    a = next(c for c in read(sk / "hershey" / "futural.jhf", {})["all"] if c.meta["char"] == "A")
    # futural 'A' is "I[RFJ[ RRFZ[ RMTWT": bound (-9, 9), then three strokes
    assert (a.meta["left"], a.meta["right"], a.meta["glyph"]) == (-9, 9, 33)
    want = [[[0, -12], [-8, 9]], [[0, -12], [8, 9]], [[-5, 2], [5, 2]]]
    for got, w in zip(polylines(a), want, strict=True):
        np.testing.assert_allclose(got, w, atol=1e-4)


def test_hershey_wrapped_and_crlf_records_read_the_same(sk, write_file):
    lines = (sk / "hershey" / "futural.jhf").read_text().splitlines()
    assert max(map(len, lines)) > 72  # some records really do wrap below
    wrapped = "\r\n".join(ln[i : i + 72] for ln in lines for i in range(0, len(ln), 72)) + "\r\n"
    a = read(sk / "hershey" / "futural.jhf", {})["all"]
    b = read(write_file("futural.jhf", wrapped), {})["all"]
    assert len(a) == len(b) == 95
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.frames, y.frames)
        assert x.meta == y.meta


def test_hershey_bad_input(sk, write_file):
    text = (sk / "hershey" / "futural.jhf").read_text()
    bad(write_file("cut.jhf", text[:-10]), "line 96", "cut short")
    bad(write_file("hdr.jhf", "12345  xJZ\n"), "line 1", "not a glyph header")
    bad(write_file("two.jhf", text.splitlines()[33] + "\n\n12345"), "line 3", "not a glyph header")
    bad(write_file("space.jhf", "12345  1JZ\n"), "no glyph has any strokes")
    bad(write_file("empty.jhf", ""), "no glyphs")
    bad(write_file("utf.jhf", "12345  2JZRé\n".encode()), "non-ASCII")


# --- folders and the codec ----------------------------------------------------------------


def test_folders(sk, tmp_path):
    assert len(read(sk / "quickdraw_simplified", {})["all"]) == 100
    assert len(read(sk / "hershey", {})["all"]) == 285  # hershey.txt is not a font and is skipped
    assert len(read(sk / "svg", {})["all"]) == 2
    bad(sk, "mixes .npz files")  # the npz split would silently drop the rest
    bad(tmp_path, "no drawing files")
    (tmp_path / "good.ndjson").write_text((sk / "quickdraw_simplified" / "owl.ndjson").read_text())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "broken.svg").write_text(SVG_HEAD + "<path")
    msg = bad(tmp_path, "broken.svg", "not valid SVG/XML")
    assert "good.ndjson" not in msg


def test_codec_reads_every_sample(sk):
    for path in (sk / "aaron_sheep_small.npz", sk / "quickdraw_simplified", sk / "hershey", sk / "svg"):
        codec = codec_for_path(path)
        assert isinstance(codec, StrokesCodec)
        clips = [c for split in codec.read(path).values() for c in split]
        assert clips and all(c.is_finite() and c.channel("pen")[-1] == 2 for c in clips)
