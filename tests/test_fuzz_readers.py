"""Generated hostile files for every reader, through the real `seqart train`.

Hypothesis builds files from each format's own pieces (numbers at their extremes, NaN,
JSON true where a number belongs, broken nesting, bytes flipped in valid files) and runs
the command in a forked child under a memory cap and a time limit (fuzz_cli.py). Either
the file happens to be valid and trains, or the command is refused: exit 2, one line
naming the file, no traceback, nothing written. Runs are derandomised, so CI repeats the
same examples; `max_examples` keeps the whole file to about a minute.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hostile as h
from fuzz_cli import TRAIN_FAST, assert_refused, seqart_run

FUZZ = settings(max_examples=10, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DATA_LEVEL = ("clips", "no drawing", "no notes")  # refusals about the whole data set rather than one file

numbers = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e308, -1e308, 2**63 - 1, -(2**63), 10**30, 255, 256]),
)
json_leaf = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=4))
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c, max_size=3),
                          max_leaves=20)


def check(name: str, content: bytes | str) -> None:
    """Write the file, train on it, hold the run to the promise."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        out = Path(tmp) / "run"
        run = seqart_run("train", path, "--out", out, *TRAIN_FAST, seconds=60, mem_mb=1024)
        if run.code == 0:
            return
        line = assert_refused(run, out=out)
        assert name in line or any(w in line for w in DATA_LEVEL), line


def flip(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    """Bytes of `data` overwritten at (position, value) pairs (positions wrap around)."""
    b = bytearray(data)
    for pos, value in edits:
        b[pos % len(b)] = value
    return bytes(b)


edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6)


# --- .npz -------------------------------------------------------------------------------------------------
def _stroke3(draw_rows):
    return draw_rows


npz_arrays = hnp.arrays(dtype=st.sampled_from(["<i2", "<i8", "<f4", "<f8", "|b1", "<u1"]),
                        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))


@FUZZ
@given(arrays=st.dictionaries(st.sampled_from(["train", "valid", "test", "train_lengths", "x"]), npz_arrays,
                              min_size=1, max_size=3),
       as_objects=st.booleans())
def test_npz_arrays(arrays, as_objects):
    if as_objects:  # the upstream pickled layout: one object array of drawings per split
        items = np.empty(len(arrays), object)
        for i, a in enumerate(arrays.values()):
            items[i] = a
        arrays = {"train": items}
    check("gen.npz", h.npz_bytes(arrays))


@FUZZ
@given(changes=edits, compress=st.booleans())
def test_npz_bytes_flipped(changes, compress):
    valid = h.npz_bytes({"train": np.array([[5, 0, 0], [0, 5, 0], [-5, 0, 1]], np.int16)}, compress)
    check("flipped.npz", flip(valid, changes))


# --- .ndjson ----------------------------------------------------------------------------------------------
stroke = st.lists(st.lists(numbers | st.booleans() | st.none(), max_size=5), min_size=0, max_size=4)


@FUZZ
@given(drawing=st.one_of(st.lists(stroke, max_size=3), json_value), extra=json_value)
def test_ndjson_lines(drawing, extra):
    line = json.dumps({"word": "x", "drawing": drawing, "extra": extra})
    check("gen.ndjson", line + "\n" + json.dumps(extra) + "\n")


# --- .svg --------------------------------------------------------------------------------------------------
svg_number = st.one_of(st.sampled_from(["1e308", "-1e308", "nan", "inf", "1e-320", "0", "-0", "9" * 40]),
                       st.floats(-1e6, 1e6).map(lambda v: f"{v:g}"))
svg_d = st.lists(st.one_of(st.sampled_from(list("MLHVCSQTAZmlhvcsqtaz")), svg_number), max_size=16).map(" ".join)
svg_attrs = st.fixed_dictionaries({}, optional={
    "id": st.sampled_from(["a", "b", "c"]), "d": svg_d,
    "transform": st.sampled_from(["scale(1e308)", "rotate(nan)", "matrix(0 0 0 0 0 0)", "translate(1,2)"]),
    "href": st.sampled_from(["#a", "#b", "#c", "#missing", "x.svg#a"]),
    "points": svg_d, "r": svg_number, "width": svg_number, "height": svg_number, "x": svg_number,
})
svg_element = st.recursive(
    st.tuples(st.sampled_from(["path", "rect", "circle", "line", "polyline", "use"]), svg_attrs, st.just([])),
    lambda c: st.tuples(st.sampled_from(["g", "defs", "symbol", "use"]), svg_attrs, st.lists(c, max_size=3)),
    max_leaves=12)


