"""The central type: a sequence of frames with named channels and explicit time.

A `Clip` is a `(T, C)` float32 array. Each modality's codec decides the
channels (for strokes: dx, dy, pen) and how time is carried: either a fixed
frame rate (`fps`, frames per second) or a channel that holds the time step
in seconds (`time_channel`). Transforms return new clips; nothing mutates.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray  # (T, C) float32
    channels: tuple[str, ...]  # C names, e.g. ("dx", "dy", "pen")
    modality: str  # "strokes" | "notes" | "poses"
    fps: float | None = None  # frames per second when the rate is fixed
    time_channel: str | None = None  # channel holding seconds since the previous frame
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-able: source, name, skeleton...

    def __post_init__(self):
        frames = np.asarray(self.frames, dtype=np.float32)
        if frames.ndim != 2 or frames.shape[1] != len(self.channels):
            raise ValueError(f"frames {frames.shape} do not match channels {self.channels}")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "channels", tuple(self.channels))

    def __len__(self) -> int:
        return self.frames.shape[0]

    def channel(self, name: str) -> np.ndarray:
        """One channel as a (T,) view."""
        return self.frames[:, self.channels.index(name)]

    def with_frames(self, frames: np.ndarray, **changes) -> "Clip":
        """A copy holding other frames (same channels unless given)."""
        return replace(self, frames=np.array(frames, dtype=np.float32), **changes)

    def slice(self, start: int, stop: int | None = None) -> "Clip":
        return self.with_frames(self.frames[start:stop])

    @property
    def duration(self) -> float | None:
        """Length in seconds, when the clip's timing is known."""
        if self.time_channel is not None:
            return float(self.channel(self.time_channel).sum())
        if self.fps:
            return len(self) / self.fps
        return None

    def is_finite(self) -> bool:
        return bool(np.isfinite(self.frames).all())
