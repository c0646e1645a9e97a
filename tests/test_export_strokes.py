"""Stroke exporters: plotter SVG, PNG, GIF, and the (modality, extension) dispatcher.

The drawings are real (tests/data/sketches_small.json: three Quick, Draw!
drawings and one aaron_sheep drawing with a one-point stroke; sources inside).
SVGs are read back by programs seqart did not write (vpype, rsvg-convert,
cairosvg) through tests/peers.py.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from peers import peer
from seqart.codecs.strokes import stroke3_to_clip, strokes_to_stroke3
from seqart.errors import SeqartError
from seqart.export import _WRITERS, export_clips, known_extensions, output, register_writer
from seqart.codecs.strokes.raster import render
from seqart.codecs.strokes.svg import write_svg

DATA = Path(__file__).parent / "data" / "sketches_small.json"
SVG_NS = "{http://www.w3.org/2000/svg}"
PX_PER_MM = 96 / 25.4  # vpype reports CSS pixels


@pytest.fixture(scope="module")
def clips():
    d = json.loads(DATA.read_text())
    out = [stroke3_to_clip(strokes_to_stroke3([np.column_stack(s) for s in q["drawing"]]),
                           source=f"quickdraw {q['word']} {q['key_id']}") for q in d["quickdraw"]]
    out += [stroke3_to_clip(np.array(a["stroke3"]), source=f"aaron_sheep {a['split']}[{a['index']}]")
            for a in d["aaron_sheep"]]
    return out


def n_strokes(clip) -> int:
    return int((clip.channel("pen") == 1).sum())


def svg_paths(path: Path) -> list[np.ndarray]:
    """Each <path>'s points as (K, 2) mm."""
    return [svg_paths_of(p) for p in ET.parse(path).getroot().iter(SVG_NS + "path")]


def svg_paths_of(el) -> np.ndarray:
    """One <path>'s points, parsed from our "M x y L x y ..." data."""
    return np.array([float(v) for v in re.findall(r"-?[\d.]+", el.get("d"))]).reshape(-1, 2)


def drawing_groups(path: Path) -> list[ET.Element]:
    return [g for g in ET.parse(path).getroot().iter(SVG_NS + "g") if g.get("id", "").startswith("drawing-")]