def svg_text(el) -> str:
    tag, attrs, kids = el
    a = "".join(f' {"xlink:href" if k == "href" else k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{a}>" + "".join(svg_text(k) for k in kids) + f"</{tag}>"


@FUZZ
@given(elements=st.lists(svg_element, min_size=1, max_size=4))
def test_svg_documents(elements):
    check("gen.svg", h.SVG_HEAD + "".join(svg_text(e) for e in elements) + "</svg>")


# --- MIDI ---------------------------------------------------------------------------------------------------
MIDI = h.smf([b"\x00\xff\x51\x03\x07\xa1\x20" + b"\x00\x90\x3c\x64\x60\x80\x3c\x00" * 4 + b"\x00\x90\x40\x64\x60\x40\x00"
              + b"\x00\xff\x2f\x00"])


@FUZZ
@given(changes=edits, tail=st.binary(max_size=24))
def test_midi_bytes(changes, tail):
    check("gen.mid", flip(MIDI, changes) + tail)


@FUZZ
@given(events=st.lists(st.tuples(st.integers(0, 2**28), st.binary(min_size=1, max_size=5)), max_size=12))
def test_midi_events(events):
    body = b"".join(h._varlen(d) + e for d, e in events) + b"\x00\xff\x2f\x00"
    check("events.mid", h.smf([body]))


# --- JSB JSON -------------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.one_of(json_value, st.fixed_dictionaries({"train": st.lists(st.lists(st.lists(numbers | st.booleans(),
                                                                                          max_size=4), max_size=6),
                                                                             max_size=3)})))
def test_jsb_json(data):
    check("gen_jsb.json", json.dumps(data))


# --- BVH --------------------------------------------------------------------------------------------------------
BVH_TOKENS = h.bvh_text([-1, 0, 1], frames=3).split()
bvh_token = st.one_of(st.sampled_from(BVH_TOKENS + ["{", "}", "ROOT", "JOINT", "End", "Site", "MOTION", "Frames:",
                                                    "nan", "inf", "1e308", "-1", "999999999999", "CHANNELS", "7"]),
                      numbers.map(str))


@FUZZ
@given(changes=st.lists(st.tuples(st.integers(0, len(BVH_TOKENS) - 1), bvh_token), min_size=1, max_size=4),
       cut=st.integers(1, len(BVH_TOKENS)))
def test_bvh_tokens(changes, cut):
    lines = h.bvh_text([-1, 0, 1], frames=3).splitlines()
    tokens = [(i, t) for i, line in enumerate(lines) for t in line.split()]
    for k, tok in changes:
        tokens[k] = (tokens[k][0], tok)
    out: dict[int, list[str]] = {}
    for i, t in tokens[:cut]:
        out.setdefault(i, []).append(t)
    check("gen.bvh", "\n".join(" ".join(v) for _, v in sorted(out.items())) + "\n")


# --- Hershey -----------------------------------------------------------------------------------------------------
@FUZZ
@given(text=st.text(alphabet=st.characters(min_codepoint=10, max_codepoint=127), max_size=60),
       count=st.integers(0, 999))
def test_hershey_text(text, count):
    check("gen.jhf", f"{1:5d}{count:3d}" + text + "\n")


def test_json_numbers_python_cannot_hold(tmp_path):
    """An integer of 5,000 digits (Python refuses to convert it) and a float of 1e999 (inf)."""
    for name, text in [("digits.ndjson", '{"drawing": [[[' + "9" * 5000 + ', 1], [1, 2]]]}\n'),
                       ("inf.ndjson", '{"drawing": [[[1e999, 1], [1, 2]]]}\n')]:
        check(name, text)
    assert math.isinf(json.loads("1e999"))
