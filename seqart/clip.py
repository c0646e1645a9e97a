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

    # --- notebooks -----------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter shows a clip as a picture: a drawing as SVG, a piano roll as PNG, a dance as GIF
        (the first of these its modality's writers make), on a page just big enough."""
        import inspect
        import io

        from seqart.export import known_extensions, writer_for

        for ext, mime in ((".svg", "image/svg+xml"), (".png", "image/png"), (".gif", "image/gif")):
            if ext in known_extensions(self.modality):
                fn = writer_for(self.modality, "clip", ext)
                buf = io.StringIO() if ext == ".svg" else io.BytesIO()
                fn([self], buf, **({"page": "auto"} if "page" in inspect.signature(fn).parameters else {}))
                return {mime: buf.getvalue(), "text/plain": repr(self)}
        return {"text/plain": repr(self)}

    def __repr__(self) -> str:
        secs = self.duration
        timing = f", {secs:.2f} s" if secs is not None else ""
        return f"<Clip {self.modality}: {len(self)} frames x {len(self.channels)} channels{timing}>"
