"""The strokes codec: stroke-3 <-> stroke-5 <-> Clip <-> model space, RDP, augmentation.

Property tests generate drawings as stroke-3 arrays; the fixed tests use the
shipped aaron_sheep subset (real drawings, CC BY-NC 4.0).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from seqart.codecs import codec_for_path
from seqart.codecs.strokes import (
    PEN_DOWN,
    PEN_END,
    PEN_UP,
    StrokesCodec,
    clip_to_stroke3,
    rdp,
    rdp_indices,
    stroke3_to_clip,
    stroke3_to_stroke5,
    stroke3_to_strokes,
    stroke5_to_stroke3,
    strokes_to_stroke3,
)
from seqart.errors import SeqartError
from tests.samples import SHEEP

FAST = settings(max_examples=40, deadline=None)
offsets = st.integers(-300, 300).map(float)  # integer-valued, like sketch-rnn's pixel offsets


@st.composite
def stroke3(draw, min_rows=1, max_rows=60):
    """(N, 3) stroke-3 whose last row lifts the pen (every real drawing ends a stroke)."""
    n = draw(st.integers(min_rows, max_rows))
    xy = draw(arrays(np.float32, (n, 2), elements=offsets))
    pen = draw(arrays(np.float32, (n,), elements=st.sampled_from([0.0, 1.0])))
    pen[-1] = 1.0
    return np.column_stack([xy, pen]).astype(np.float32)


@st.composite
def polyline(draw, max_points=40):
    n = draw(st.integers(1, max_points))
    return draw(arrays(np.float64, (n, 2), elements=st.floats(-1000, 1000, allow_nan=False, width=32)))


def seg_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of points p (K, 2) to the segment a-b."""
    ab = b - a
    denom = float(ab @ ab)
    t = np.clip(((p - a) @ ab) / denom, 0, 1) if denom > 0 else np.zeros(len(p))
    return np.hypot(*(p - (a + t[:, None] * ab)).T)


# --- format round trips --------------------------------------------------------------


@FAST
@given(stroke3(), st.integers(0, 80))
def test_stroke3_stroke5_round_trip(s3, pad):
    s5 = stroke3_to_stroke5(s3, max_len=len(s3) + pad)
    assert s5.shape == (len(s3) + max(pad, 1), 5)
    assert np.all(s5[:, 2:].sum(axis=1) == 1)  # each row is exactly one pen state
    assert np.all(s5[len(s3) :, 4] == 1) and not s5[: len(s3), 4].any()
    np.testing.assert_array_equal(stroke5_to_stroke3(s5), s3)


@FAST
@given(stroke3())
def test_stroke3_clip_round_trip(s3):
    clip = stroke3_to_clip(s3, rate=30.0, source="t")
    assert clip.channels == ("dx", "dy", "pen") and clip.fps == 30.0 and clip.meta == {"source": "t"}
    pen = clip.channel("pen")
    assert pen[-1] == PEN_END and np.count_nonzero(pen == PEN_END) == 1
    assert set(np.unique(pen[:-1])) <= {PEN_DOWN, PEN_UP}
    np.testing.assert_array_equal(clip_to_stroke3(clip), s3)


@FAST
@given(st.lists(polyline(), min_size=1, max_size=8))
def test_polylines_stroke3_round_trip(lines):
    back = stroke3_to_strokes(strokes_to_stroke3(lines))
    assert len(back) == len(lines)
    for a, b in zip(lines, back):
        np.testing.assert_allclose(b, a, atol=1e-3 * (1 + np.abs(a).max()) * len(lines))


@FAST
@given(st.lists(stroke3(), min_size=1, max_size=6))
def test_model_space_round_trip(drawings):
    codec = StrokesCodec()
    clips = [stroke3_to_clip(s) for s in drawings]
    codec.fit_norm(clips)
    assert codec.norm.scale[0] == codec.norm.scale[1] > 0  # one scale keeps the aspect
    for clip in clips:
        x = codec.to_model(clip)
        assert x.shape == (len(clip), 3) and x.dtype == np.float32
        np.testing.assert_array_equal(x[:, 2], clip.channel("pen"))  # class index, not scaled
        back = codec.from_model(x)
        # offsets come back within the dequantisation noise (half a source unit), pen states exactly
        np.testing.assert_allclose(back.frames[:, :2], clip.frames[:, :2], atol=0.5 + 1e-3)
        np.testing.assert_array_equal(back.frames[:, 2], clip.frames[:, 2])
        assert back.channels == clip.channels and back.fps == codec.options["rate"]
        np.testing.assert_array_equal(codec.to_model(clip), x)  # the same fixed draw every time
    exact = StrokesCodec({"dequantise": 0.0}, codec.norm)
    np.testing.assert_allclose(exact.from_model(exact.to_model(clips[0])).frames, clips[0].frames, atol=1e-3)


