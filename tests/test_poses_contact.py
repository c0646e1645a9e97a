"""Foot contact (labels, mirroring, pinning when decoding), skeletons whose every joint has six
channels (constant channels kept out of the model, mirroring exact), and old checkpoints."""

from pathlib import Path

import numpy as np
import pytest

from seqart.codecs import codec_for_path, codec_from_config
from seqart.codecs.poses import features as pf
from seqart.codecs.poses import PosesCodec, clip_to_motion
from seqart.config import defaults, merge
from seqart.formats.bvh import Motion, Skeleton, read_bvh, write_bvh
from seqart.codecs.poses.kinematics import joint_positions
from seqart.modelio import load_model
from seqart.train import train

MOCAP = Path(__file__).resolve().parents[1] / "datasets" / "mocap"
SALSA = MOCAP / "salsa_12_excerpt.bvh"
OPTS = {"fps": 25.0, "source_fps": 60.0, "trim_start": 1}
FEET = ("lFoot", "rFoot")


def _clip(codec, path=SALSA):
    return next(c for s in codec.read(path).values() for c in s)


def _foot_speeds(motion: Motion) -> np.ndarray:
    """(T - 1, 2) horizontal speed of lFoot and rFoot, file units per frame."""
    p = joint_positions(motion.skeleton, motion.values)[:, [motion.skeleton.names.index(f) for f in FEET]]
    return np.linalg.norm(np.diff(p[..., [0, 2]], axis=0), axis=-1)


def test_contact_channels_mark_low_still_feet_and_mirror_swaps_them():
    codec = PosesCodec(OPTS | {"contact": True, "mirror": 1.0})
    clip = _clip(codec)
    assert [c.channel for c in codec.layout.categoricals] == ["lFoot.contact", "rFoot.contact"]
    assert set(codec.options["feet"]) == set(FEET)  # found as the lowest joints of the rest pose
    flags = clip.frames[:, -2:]
    assert set(np.unique(flags)) == {0.0, 1.0} and (0.2 < flags.mean(0)).all() and (flags.mean(0) < 0.8).all()
    speed = _foot_speeds(clip_to_motion(clip))
    on = flags[1:] > 0.5
    assert speed[on].mean() < 0.25 * speed[~on].mean()
    mirrored = codec.augment(clip, np.random.default_rng(0))
    assert np.array_equal(mirrored.frames[:, -2], clip.frames[:, -1])
    assert np.array_equal(mirrored.frames[:, -1], clip.frames[:, -2])
    warped = pf.time_warp(clip.frames, clip.channels, 1.3)
    assert set(np.unique(warped[:, -2:])) == {0.0, 1.0}


@pytest.mark.parametrize("options", [{"contact": True}, {"pin_feet": True}], ids=["predicted", "detected"])
def test_pinned_feet_stay_put_and_streaming_decodes_the_same(options):
    codec = PosesCodec(OPTS | options)
    clip = _clip(codec)
    info = clip.meta["poses"]
    assert np.array_equal(pf.decode(clip.frames, info).values, pf.decode(clip.frames, info, pin=False).values)
    info = info | {"recorded": False}  # as if generated
    free, pinned = pf.decode(clip.frames, info, pin=False), pf.decode(clip.frames, info)
    if options.get("contact"):
        on = clip.frames[1:, -2:] > 0.5
    else:  # the rule the decoder uses, on the free decoding
        p = joint_positions(free.skeleton, free.values)[:, [free.skeleton.names.index(f) for f in FEET]]
        low = p[1:, :, 1] < np.asarray(list(info["feet"].values())) + info["contact_height"] * info["body_height"]
        on = low & (_foot_speeds(free) < info["contact_speed"] * info["body_height"] / info["fps"])
    assert on.mean() > 0.2
    before, after = _foot_speeds(free)[on].mean(), _foot_speeds(pinned)[on].mean()
    assert after < 0.5 * before
    # only the root's ground position moved (X, Z); never its height or any angle
    assert np.allclose(free.values[:, 3:], pinned.values[:, 3:]) and np.allclose(free.values[:, 1], pinned.values[:, 1])
    assert not np.allclose(free.values[:, [0, 2]], pinned.values[:, [0, 2]])
    stream = pf.PoseDecoder(info)
    rows = np.concatenate([stream(clip.frames[i : i + 7]) for i in range(0, len(clip), 7)])
    assert np.allclose(rows, pinned.values, atol=1e-6)


