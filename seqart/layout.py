"""The channel layout a codec declares, from which the model builds its head.

A frame in model space is the clip's continuous channels (normalised) followed
by a one-hot block for every categorical channel. The head predicts, per frame:

* a `Mixture` block: M Gaussians over some continuous channels; `kind` is
  "bivariate" (two channels, with correlation, as for pen offsets) or
  "diagonal" (any number of channels, independent within a component);
* a `Categorical` block: K logits for one channel that holds a class index.

`end` names the categorical class that ends a sequence (strokes: pen == 2),
or is None when sequences simply stop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Mixture:
    channels: tuple[str, ...]
    kind: str = "diagonal"  # "bivariate" | "diagonal"

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        if self.kind not in ("bivariate", "diagonal"):
            raise ValueError(f"mixture kind must be bivariate or diagonal, not {self.kind!r}")
        if self.kind == "bivariate" and len(self.channels) != 2:
            raise ValueError("a bivariate mixture needs exactly two channels")

    @property
    def name(self) -> str:
        """The block's name in loss reports: "dx+dy", or a count when the block is wide."""
        if len(self.channels) <= 4:
            return "+".join(self.channels)
        return f"{self.channels[0]}..{self.channels[-1]} ({len(self.channels)} channels)"

    def n_params(self, m: int) -> int:
        d = len(self.channels)
        return m * 6 if self.kind == "bivariate" else m * (1 + 2 * d)


@dataclass(frozen=True)
class Categorical:
    channel: str
    classes: int


@dataclass(frozen=True)
class Layout:
    channels: tuple[str, ...]  # clip channel order
    mixtures: tuple[Mixture, ...] = ()
    categoricals: tuple[Categorical, ...] = ()
    end: tuple[str, int] | None = None  # (categorical channel, class) that ends a sequence
    extra: dict = field(default_factory=dict)  # what a codec adds for the model (handwriting: "alphabet")

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "mixtures", tuple(self.mixtures))
        object.__setattr__(self, "categoricals", tuple(self.categoricals))
        if self.end is not None:
            object.__setattr__(self, "end", (str(self.end[0]), int(self.end[1])))
        named = [c for m in self.mixtures for c in m.channels] + [c.channel for c in self.categoricals]
        if sorted(named) != sorted(self.channels):
            raise ValueError(f"layout blocks {named} must cover channels {self.channels} once each")

    @property
    def continuous(self) -> tuple[str, ...]:
        """Continuous channels in model order (mixture blocks concatenated)."""
        return tuple(c for m in self.mixtures for c in m.channels)

    @property
    def end_column(self) -> int | None:
        """Column of the end token's channel in a model-space frame (None without an end token)."""
        if self.end is None:
            return None
        return len(self.continuous) + [c.channel for c in self.categoricals].index(self.end[0])

    @property
    def feature_dim(self) -> int:
        """Width of a model-space frame: continuous values + one-hots."""
        return len(self.continuous) + sum(c.classes for c in self.categoricals)

    def head_dim(self, m: int) -> int:
        return sum(b.n_params(m) for b in self.mixtures) + sum(c.classes for c in self.categoricals)

    def to_json(self) -> dict:
        return {
            "channels": list(self.channels),
            "mixtures": [asdict(m) | {"channels": list(m.channels)} for m in self.mixtures],
            "categoricals": [asdict(c) for c in self.categoricals],
            "end": list(self.end) if self.end else None,
        } | ({"extra": dict(self.extra)} if self.extra else {})

    @classmethod
    def from_json(cls, d: dict) -> "Layout":
        return cls(
            channels=tuple(d["channels"]),
            mixtures=tuple(Mixture(tuple(m["channels"]), m["kind"]) for m in d["mixtures"]),
            categoricals=tuple(Categorical(c["channel"], int(c["classes"])) for c in d["categoricals"]),
            end=tuple(d["end"]) if d.get("end") else None,
            extra=dict(d.get("extra") or {}),
        )