def test_dequantisation_covers_the_integer_grid_and_training_draws_afresh():
    codec = StrokesCodec()
    clips = codec.read(SHEEP)["train"][:50]  # real drawings on an integer grid
    codec.fit_norm(clips)
    x = np.concatenate([codec.to_model(c)[:, :2] for c in clips]) * codec.norm.scale  # source units
    zeros = np.concatenate([c.frames[:, :2] for c in clips]) == 0
    assert zeros.mean() > 0.01  # the data has exact zeros on an axis...
    assert (x[zeros] != 0).all() and np.abs(x[zeros]).max() <= 0.5  # ...which now spread over one unit
    rng = np.random.default_rng(0)
    a, b = (codec.to_model(codec.augment(clips[0], rng)) for _ in range(2))
    assert not np.array_equal(a[-1, :2], b[-1, :2])  # fresh noise for every training draw


def test_norm_is_std_of_training_offsets(datasets_dir):
    codec = codec_for_path(datasets_dir / "sketches" / "aaron_sheep_small.npz")
    train = codec.read(datasets_dir / "sketches" / "aaron_sheep_small.npz")["train"]
    codec.fit_norm(train)
    xy = np.concatenate([clip_to_stroke3(c)[:, :2] for c in train])
    assert codec.norm.scale[0] == pytest.approx(xy.std(), rel=1e-4)
    assert 10 < codec.norm.scale[0] < 40  # sheep offsets are tens of pixels (full set: std 21.9, 14.4)
    model = np.concatenate([codec.to_model(c)[:-1, :2] for c in train])  # end frames excluded
    assert model.std() == pytest.approx(1.0, rel=1e-3)


def test_unknown_option_is_one_line_error():
    with pytest.raises(SeqartError, match="rdp_eps") as e:
        StrokesCodec({"rdp_eps": 1.0})
    assert "\n" not in str(e.value)


# --- RDP -------------------------------------------------------------------------------


