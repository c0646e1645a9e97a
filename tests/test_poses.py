"""The poses codec on real CMU salsa frames: representation, resampling, mirroring, exports."""

import json
from pathlib import Path

import numpy as np
import pytest

from seqart.clip import Clip
from seqart.codecs import codec_for_path, codec_from_config
from seqart.codecs.poses import features as pf
from seqart.codecs.poses import PosesCodec, clip_to_motion
from seqart.errors import SeqartError
from seqart.export import export_clips
from seqart.formats.bvh import Motion, read_bvh, write_bvh
from seqart.codecs.poses.kinematics import euler_to_matrix, joint_positions, matrix_to_euler

MOCAP = Path(__file__).resolve().parents[1] / "datasets" / "mocap"
SALSA = MOCAP / "salsa_12_excerpt.bvh"
SALSA_OPTS = {"fps": 25.0, "source_fps": 60.0, "trim_start": 1}


def _clip(codec: PosesCodec, path: Path = SALSA) -> Clip:
    return next(c for s in codec.read(path).values() for c in s)


def _aligned_error(a: np.ndarray, b: np.ndarray) -> float:
    """Max joint distance after moving a's first root point onto b's on the ground."""
    d = b[0, 0] - a[0, 0]
    d[1] = 0
    return float(np.abs(a + d - b).max())


def test_bvh_folder_picks_the_poses_codec():
    codec = codec_for_path(MOCAP)
    assert isinstance(codec, PosesCodec)
    splits = codec.read(MOCAP)
    assert sorted(splits) == ["all"] and len(splits["all"]) == 2
    assert {c.meta["group"] for c in splits["all"]} == {"salsa_12_excerpt", "salsa_27_excerpt"}
    only = PosesCodec({"exclude": ["salsa_27_excerpt"], "valid": ["salsa_12_excerpt"]}).read(MOCAP)
    assert list(only) == ["valid"] and len(only["valid"]) == 1


def test_still_joints_carry_no_channels_and_come_back_when_decoding():
    codec = PosesCodec(SALSA_OPTS)
    clip = _clip(codec)
    lay = codec.layout
    assert len(lay.mixtures) == 1 and lay.mixtures[0].kind == "diagonal" and lay.channels == clip.channels
    assert "lIndex1.r0" not in lay.channels and "lIndex1" in codec.options["static"]
    assert "lShin.r0" in lay.channels and "lShin.v5" in lay.channels and "hip.r0" in lay.channels
    m = clip_to_motion(clip)
    src = read_bvh(SALSA)
    col = src.skeleton.channel_slices()[src.skeleton.names.index("lIndex1")]
    assert np.allclose(m.values[:, col], src.values[1:, col].mean(0), atol=1e-3)


@pytest.mark.parametrize("velocity,drift", [(True, 0.1), (True, 1.0), (False, 1.0)])
def test_encode_decode_reproduces_joint_positions(velocity, drift):
    codec = PosesCodec({"source_fps": 60.0, "fps": 60.0, "static_deg": 0.0, "velocity": velocity})
    clip = _clip(codec)
    src = read_bvh(SALSA)
    ours = joint_positions(src.skeleton, clip_to_motion(clip, drift).values)
    theirs = joint_positions(src.skeleton, src.values)[1:]  # the first frame only anchors velocities
    assert len(clip) == len(src.values) - 1
    assert _aligned_error(ours, theirs) < 1e-3  # cm


