"""Poses on stage: the live renderer, a frame -> `/seqart/pose` floats (docs/osc.md)."""

from __future__ import annotations

import numpy as np

from seqart.codecs.poses.features import PoseDecoder
from seqart.codecs.poses.kinematics import joint_positions
from seqart.errors import SeqartError
from seqart.live.events import Event, Renderer


class PoseRenderer(Renderer):
    """One `/seqart/pose f...` per frame; with `per_joint`, also `/seqart/pose/<joint> f...`.

    Option `pose` picks what the floats are (docs/osc.md):
    * "features": the model's channels as they are; joints are channel-name
      prefixes before the last "." or "_" (`Hips.r0` -> Hips);
    * "bvh": the frame decoded to the BVH's channel row (degrees, file units),
      per joint its own channels in the file's order;
    * "positions": world positions of every joint (x y z each, file units), by
      forward kinematics on the decoded row.
    Decoding runs as a stream (`PoseDecoder`): the root's place and heading carry
    on across frames and sequences. With `root_motion = false` the root stays
    above the origin (x = z = 0), so a dancer never walks off a projection.
    """

    KINDS = ("features", "bvh", "positions")

    def __init__(self, codec, options: dict, prefix: str):
        super().__init__(codec, options, prefix)
        self.address = prefix + "/pose"
        self.kind = str(options.get("pose", "features"))
        if self.kind not in self.KINDS:
            raise SeqartError(f"render.pose must be one of {', '.join(self.KINDS)}, not {self.kind!r}")
        self.root_motion = bool(options.get("root_motion", True))
        self.joints: dict[str, list[int]] = {}  # joint name -> indices into the message's floats
        if self.kind == "features":
            for i, ch in enumerate(self.layout.channels):
                cut = max(ch.rfind("_"), ch.rfind("."))
                self.joints.setdefault(ch[:cut] if cut > 0 else ch, []).append(i)
            return
        self.decoder = PoseDecoder(codec.info())
        sk = self.decoder.skeleton
        if self.kind == "bvh":
            self.joints = {n: list(range(sl.start, sl.stop))
                           for n, sl in zip(sk.names, sk.channel_slices()) if sl.stop > sl.start}
        else:
            self.joints = {n: [3 * j, 3 * j + 1, 3 * j + 2] for j, n in enumerate(sk.names)}
        self._root_xz = [sk.channel_slices()[0].start + sk.channels[0].index(c)
                         for c in ("Xposition", "Zposition") if c in sk.channels[0]]

    def floats(self, frame: np.ndarray) -> np.ndarray:
        """The message's floats for one frame (see the class doc)."""
        if self.kind == "features":
            return frame
        row = self.decoder(frame[None])[0]  # (n_channels,)
        if not self.root_motion:
            row[self._root_xz] = 0.0
        if self.kind == "bvh":
            return row
        return joint_positions(self.decoder.skeleton, row[None])[0].reshape(-1)  # (J * 3,)

    def events(self, frame, beat, beats_per_second):
        values = [float(v) for v in self.floats(frame)]
        evs = [Event(beat, self.address, tuple(values))]
        if self.options.get("per_joint"):
            evs += [Event(beat, f"{self.address}/{j}", tuple(values[i] for i in idx)) for j, idx in self.joints.items()]
        return evs

    def reset(self) -> None:
        """A new sequence or a prime: rotations start afresh, the dancer stays where it stands."""
        if self.kind != "features":
            self.decoder.reset(place=False)

    def view(self) -> dict:
        """Decoded poses: the joints' names and parents, for a page to draw bones between positions."""
        if self.kind == "features":
            return {}
        sk = self.decoder.skeleton
        return {"joints": list(sk.names), "parents": [int(p) for p in sk.parents]}