def _six_channel(m: Motion) -> Motion:
    """The same motion on a skeleton whose every joint has six channels: constant positions (its offsets)."""
    sk = m.skeleton
    chans, cols = [], []
    slices = sk.channel_slices()
    for j, ch in enumerate(sk.channels):
        rot = [c for c in ch if c.endswith("rotation")]
        if sk.parents[j] < 0:
            chans.append(tuple(ch))
            cols.append(m.values[:, slices[j]])
            continue
        chans.append(("Xposition", "Yposition", "Zposition") + tuple(rot))
        const = np.broadcast_to(np.asarray(sk.offsets[j]), (len(m.values), 3))
        cols += [const, m.values[:, [slices[j].start + ch.index(c) for c in rot]]]
    six = Skeleton(sk.names, sk.parents, sk.offsets, tuple(chans), sk.end_sites)
    return Motion(six, m.frame_time, np.concatenate(cols, 1))


def _mirror_file(m: Motion) -> Motion:
    """The motion reflected across the root's X = 0 plane, left and right joints swapped, as a BVH row does it."""
    sk, slices = m.skeleton, m.skeleton.channel_slices()
    out = m.values.copy()
    for j, ch in enumerate(sk.channels):
        p = sk.names.index(pf.mirror_name(sk.names[j], sk.names))
        for i, c in enumerate(ch):
            src = m.values[:, slices[p].start + sk.channels[p].index(c)]
            out[:, slices[j].start + i] = -src if c in ("Xposition", "Yrotation", "Zrotation") else src
    return Motion(sk, m.frame_time, out)


def test_six_channel_skeleton_keeps_constant_channels_out_and_mirrors_exactly(tmp_path):
    write_bvh(_six_channel(read_bvh(SALSA)), tmp_path / "six.bvh")
    six, three = PosesCodec(OPTS | {"mirror": 1.0}), PosesCodec(OPTS)
    a, b = _clip(six, tmp_path / "six.bvh"), _clip(three)
    sk6 = Skeleton.from_json(six.options["skeleton"])
    assert len(six.options["constant"]) == 3 * (len(sk6.names) - 1)
    assert a.channels == b.channels and np.allclose(a.frames, b.frames, atol=1e-5)
    perm, sign = pf.mirror_map(six.info())
    assert np.array_equal(perm[perm], np.arange(len(perm))) and np.array_equal(sign * sign[perm], np.ones(len(sign)))
    rng = np.random.default_rng(0)
    assert np.array_equal(six.augment(six.augment(a, rng), rng).frames, a.frames)
    # mirroring the features is reflecting the file: the codec's mirror of the clip is the clip of the mirrored file
    write_bvh(_mirror_file(read_bvh(tmp_path / "six.bvh")), tmp_path / "mirrored.bvh")
    assert np.allclose(six.augment(a, rng).frames, _clip(six, tmp_path / "mirrored.bvh").frames, atol=1e-4)
    # decoding restores every constant channel exactly
    values = clip_to_motion(a).values
    for name, value in six.options["constant"].items():
        joint, _, chan = name.rpartition(".")
        j = sk6.names.index(joint)
        assert np.all(values[:, sk6.channel_slices()[j].start + sk6.channels[j].index(chan)] == value)