def test_resampling_to_25_fps_keeps_the_motion():
    slow = _clip(PosesCodec(SALSA_OPTS))
    fast = _clip(PosesCodec(SALSA_OPTS | {"fps": 60.0}))
    assert slow.fps == 25.0 and len(slow) == 149  # 359 frames at 60 fps span 5.97 s: 150 at 25 fps, minus the anchor
    sk = read_bvh(SALSA).skeleton
    a = joint_positions(sk, clip_to_motion(slow).values)  # frame k at (k + 1) / 25 s
    b = joint_positions(sk, clip_to_motion(fast).values)  # frame j at (j + 1) / 60 s
    k = np.arange(4, 149, 5)  # (k + 1) / 25 s falls on a 60 fps frame: exact
    assert np.abs(a[k] - b[(k + 1) * 12 // 5 - 1]).max() < 1e-3
    k = np.arange(149)  # elsewhere the nearest 60 fps frame is at most 1/120 s away
    near = np.round((k + 1) * 12 / 5).astype(int) - 1
    assert np.median(np.linalg.norm(a - b[near], axis=-1)) < 1.0  # cm


def test_source_fps_option_overrides_the_header():
    assert len(_clip(PosesCodec({"fps": 25.0, "trim_start": 1}))) == 74  # header 120 fps: 3 s
    assert len(_clip(PosesCodec({"fps": 25.0, "trim_start": 1, "source_fps": 60.0}))) == 149  # 6 s


def _turned(m: Motion, degrees: float) -> Motion:
    """The same motion turned about the vertical axis and moved: the root's rotation and position change."""
    sk, v = m.skeleton, m.values.copy()
    R = euler_to_matrix(np.array([0.0, degrees, 0.0]), "XYZ")
    rot = euler_to_matrix(v[:, 3:6], "ZYX")
    v[:, 3:6] = matrix_to_euler(R @ rot, "ZYX")
    v[:, 0:3] = v[:, 0:3] @ R.T + [300.0, 0.0, -50.0]
    return Motion(sk, m.frame_time, v)


def test_features_do_not_depend_on_where_the_dancer_faces(tmp_path):
    codec = PosesCodec(SALSA_OPTS)
    a = _clip(codec)
    write_bvh(_turned(read_bvh(SALSA), 123.0), tmp_path / "turned.bvh")
    b = _clip(codec, tmp_path / "turned.bvh")
    yaw = a.channels.index("root.dyaw")
    keep = [i for i in range(len(a.channels)) if i != yaw]
    assert np.allclose(a.frames[:, keep], b.frames[:, keep], atol=2e-4)
    assert np.allclose(a.frames[1:, yaw], b.frames[1:, yaw], atol=1e-4)


def test_mirroring_reflects_the_body_and_twice_is_the_identity():
    codec = PosesCodec(SALSA_OPTS | {"mirror": 1.0})
    clip = _clip(codec)
    rng = np.random.default_rng(0)
    once = codec.augment(clip, rng)
    assert np.allclose(codec.augment(once, rng).frames, clip.frames)
    sk = read_bvh(SALSA).skeleton
    a = joint_positions(sk, clip_to_motion(clip).values)
    b = joint_positions(sk, clip_to_motion(once).values)
    swap = [sk.names.index(pf.mirror_name(n, sk.names)) for n in sk.names]
    assert swap[sk.names.index("lShin")] == sk.names.index("rShin")
    local = lambda p: p - p[:, :1] * [1, 0, 1]  # relative to the root on the ground
    # b, reflected across x = 0 in its own facing frame, is a with left and right swapped; the salsa
    # skeleton is only nearly symmetric, so allow a few cm
    a0, b0 = local(a), local(b)[:, swap] * [-1, 1, 1]
    fa = np.abs(a0[:, :, 1] - b0[:, :, 1])
    assert np.median(fa) < 1.0 and np.median(np.abs(np.linalg.norm(a0, axis=-1) - np.linalg.norm(b0, axis=-1))) < 1.5
    assert PosesCodec(SALSA_OPTS | {"mirror": 0.0}).augment(clip, rng) is clip


def test_codec_rebuilds_from_its_config_alone():
    codec = PosesCodec(SALSA_OPTS)
    clips = codec.read(MOCAP)["all"]
    codec.fit_norm(clips)
    cfg = json.loads(json.dumps(codec.config()))
    again = codec_from_config(cfg)
    assert again.layout == codec.layout
    x = codec.to_model(clips[0])
    assert np.allclose(again.from_model(x).frames, clips[0].frames, atol=1e-4)
    assert np.allclose(clip_to_motion(again.from_model(x)).values, clip_to_motion(clips[0]).values, atol=1e-2)


def test_bad_options_and_other_skeletons_are_one_line_errors(write_file):
    with pytest.raises(SeqartError, match="unknown poses option"):
        PosesCodec({"fsp": 30})
    with pytest.raises(SeqartError, match=r"^codec.drift = 0 is out of range \(0, 1\]$"):
        PosesCodec({"drift": 0})
    codec = PosesCodec(SALSA_OPTS)
    codec.read(SALSA)
    other = write_file("other.bvh", "HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
                                    "MOTION\nFrames: 2\nFrame Time: 0.1\n0 0 0\n1 1 1\n")
    with pytest.raises(SeqartError, match="other.bvh: its skeleton"):
        codec.read(other)
    tuned = codec_from_config(codec.config() | {"options": codec.options | {"pin_feet": True}})  # a fine-tune adding it
    with pytest.raises(SeqartError, match="other.bvh: its skeleton"):  # named before the feet are fitted on it
        tuned.read(other)
    with pytest.raises(SeqartError, match=r"^drift = 2 is out of range \(0, 1\]$"):
        codec.configure_sampler(None, {"drift": "2"})  # text from --set drift=2, read as a number
    with pytest.raises(SeqartError, match="unknown poses generation option"):
        codec.configure_sampler(None, {"speed": "2"})


def test_exports_are_readable_and_deterministic(tmp_path):
    codec = PosesCodec(SALSA_OPTS)
    clip = _clip(codec).slice(0, 50)
    for ext in (".bvh", ".gif", ".npz", ".csv"):
        a, b = tmp_path / f"a{ext}", tmp_path / f"b{ext}"
        export_clips([clip], a)
        export_clips([clip], b)
        assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 100
    m = read_bvh(tmp_path / "a.bvh")
    assert m.values.shape == (50, 132) and m.frame_time == pytest.approx(0.04)
    with np.load(tmp_path / "a.npz") as z:  # plain arrays: no pickle needed
        assert z["positions"].shape == (50, 43, 3) and list(z["joints"])[0] == "hip" and float(z["fps"]) == 25.0
        assert np.allclose(z["positions"], joint_positions(m.skeleton, m.values), atol=1e-3)
    rows = (tmp_path / "a.csv").read_text().splitlines()
    assert len(rows) == 51 and rows[0].startswith("clip,frame,seconds,hip_x,hip_y,hip_z")
    from PIL import Image

    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == 50 and im.info["duration"] == 40
    export_clips([clip, clip], tmp_path / "two.gif", fps=12.5, size=100)
    with Image.open(tmp_path / "two.gif") as im:
        assert im.n_frames == 25 and im.size == (200, 100)
    with pytest.raises(SeqartError, match="unknown export option"):
        export_clips([clip], tmp_path / "x.gif", colour="red")


def test_mp4_through_ffmpeg(tmp_path):
    import shutil

    from tests.peers import peer

    peer("ffmpeg")
    assert shutil.which("ffmpeg")
    clip = _clip(PosesCodec(SALSA_OPTS)).slice(0, 20)
    export_clips([clip], tmp_path / "a.mp4", size=96)
    assert (tmp_path / "a.mp4").read_bytes()[4:8] == b"ftyp"


def test_left_right_names_in_common_conventions():
    names = ["LeftArm", "RightArm", "l_hand", "r_hand", "Hand.L", "Hand.R", "lShin", "rShin", "leftEye", "rightEye",
             "spine", "lower_back", "Leg_L", "Leg_R"]
    pairs = {n: pf.mirror_name(n, names) for n in names}
    assert pairs["LeftArm"] == "RightArm" and pairs["r_hand"] == "l_hand" and pairs["Hand.L"] == "Hand.R"
    assert pairs["rShin"] == "lShin" and pairs["leftEye"] == "rightEye" and pairs["Leg_R"] == "Leg_L"
    assert pairs["spine"] == "spine" and pairs["lower_back"] == "lower_back"


def test_speed_augmentation_matches_reading_the_file_faster():
    codec = PosesCodec(SALSA_OPTS | {"mirror": 0.0, "speed": 0.5})
    clip = _clip(codec)
    faster = _clip(PosesCodec(SALSA_OPTS | {"source_fps": 90.0}))  # the same frames, played 1.5 times as fast
    warped = clip.with_frames(pf.time_warp(clip.frames, clip.channels, 1.5))
    assert len(warped) == len(faster)
    sk = read_bvh(SALSA).skeleton
    a, b = (joint_positions(sk, clip_to_motion(c).values) for c in (warped, faster))
    assert np.median(np.linalg.norm(a - b, axis=-1)) < 2.0  # cm, within the 1-frame anchor shift
    lengths = {len(codec.augment(clip, np.random.default_rng(s))) for s in range(5)}
    assert len(lengths) > 1 and all(99 <= n <= 298 for n in lengths)
