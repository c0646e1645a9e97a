"""Poses streamed live: frame-by-frame decoding, and the three things `/seqart/pose` can carry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from live_peers import oscdump_messages, perform_to_oscdump
from seqart.codecs.poses import features as pf
from seqart.codecs.poses import PosesCodec
from seqart.errors import SeqartError
from seqart.formats.bvh import Skeleton
from seqart.codecs.poses.kinematics import joint_positions
from seqart.live.events import renderer_for

ROOT = Path(__file__).resolve().parents[1]
SALSA = ROOT / "datasets" / "mocap" / "salsa_12_excerpt.bvh"


@pytest.fixture(scope="module")
def salsa():
    """(codec, (T, C) feature frames) of a real salsa excerpt, with rotation velocities."""
    codec = PosesCodec({"fps": 30.0, "source_fps": 60.0, "trim_start": 1, "velocity": True, "drift": 0.1})
    clip = next(c for s in codec.read(SALSA).values() for c in s)
    return codec, clip.frames[:90].astype(np.float64)


def test_stream_decoding_matches_decoding_the_whole_clip(salsa):
    codec, frames = salsa
    whole = pf.decode(frames, codec.info()).values
    one = pf.PoseDecoder(codec.info())
    by_frame = np.concatenate([one(f[None]) for f in frames])
    chunked = pf.PoseDecoder(codec.info())
    by_chunk = np.concatenate([chunked(frames[i : i + 7]) for i in range(0, len(frames), 7)])
    np.testing.assert_allclose(by_frame, whole, atol=1e-9)
    np.testing.assert_allclose(by_chunk, whole, atol=1e-9)
    # the dancer moves: the root travels and the rotations change from frame to frame
    assert np.ptp(whole[:, 0]) > 1.0 and np.abs(np.diff(whole[:, 6:], axis=0)).max() > 0.5


def test_positions_are_forward_kinematics_of_the_decoded_frames(salsa):
    codec, frames = salsa
    sk = Skeleton.from_json(codec.info()["skeleton"])
    expect = joint_positions(sk, pf.decode(frames, codec.info()).values)  # (T, J, 3)
    r = renderer_for(codec, {"pose": "positions", "per_joint": True})
    for t, f in enumerate(frames[:30]):
        evs = r.events(f.astype(np.float32), float(t), 2.0)
        assert evs[0].address == "/seqart/pose" and len(evs[0].args) == 3 * len(sk.names)
        np.testing.assert_allclose(np.reshape(evs[0].args, (-1, 3)), expect[t], atol=1e-3)
        per = {e.address: e.args for e in evs[1:]}
        assert len(per) == len(sk.names)
        np.testing.assert_allclose(per["/seqart/pose/head"], expect[t, sk.names.index("head")], atol=1e-3)
    head, foot = expect[:, sk.names.index("head"), 1], expect[:, sk.names.index("lFoot"), 1]
    assert (head > foot + 50).all()  # upright: the head is well above the feet (file units, cm)


def test_bvh_rows_per_joint_channels_and_a_root_that_stays_home(salsa):
    codec, frames = salsa
    sk = Skeleton.from_json(codec.info()["skeleton"])
    whole = pf.decode(frames, codec.info()).values
    r = renderer_for(codec, {"pose": "bvh", "per_joint": True})
    rows = [r.events(f, 0.0, 2.0) for f in frames]
    np.testing.assert_allclose([e[0].args for e in rows], whole, atol=1e-3)
    hip = {e.address: e.args for e in rows[0][1:]}["/seqart/pose/hip"]
    assert len(hip) == len(sk.channels[0]) == 6  # X/Y/Zposition then the rotations, as in the file
    home = renderer_for(codec, {"pose": "bvh", "root_motion": False})
    pinned = np.array([home.events(f, 0.0, 2.0)[0].args for f in frames])
    x, y, z = (sk.channels[0].index(c) for c in ("Xposition", "Yposition", "Zposition"))
    assert np.abs(pinned[:, [x, z]]).max() == 0.0
    np.testing.assert_allclose(pinned[:, y], whole[:, y], atol=1e-3)  # height and rotations are kept
    np.testing.assert_allclose(pinned[:, 6:], whole[:, 6:], atol=1e-3)


def test_a_new_sequence_starts_where_the_dancer_stands(salsa):
    codec, frames = salsa
    r = renderer_for(codec, {"pose": "bvh"})
    last = [r.events(f, 0.0, 2.0)[0].args for f in frames][-1]
    r.reset()  # the engine resets the renderer on a new sequence, a prime or a reset command
    first = r.events(frames[0], 0.0, 2.0)[0].args
    step = np.hypot(first[0] - last[0], first[2] - last[2])
    assert step < 5.0  # one frame's step (cm), not a jump back to the origin
    start = pf.decode(frames[:1], codec.info()).values[0]
    assert np.hypot(last[0] - start[0], last[2] - start[2]) > 5.0  # it had walked away from the start


def test_an_unknown_pose_kind_is_a_one_line_error(salsa):
    codec, _ = salsa
    with pytest.raises(SeqartError, match="render.pose must be one of features, bvh, positions"):
        renderer_for(codec, {"pose": "quaternions"})


@pytest.mark.peer
def test_the_dancer_piece_streams_joint_positions_to_oscdump():
    r, dump = perform_to_oscdump(ROOT / "pieces" / "dancer.toml", 2.0,
                                 "--set", "render.pose=positions", "--set", "control.osc_port=0")
    assert r.returncode == 0, r.stderr
    frames = oscdump_messages(dump, "/seqart/pose")
    heads = oscdump_messages(dump, "/seqart/pose/head")
    assert len(frames) > 35 and len(heads) == len(frames), r.stderr  # the salsa model plays 25 frames a second
    assert all(m[3] == "f" * 129 for m in frames)  # 43 joints, x y z each
    xyz = np.array([[float(v) for v in m[4]] for m in heads])
    assert np.isfinite(xyz).all() and (xyz[:, 1] > 100).all()  # a head at standing height (the files are in cm)
