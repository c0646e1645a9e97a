"""Motion-capture poses: BVH files in, BVH files out, for any skeleton.

The channels are described in `features` (root motion as velocities in
the body's facing frame plus height, joint rotations in 6-D, optional 6-D
velocities). All continuous channels form one diagonal Gaussian mixture, as
in chor-rnn (Crnkovic-Friis & Crnkovic-Friis 2016).

The skeleton (hierarchy, offsets, channel orders), the joints left out
because they never move, and the frame rates are learnt from the first data
read and kept in the options, so a checkpoint decodes to BVH without the data.

Time: clips are resampled to option `fps`. The source rate is the file's
`Frame Time` unless option `source_fps` overrides it (the CMU salsa files
say 120 but move like 60 fps; see benchmarks/poses_framerate.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart import spec
from seqart.clip import Clip
from seqart.codecs import register
from seqart.codecs.poses import features as pf
from seqart.codecs.base import Codec, Norm
from seqart.codecs.poses import settings as declared
from seqart.errors import SeqartError
from seqart.formats.bvh import Motion, Skeleton, read_bvh
from seqart.layout import Categorical, Layout, Mixture

DEFAULTS = {
    "fps": 30.0,  # frames per second of the model
    "source_fps": 0.0,  # frames per second of the files; 0 = their Frame Time
    "trim_start": 0,  # source frames dropped from the start of every file (CMU's first is a rest pose)
    "static_deg": 0.5,  # joints whose angles vary less (std, degrees) carry no channels
    "velocity": True,  # add 6-D rotation velocities (see features)
    "drift": 0.1,  # weight of the absolute rotation when decoding with velocities
    "mirror": 0.5,  # chance of a left/right mirrored copy when training
    "speed": 0.0,  # training plays clips at a random speed in [1 - speed, 1 + speed]
    "forward": [0.0, 0.0, 1.0],  # the skeleton's facing direction in its rest pose
    "contact": False,  # foot-contact channels, predicted by the model; planted feet are pinned when decoding
    "pin_feet": False,  # without contact channels: pin feet that are low and slow when decoding (any model)
    "contact_height": 0.03,  # a foot touches the floor within this many body heights above its floor...
    "contact_speed": 0.2,  # ...while moving slower than this many body heights per second
    "stage_seconds": 0.0,  # > 0: a generated dancer drifts back to where it began (time constant, s)
    "feet": None,  # foot joint names (a list; None = the rest pose's lowest joint and its partner); learnt: {name: floor}
    "chunk_seconds": 0.0,  # cut files into clips this long for training (0 = whole files)
    "exclude": [],  # file names (without .bvh) not to read at all, e.g. a bad recording
    "valid": [],  # file names (without .bvh) that form the validation split
    "test": [],  # file names that form the test split
    "skeleton": None,  # learnt: the skeleton of the first file read
    "kept": None,  # learnt: joints with rotation channels in the model
    "static": None,  # learnt: mean Euler angles of the joints left out
    "constant": None,  # learnt: raw channels that never change, {"joint.channel": value}
    "body_height": None,  # learnt: the rest pose's height, file units
}
LEARNT = ("skeleton", "kept", "static", "constant", "body_height")


@register
class PosesCodec(Codec):
    modality = "poses"
    writer_modules = ("seqart.codecs.poses.writers",)
    suffixes = (".bvh",)
    # checkpoints from before foot contact and constant channels: no contact channels, nothing constant
    legacy_options = {"contact": False, "constant": {}}
    # (with how decoding pins feet: a fine-tune may change it, the model's space stays)
    training_options = ("source_fps", "trim_start", "mirror", "speed", "chunk_seconds", "exclude", "valid", "test",
                        "pin_feet", "contact_height", "contact_speed", "stage_seconds")
    settings = tuple(declared.OPTIONS)  # seqart/codecs/poses/settings.py
    defaults = DEFAULTS
    generation_settings = tuple(declared.GENERATION)

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        super().__init__(self.with_defaults(options), norm)

    # --- layout -----------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.options["skeleton"] is not None

    def info(self) -> dict:
        """What decoding needs, JSON-able; travels in every clip's meta['poses']."""
        o = self.options
        keys = ("skeleton", "kept", "static", "constant", "fps", "velocity", "drift", "forward",
                "contact", "pin_feet", "feet", "contact_height", "contact_speed", "body_height", "stage_seconds")
        return {k: o[k] for k in keys}

    @property
    def layout(self) -> Layout:
        if not self.fitted:
            return Layout((), ())
        chans = pf.channel_names(self.info())
        flags = pf.contact_channels(self.info())
        cont = tuple(c for c in chans if c not in flags)
        return Layout(chans, (Mixture(cont, "diagonal"),), tuple(Categorical(c, 2) for c in flags))

    def clip_defaults(self) -> dict:
        return {"fps": float(self.options["fps"]), "meta": {"poses": self.info()}}

    # --- reading ------------------------------------------------------------------------------
    def read(self, path: Path) -> dict[str, list[Clip]]:
        return self.read_files(Path(path), float(self.options["chunk_seconds"]))

    def read_files(self, path: Path, chunk_seconds: float = 0.0) -> dict[str, list[Clip]]:
        """Splits of clips from a .bvh file or a folder of them, cut into chunks when chunk_seconds > 0."""
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*.bvh")
                                                     if p.is_file() and p.stem not in self.options["exclude"])
        if not files:
            raise SeqartError(f"{path}: no .bvh files")
        motions = [(f, self._trimmed(read_bvh(f))) for f in files]
        if not self.fitted:
            self._fit_skeleton(motions)
        for f, m in motions:  # before fitting feet on them: a file of another skeleton is named, in one line
            self._check_skeleton(f, m.skeleton)
        if self.options["pin_feet"] and not isinstance(self.options["feet"], dict):  # a fine-tune that adds pinning
            sk = Skeleton.from_json(self.options["skeleton"])
            values = np.concatenate([m.values for _, m in motions])
            self.options.update(feet=pf.fit_feet(sk, values, self.options["feet"]), body_height=pf.body_height(sk))
        splits: dict[str, list[Clip]] = {}
        for f, m in motions:
            clip = self.motion_to_clip(m, source=str(f), name=f.stem, group=f.stem)
            self.check_clip(clip, f)
            name = "valid" if f.stem in self.options["valid"] else "test" if f.stem in self.options["test"] else "train"
            splits.setdefault(name, []).extend(_chunks(clip, chunk_seconds))
        if not (self.options["valid"] or self.options["test"]):
            return {"all": splits.get("train", [])}
        return splits

    def _trimmed(self, m: Motion) -> Motion:
        n = int(self.options["trim_start"])
        return Motion(m.skeleton, m.frame_time, m.values[n:]) if n else m

    def _fit_skeleton(self, motions: list[tuple[Path, Motion]]) -> None:
        f, first = motions[0]
        sk = first.skeleton
        if pf.joint_kind(sk.channels[0]) == "raw":
            raise SeqartError(f"{f}: root joint {sk.names[0]!r} needs three rotation channels or none")
        compatible = np.concatenate([m.values for _, m in motions if _same_layout(m.skeleton, sk)])
        static = pf.static_angles(sk, compatible, float(self.options["static_deg"]))
        constant = pf.constant_channels(sk, compatible, float(self.options["static_deg"]))
        feet = pf.fit_feet(sk, compatible, self.options["feet"]) if self.options["contact"] or self.options["pin_feet"] else None
        kept = [j for j, c in enumerate(sk.channels) if pf.joint_kind(c) == "euler" and sk.names[j] not in static]
        if 0 not in kept:  # the root's tilt is always modelled; a root without rotations stays identity
            kept = [0] + kept if pf.joint_kind(sk.channels[0]) == "euler" else kept
        self.options.update(skeleton=sk.to_json(), kept=kept, static=static, constant=constant, feet=feet,
                            body_height=pf.body_height(sk))
        self.norm = Norm.identity(len(self.layout.continuous))

    def _check_skeleton(self, path: Path, sk: Skeleton) -> None:
        if not _same_layout(sk, Skeleton.from_json(self.options["skeleton"])):
            raise SeqartError(f"{path}: its skeleton (joint names or channels) differs from the model's")

    def source_fps(self, motion: Motion) -> float:
        fps = float(self.options["source_fps"]) or 1.0 / motion.frame_time
        # Frame Time is usually 1/fps rounded (0.00833333): snap to the whole rate it stands for.
        return float(round(fps)) if abs(fps - round(fps)) < 1e-4 * fps else fps

    def motion_to_clip(self, motion: Motion, **meta) -> Clip:
        """A BVH motion -> a poses Clip at the codec's fps (one frame shorter: see features)."""
        frames = pf.encode(motion, self.info(), self.source_fps(motion))
        # "recorded": decoding gives the motion as it was captured (feet are never pinned)
        return Clip(frames, self.layout.channels, "poses", fps=float(self.options["fps"]),
                    meta={"poses": self.info() | {"recorded": True}, **meta})

    def prime_clip(self, path: Path, seconds: float | None = None) -> Clip:
        """The first file under path, whole (not chunked), cut to its first `seconds`."""
        clips = [c for s in self.read_files(Path(path)).values() for c in s]
        clip = clips[0]
        return clip.slice(0, max(1, self.frames_in(clip, seconds))) if seconds is not None else clip

    # --- training -------------------------------------------------------------------------------
    def fit_norm(self, clips: list[Clip]) -> None:
        """Mean and std per channel, with a floor so near-still channels are not blown up."""
        x = self._continuous(clips)
        self.norm = Norm(x.mean(0).astype(np.float32), np.maximum(x.std(0), 1e-3).astype(np.float32))

    def augment(self, clip: Clip, rng: np.random.Generator) -> Clip:
        """A left/right mirrored copy with probability option `mirror`, at a random speed (option `speed`)."""
        frames = clip.frames
        if rng.random() < float(self.options["mirror"]):
            perm, sign = pf.mirror_map(self.info())
            frames = frames[:, perm] * sign
        a = float(self.options["speed"])
        if a > 0:
            frames = pf.time_warp(frames, clip.channels, float(rng.uniform(1 - a, 1 + a)))
        return clip if frames is clip.frames else clip.with_frames(frames)

    # --- generation -----------------------------------------------------------------------------
    def renderer(self, options: dict, prefix: str):
        from seqart.codecs.poses.live import PoseRenderer

        return PoseRenderer(self, options, prefix)

    def view_options(self, offset_std_px: float) -> dict:
        """Joint positions, the dancer kept above the origin."""
        return {"pose": "positions", "root_motion": False}

    def configure_sampler(self, sampler, options: dict) -> None:
        """`--set drift=X` changes how velocities and absolute rotations are fused when decoding,
        `--set stage_seconds=S` how fast a generated dancer drifts back to where it began."""
        options = spec.check_options(self.generation_settings, options)
        for key in ("drift", "stage_seconds"):
            if key in options:
                self.options[key] = options.pop(key)
        super().configure_sampler(sampler, options)


def clip_to_motion(clip: Clip, drift: float | None = None) -> Motion:
    """A poses Clip (from a codec or a sampler) -> BVH motion on its source skeleton."""
    info = clip.meta.get("poses")
    if not info:
        raise SeqartError("this clip carries no skeleton (meta['poses']); was it made by the poses codec?")
    return pf.decode(clip.frames, info, drift)


def _same_layout(a: Skeleton, b: Skeleton) -> bool:
    return a.names == b.names and a.channels == b.channels and a.parents == b.parents


def _chunks(clip: Clip, seconds: float) -> list[Clip]:
    if seconds <= 0:
        return [clip]
    n = max(2, int(round(seconds * clip.fps)))
    return [clip.slice(s, s + n).with_frames(clip.frames[s : s + n], meta=clip.meta | {"chunk": s // n})
            for s in range(0, len(clip), n) if len(clip) - s >= n // 2]