def test_six_channel_skeleton_trains_like_the_three_channel_one(tmp_path):
    for name in ("salsa_12_excerpt", "salsa_27_excerpt"):
        (tmp_path / "six").mkdir(exist_ok=True)
        write_bvh(_six_channel(read_bvh(MOCAP / f"{name}.bvh")), tmp_path / "six" / f"{name}.bvh")
    sets = ["codec.fps=25.0", "codec.source_fps=60.0", "codec.trim_start=1", "codec.chunk_seconds=2.0",
            'codec.valid=["salsa_27_excerpt"]', "model.hidden=24", "model.mixtures=2", "train.steps=4",
            "train.batch_size=4", "train.max_len=30", "train.valid_every=2"]
    nll = {}
    for kind, data in (("three", MOCAP), ("six", tmp_path / "six")):
        cfg = merge(defaults(codec_for_path(data).options), None, sets)
        nll[kind] = train(data, tmp_path / kind, cfg, progress=False)["best_valid_nll"]
    assert np.isfinite(nll["six"]) and abs(nll["six"] - nll["three"]) < 1e-2 * abs(nll["three"])


def test_checkpoints_from_before_contact_load_and_decode_as_they_did(tmp_path):
    codec = PosesCodec(OPTS)
    clip = _clip(codec)
    config = codec.config() | {"options": dict(codec.options)}
    for key in ("contact", "pin_feet", "feet", "contact_height", "contact_speed", "body_height", "constant"):
        del config["options"][key]
    old = codec_from_config(config)
    assert old.layout == codec.layout and old.options["contact"] is False and old.options["constant"] == {}
    assert np.array_equal(clip_to_motion(clip.with_frames(clip.frames, meta={"poses": old.info()})).values,
                          clip_to_motion(clip).values)



SHIPPED = Path(__file__).resolve().parents[1] / "seqart" / "models" / "salsa"


@pytest.mark.skipif(not (SHIPPED / "model.json").exists(), reason="the salsa model is not shipped in this checkout")
def test_shipped_salsa_pins_its_feet():
    model, codec, _ = load_model(SHIPPED)
    info = codec.info()
    assert info["pin_feet"] and set(info["feet"]) == set(FEET) and codec.layout.channels == model.layout.channels


def test_a_stage_keeps_a_walking_dancer_near_the_start_without_sliding_planted_feet():
    codec = PosesCodec(OPTS | {"pin_feet": True})
    clip = _clip(codec)
    frames = np.concatenate([clip.frames] * 3)
    frames[:, 1] += 0.5  # a walk forward: 0.5 cm a frame (12.5 cm/s) on top of the dance
    info = clip.meta["poses"] | {"recorded": False}
    walk, staged = pf.decode(frames, info), pf.decode(frames, info | {"stage_seconds": 1.0})
    start = walk.values[0, [0, 2]]
    far = lambda m: np.linalg.norm(m.values[:, [0, 2]] - start, axis=1)  # noqa: E731
    assert far(walk)[-1] > 150 and far(staged).max() < 0.5 * far(walk)[-1]
    # only the root's ground position moves, and only where no foot is planted: pinned feet stay put
    assert np.allclose(walk.values[:, 3:], staged.values[:, 3:]) and np.allclose(walk.values[:, 1], staged.values[:, 1])
    still = lambda m: int((_foot_speeds(m).min(1) < 1e-6).sum())  # frames where a foot kept its place  # noqa: E731
    assert still(staged) >= 0.9 * still(walk) > 0.2 * len(frames)
    stream = pf.PoseDecoder(info | {"stage_seconds": 1.0})
    rows = np.concatenate([stream(frames[i : i + 5]) for i in range(0, len(frames), 5)])
    assert np.allclose(rows, staged.values, atol=1e-6)
    recorded = clip.meta["poses"] | {"stage_seconds": 1.0}  # a recorded clip decodes as it was captured
    assert np.array_equal(pf.decode(clip.frames, recorded).values, pf.decode(clip.frames, clip.meta["poses"]).values)