def vpype_stat(svg: Path) -> dict:
    out = subprocess.run([peer("vpype"), "read", "--no-crop", str(svg), "stat"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    totals = out.split("Totals")[-1]
    number = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
    nums = lambda s: [float(v) for v in re.findall(number, s.replace("float64", ""))]  # noqa: E731
    return {"paths": int(re.search(r"Path count: (\d+)", totals)[1]),
            "layers": int(re.search(r"Layer count: (\d+)", totals)[1]),
            "bounds": nums(re.search(r"Bounds: (.*)", totals)[1]),
            "page": nums(re.search(r"Current page size: (.*)", out)[1])}


def ink_fraction(png: Path) -> float:
    im = Image.open(png).convert("RGBA")
    bg = Image.new("RGBA", im.size, "white")
    bg.alpha_composite(im)
    return float((np.asarray(bg.convert("L")) < 250).mean())


# --- SVG ------------------------------------------------------------------------------------------

def test_svg_page_in_mm_one_path_per_stroke_inside_margins(clips, tmp_path):
    f = tmp_path / "grid.svg"
    write_svg(clips, f, page="a4", margin_mm=10)
    root = ET.parse(f).getroot()
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("210mm", "297mm", "0 0 210 297")
    assert [len(g.findall(SVG_NS + "path")) for g in drawing_groups(f)] == [n_strokes(c) for c in clips]
    pts = np.concatenate(svg_paths(f))
    assert pts.min() >= 10 - 0.2 and pts[:, 0].max() <= 200 + 0.2 and pts[:, 1].max() <= 287 + 0.2


def test_svg_keeps_each_drawings_aspect(clips, tmp_path):
    f = tmp_path / "grid.svg"
    write_svg(clips, f)
    paths, k = svg_paths(f), 0
    for c in clips:
        xy = np.cumsum(c.frames[:-1, :2], axis=0)
        placed = np.concatenate(paths[k : k + n_strokes(c)])
        k += n_strokes(c)
        src, dst = np.ptp(xy, axis=0), np.ptp(placed, axis=0)
        assert dst[0] / dst[1] == pytest.approx(src[0] / src[1], rel=0.02)


def test_one_point_stroke_becomes_a_short_mark(clips, tmp_path):
    sheep = clips[3]
    f = tmp_path / "sheep.svg"
    write_svg([sheep], f, stroke_width_mm=0.4)
    lengths = [np.hypot(*np.diff(p, axis=0).T).sum() for p in svg_paths(f)]
    assert len(lengths) == n_strokes(sheep)
    assert min(lengths) == pytest.approx(0.2, abs=0.002)  # half a pen width, so a plotter touches down


@pytest.mark.peer
def test_vpype_reads_every_stroke_on_the_page(clips, tmp_path):
    f = tmp_path / "grid.svg"
    export_clips(clips, f, page="a3", landscape=True)
    st = vpype_stat(f)
    assert st["paths"] == sum(n_strokes(c) for c in clips)
    assert st["layers"] == 1  # one pen, not one layer per drawing
    assert st["page"] == pytest.approx([420 * PX_PER_MM, 297 * PX_PER_MM], rel=1e-4)
    x0, y0, x1, y1 = st["bounds"]
    margin = 10 * PX_PER_MM - 1
    assert x0 >= margin and y0 >= margin and x1 <= st["page"][0] - margin and y1 <= st["page"][1] - margin


@pytest.mark.peer
@pytest.mark.parametrize("renderer", ["rsvg-convert", "cairosvg"])
def test_renderers_draw_the_svg_like_our_png(clips, tmp_path, renderer):
    f, ours = tmp_path / "grid.svg", tmp_path / "ours.png"
    export_clips(clips, f, stroke_width_mm=0.5)
    export_clips(clips, ours, stroke_width_mm=0.5, dpi=96)
    theirs = tmp_path / "theirs.png"
    cmd = {"rsvg-convert": [peer(renderer), "-b", "white", "-w", "794", "-o", str(theirs), str(f)],
           "cairosvg": [peer(renderer), str(f), "-o", str(theirs), "--output-width", "794"]}[renderer]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert Image.open(theirs).size == Image.open(ours).size == (794, 1123)
    a, b = ink_fraction(theirs), ink_fraction(ours)
    assert a > 0.005 and 0.85 < a / b < 1.15  # same page, same pen: same ink


@pytest.mark.peer
def test_animated_svg_plots_and_renders_like_the_static_one(clips, tmp_path):
    still, moving = tmp_path / "still.svg", tmp_path / "moving.svg"
    export_clips(clips, still, page="auto")
    export_clips(clips, moving, page="auto", animate=True)
    assert moving.read_text().count("<animate ") == sum(n_strokes(c) for c in clips)
    assert vpype_stat(moving)["paths"] == vpype_stat(still)["paths"]
    pngs = []
    for f in (still, moving):  # static renderers ignore SMIL, so they must see the finished drawing
        pngs.append(tmp_path / (f.stem + ".png"))
        subprocess.run([peer("rsvg-convert"), "-b", "white", "-o", str(pngs[-1]), str(f)], check=True, timeout=120)
    assert ink_fraction(pngs[1]) == pytest.approx(ink_fraction(pngs[0]), rel=0.01)


def test_animated_svg_draws_strokes_in_order_at_the_drawing_rate(clips, tmp_path):
    f = tmp_path / "moving.svg"
    cat = clips[0]  # 53 points at 60 points/s: the last is reached at 52/60 s
    export_clips([cat], f, animate=True, speed=2, hold_s=1)
    anims = list(ET.parse(f).getroot().iter(SVG_NS + "animate"))
    assert len(anims) == n_strokes(cat)
    assert {a.get("dur") for a in anims} == {f"{52 / 60 / 2 + 1:.3f}s"}
    starts, ends = [], []
    for a in anims:
        keys = [float(k) for k in a.get("keyTimes").split(";")]
        values = [float(v) for v in a.get("values").split(";")]
        assert len(keys) == len(values) == 4 and keys == sorted(keys) and keys[0] == 0 and keys[-1] == 1
        assert values[0] == values[1] > 0 and values[2] == values[3] == 0  # hidden, then drawn, then held
        starts.append(keys[1])
        ends.append(keys[2])
    assert starts == sorted(starts) and all(e <= s2 for e, s2 in zip(ends, starts[1:]))
    assert ends[-1] == pytest.approx((52 / 60 / 2) / (52 / 60 / 2 + 1), abs=1e-4)


# --- PNG and GIF ----------------------------------------------------------------------------------

def test_png_is_the_page_with_ink_inside_the_margins(clips, tmp_path):
    f = tmp_path / "grid.png"
    export_clips(clips, f, dpi=100)
    im = Image.open(f)
    assert im.size == (827, 1169)  # A4 at 100 dpi
    ink = np.asarray(im.convert("L")) < 128
    ys, xs = np.nonzero(ink)
    margin = 10 / 25.4 * 100 - 2
    assert ink.mean() > 0.005 and xs.min() >= margin and ys.min() >= margin
    assert xs.max() <= 827 - margin and ys.max() <= 1169 - margin
    assert np.asarray(im.convert("RGB"))[0, 0].tolist() == [255, 255, 255]


def test_gif_draws_progressively_and_ends_on_the_finished_drawing(clips, tmp_path):
    f = tmp_path / "draw.gif"
    export_clips(clips, f, hold_s=1.5, dpi=100)
    gif = Image.open(f)
    frames = [np.asarray(fr.convert("L")) for fr in ImageSequence.Iterator(gif)]
    assert len(frames) > 10
    ink = [int((fr < 250).sum()) for fr in frames]
    assert ink == sorted(ink) and ink[0] < ink[-1] / 4  # ink only ever grows
    final = np.asarray(render(clips, page="auto", margin_mm=5, stroke_width_mm=0.5, dpi=100).convert("L"))
    assert np.array_equal(frames[-1], final)
    gif.seek(gif.n_frames - 1)
    assert gif.info["duration"] == 1540  # the 40 ms frame plus the hold


def test_gif_size_is_capped(clips, tmp_path):
    f = tmp_path / "small.gif"
    export_clips(clips, f, max_px=200)
    assert max(Image.open(f).size) == 200


def test_gif_plays_at_the_clips_drawing_rate(clips, tmp_path):
    cat = clips[0]  # 53 points: the last is reached after 52 / rate seconds
    played = []
    for rate in (60.0, 120.0):
        f = tmp_path / f"cat{rate:g}.gif"
        export_clips([cat.with_frames(cat.frames, fps=rate)], f, hold_s=0)
        gif = Image.open(f)
        played.append(sum(fr.info["duration"] for fr in ImageSequence.Iterator(gif)))
    assert played == [880, 440]  # 52/60 s and 52/120 s, rounded up to whole 40 ms frames


def test_a_drawing_that_ended_at_once_leaves_an_empty_cell(clips, tmp_path):
    empty = stroke3_to_clip(np.zeros((0, 3)))  # what a sampler gives when it draws the end token first
    export_clips([empty, clips[0]], tmp_path / "a.svg")
    assert [len(g.findall(SVG_NS + "path")) for g in drawing_groups(tmp_path / "a.svg")] == [0, n_strokes(clips[0])]
    for ext in (".png", ".gif"):
        export_clips([empty, clips[0]], tmp_path / f"a{ext}", columns=2)
        im = np.asarray(Image.open(tmp_path / f"a{ext}").convert("L"))
        half = im.shape[1] // 2  # the grid is two cells side by side
        assert (im[:, :half] < 250).sum() == 0 and (im[:, half:] < 250).sum() > 100


def test_same_input_gives_the_same_bytes(clips, tmp_path):
    for ext in (".svg", ".png", ".gif"):
        a, b = tmp_path / f"a{ext}", tmp_path / f"b{ext}"
        export_clips(clips, a)
        export_clips(clips, b)
        assert a.read_bytes() == b.read_bytes()
        export_clips(clips[::-1], b)
        assert a.read_bytes() != b.read_bytes()


def test_streams_get_the_same_bytes_as_files(clips, tmp_path):
    text = io.StringIO()
    write_svg(clips, text)
    export_clips(clips, tmp_path / "a.svg")
    assert text.getvalue().encode() == (tmp_path / "a.svg").read_bytes()
    data = io.BytesIO()
    _WRITERS[("strokes", ".png")](clips, data)
    export_clips(clips, tmp_path / "a.png")
    assert data.getvalue() == (tmp_path / "a.png").read_bytes()


# --- errors and the registry ----------------------------------------------------------------------

def test_failed_export_leaves_the_old_file_and_no_temp_file(clips, tmp_path):
    f = tmp_path / "keep.svg"
    f.write_text("old")
    bad = clips[0].with_frames(np.where(np.arange(3) == 0, np.nan, clips[0].frames))
    with pytest.raises(SeqartError, match="not finite"):
        export_clips([clips[1], bad], f)
    with pytest.raises(RuntimeError):
        with output(f, binary=False) as out:
            out.write("half")
            raise RuntimeError("the writer broke mid-file")
    assert f.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.svg"]


@pytest.mark.parametrize("path, options, message", [
    ("x.pdf", {}, r"x\.pdf: cannot write \.pdf files from strokes clips \(known extensions: \.gif, \.png, \.svg\)$"),
    ("x", {}, r"x: cannot write a file without an extension"),
    ("x.svg", {"colour": "red"}, r"unknown export option\(s\) colour"),
    ("x.svg", {"page": "a9"}, r"page 'a9': not a page size"),
    ("x.png", {"margin_mm": 120}, r"margin_mm=120 .* leave no room"),
    ("x.gif", {"color": "inkish"}, r"not colours"),
    ("x.svg", {"color": "inkish"}, r"color='inkish': not a colour"),
    ("x.svg", {"columns": 0}, r"export.columns = 0 is out of range"),
    ("x.png", {"dpi": 2400}, r"dpi=2400: a 19843x28063 px image is too large"),
    ("missing/x.svg", {}, r"folder .*missing does not exist"),
])
def test_bad_requests_are_one_line_errors(clips, tmp_path, path, options, message):
    with pytest.raises(SeqartError, match=message) as e:
        export_clips(clips, tmp_path / path, **options)
    assert "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_other_modalities_register_their_own_extensions(clips, tmp_path):
    @register_writer("test-modality", ".txt")
    def write_count(clips, dest, *, prefix="n"):
        with output(dest, binary=False) as f:
            f.write(f"{prefix}={len(clips)}\n")

    try:
        other = clips[0].with_frames(clips[0].frames, modality="test-modality")
        export_clips([other, other], tmp_path / "a.txt", prefix="clips")
        assert (tmp_path / "a.txt").read_text() == "clips=2\n"
        assert known_extensions("test-modality") == [".txt"] and ".txt" not in known_extensions("strokes")
        with pytest.raises(SeqartError, match="cannot mix modalities"):
            export_clips([clips[0], other], tmp_path / "b.txt")
    finally:
        del _WRITERS[("test-modality", ".txt")]


def test_layout_options(clips, tmp_path):
    f = tmp_path / "col.svg"
    export_clips(clips, f, columns=1, page="letter", landscape=True)
    root = ET.parse(f).getroot()
    assert (root.get("width"), root.get("height")) == ("279.4mm", "215.9mm")
    centres = []
    for g in drawing_groups(f):
        pts = np.concatenate([svg_paths_of(p) for p in g.findall(SVG_NS + "path")])
        centres.append((pts.min(axis=0) + pts.max(axis=0)) / 2)
    centres = np.array(centres)
    assert np.allclose(centres[:, 0], 279.4 / 2, atol=0.01) and np.all(np.diff(centres[:, 1]) > 0)