def line_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of points p (K, 2) to the infinite line through a and b (to a if a == b)."""
    ab, ap = b - a, p - a
    n = np.hypot(*ab)
    return np.abs(ab[0] * ap[:, 1] - ab[1] * ap[:, 0]) / n if n > 0 else np.hypot(*ap.T)


@FAST
@given(polyline(max_points=80), st.sampled_from([0.5, 2.0, 10.0]))
def test_rdp_keeps_endpoints_and_error_bound(points, eps):
    points = points.astype(np.float32)
    idx = rdp_indices(points, eps).tolist()
    kept = rdp(points, eps)
    np.testing.assert_array_equal(kept, points[idx])
    # Kept points are a subsequence of the input with both ends, and each dropped point lies
    # within eps of the line through the two kept points around it.
    assert idx == sorted(set(idx)) and idx[0] == 0 and idx[-1] == len(points) - 1
    p64 = points.astype(np.float64)
    for a, b in zip(idx[:-1], idx[1:]):
        if b - a > 1:
            assert line_distance(p64[a + 1 : b], p64[a], p64[b]).max() <= eps * (1 + 1e-4) + 1e-3


def test_rdp_keeps_a_stroke_that_doubles_back():
    # Right 10 px, then back left past the start: the turn at x=10 is 10 px off the kept segment.
    pts = np.array([[0, 0], [10, 0], [-5, 0]], np.float32)
    kept = rdp(pts, 2.0)
    d = min(seg_distance(np.array([[10.0, 0.0]]), a, b)[0] for a, b in zip(kept[:-1], kept[1:]))
    assert d <= 2.0


def test_rdp_keeps_the_tip_of_an_overshooting_stroke():
    # Out along x to 60, then back to 40: every point lies on the line through the ends, but the
    # tip at 60 is 20 px from the segment 0..40, so segment-distance RDP keeps it.
    pts = np.column_stack([np.r_[np.arange(0.0, 61.0), np.arange(59.0, 39.0, -1.0)], np.zeros(81)])
    np.testing.assert_array_equal(rdp_indices(pts, 2.0), [0, 60, 80])
    np.testing.assert_array_equal(rdp_indices(pts[:, ::-1], 2.0), [0, 60, 80])  # a strided view


def is_rdp(p: np.ndarray, eps: float, kept: set, a: int, b: int) -> bool:
    """Can RDP with segment distance keep exactly `kept` between a and b, ties broken any way?"""
    if b - a < 2:
        return True
    d = seg_distance(p[a + 1 : b], p[a], p[b])
    top, inside = d.max(), [k for k in range(a + 1, b) if k in kept]
    if not inside and top <= eps * (1 + 1e-9):
        return True
    return top >= eps * (1 - 1e-9) and any(
        d[k - a - 1] >= top * (1 - 1e-9) and is_rdp(p, eps, kept, a, k) and is_rdp(p, eps, kept, k, b) for k in inside)


@FAST
@given(polyline(max_points=60), st.sampled_from([0.5, 2.0, 10.0, 100.0]))
def test_rdp_is_plain_rdp_with_segment_distance(points, eps):
    kept = rdp_indices(points, eps).tolist()
    assert kept == sorted(set(kept)) and kept[0] == 0 and kept[-1] == len(points) - 1
    assert is_rdp(points, eps, set(kept), 0, len(points) - 1)


def test_rdp_windows_a_20k_point_spiral_and_a_100k_point_zigzag():
    # r = 5 theta, points about 1 unit apart: plain RDP is O(K^2) here. The zigzag (nearly every
    # point kept) recurses ~100k deep in plain RDP, which overflowed the library's stack.
    th = np.sqrt(np.linspace(0, 2 * 20_000 / 5, 20_000))
    spiral = np.column_stack([5 * th * np.cos(th), 5 * th * np.sin(th)])
    kept = rdp_indices(spiral, 2.0)
    assert kept[0] == 0 and kept[-1] == len(spiral) - 1 and 100 < len(kept) < 2000
    assert set(range(0, len(spiral), 512)) <= set(kept.tolist())  # the window ends stay
    zigzag = np.column_stack([np.arange(100_000.0), np.arange(100_000) % 2 * 10.0])
    assert len(rdp_indices(zigzag, 2.0)) > 0.99 * len(zigzag)


def test_rdp_drops_collinear_points_and_keeps_corners():
    line = np.column_stack([np.arange(50.0), np.zeros(50)])
    corner = np.concatenate([line, np.column_stack([np.full(50, 49.0), np.arange(1.0, 51.0)])])
    np.testing.assert_array_equal(rdp(corner, 0.5), [[0, 0], [49, 0], [49, 50]])
    assert len(rdp(corner, 0.0)) == len(corner)  # epsilon 0 keeps everything


# --- augmentation -------------------------------------------------------------------


def lift_positions(clip) -> np.ndarray:
    """Absolute pen positions where each stroke ends, (strokes, 2)."""
    s3 = clip_to_stroke3(clip)
    return np.cumsum(s3[:, :2], axis=0)[s3[:, 2] > 0.5]


@FAST
@given(stroke3(min_rows=2, max_rows=80), st.integers(0, 2**31))
def test_augment_keeps_pen_structure(s3, seed):
    clip = stroke3_to_clip(s3)
    codec = StrokesCodec({"scale_aug": 0.0, "drop_prob": 0.5})
    aug = codec.augment(clip, np.random.default_rng(seed))
    pen, pen0 = aug.channel("pen"), clip.channel("pen")
    assert pen[-1] == PEN_END and np.count_nonzero(pen == PEN_END) == 1
    assert np.count_nonzero(pen == PEN_UP) == np.count_nonzero(pen0 == PEN_UP)
    assert len(aug) <= len(clip)
    np.testing.assert_allclose(aug.frames[0, :2], clip.frames[0, :2])  # where the pen first lands
    np.testing.assert_allclose(lift_positions(aug), lift_positions(clip), atol=1e-2)


def test_augment_scales_each_axis_and_drops_only_pen_down_points(datasets_dir):
    clip = StrokesCodec().read(datasets_dir / "sketches" / "aaron_sheep_small.npz")["train"][0]
    scaled = StrokesCodec({"scale_aug": 0.15, "drop_prob": 0.0}).augment(clip, np.random.default_rng(3))
    ratio = scaled.frames[:-1, :2].sum(axis=0) / clip.frames[:-1, :2].sum(axis=0)
    np.testing.assert_allclose(scaled.frames[:-1, :2], clip.frames[:-1, :2] * ratio, rtol=1e-5, atol=1e-3)
    assert np.all((ratio >= 0.85) & (ratio <= 1.15)) and ratio[0] != ratio[1]
    dropped = StrokesCodec({"scale_aug": 0.0, "drop_prob": 0.3}).augment(clip, np.random.default_rng(3))
    assert len(dropped) < len(clip)
    np.testing.assert_allclose(lift_positions(dropped), lift_positions(clip), atol=1e-3)
    # the same seed gives the same augmentation
    again = StrokesCodec({"scale_aug": 0.0, "drop_prob": 0.3}).augment(clip, np.random.default_rng(3))
    np.testing.assert_array_equal(again.frames, dropped.frames)


def test_a_checkpoint_from_before_dequantisation_loads_without_it():
    from seqart.codecs import codec_from_config

    new = StrokesCodec()
    old_options = {k: v for k, v in new.options.items() if k != "dequantise"}  # what older model.json files hold
    cfg = {"modality": "strokes", "options": old_options, "norm": new.norm.to_json()}
    assert codec_from_config(cfg).options["dequantise"] == 0.0
    assert codec_from_config(new.config()).options["dequantise"] == 1.0
