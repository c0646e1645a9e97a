"""The codec contract: native files <-> Clips <-> model-space arrays.

Model space is a `(T, F)` float32 array: the layout's continuous channels,
normalised (`(x - shift) / scale`), followed by one column per categorical
channel holding its class index. The model one-hot encodes those columns
itself, so the arrays stay small and the targets need no decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.layout import Layout


@dataclass
class Norm:
    """Per continuous channel: model value = (clip value - shift) / scale."""

    shift: np.ndarray  # (n_cont,)
    scale: np.ndarray  # (n_cont,)

    def to_json(self) -> dict:
        return {"shift": self.shift.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> "Norm":
        """From a checkpoint's JSON: lists of finite numbers, scales above zero (else a one-line error)."""
        shift, scale = (_numbers(d.get(k), f"codec norm {k}") for k in ("shift", "scale"))
        if len(shift) != len(scale) or not (scale > 0).all():
            raise SeqartError("codec norm: shift and scale must be equally long, every scale > 0")
        return cls(shift, scale)

    @classmethod
    def identity(cls, n: int) -> "Norm":
        return cls(np.zeros(n, np.float32), np.ones(n, np.float32))


def _numbers(values, what: str) -> np.ndarray:
    """A JSON list of finite numbers as float32 (a JSON true is not a number)."""
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise SeqartError(f"{what}: expected a list of numbers")
    x = np.asarray(values, np.float64)
    if not (np.isfinite(x).all() and (np.abs(x) < 1e30).all()):
        raise SeqartError(f"{what}: holds NaN, infinite or absurd values")
    return x.astype(np.float32)


class Codec:
    """Base codec: everything the rest of seqart knows about one modality (docs/architecture.md).

    Subclasses set `modality` and `suffixes` and implement `layout` and `read`; the hooks below
    have defaults that hold for any layout, overridden where a modality knows better. Nothing
    outside `seqart.codecs` and `seqart.formats` asks which modality it holds.
    """

    modality: str = ""
    suffixes: tuple[str, ...] = ()
    family: str = "mdn"  # the kind of model this data trains (seqart.family)
    primable: bool = True  # whether a generator can continue a clip of this data (live primers)
    # Modules holding this modality's file writers; each registers its own with
    # `seqart.export.register_writer` when `seqart.export` first imports it.
    writer_modules: tuple[str, ...] = ()
    # Options about the data and its augmentation, not the model's space: a fine-tune
    # (`train.init`) takes these from the new run's settings, everything else from the initial model.
    training_options: tuple[str, ...] = ()
    # Options added after checkpoints were first written, with the value that reproduces what those
    # checkpoints did: a checkpoint that lacks one loads with this value, not the new default.
    legacy_options: dict = {}
    # Its [codec] options and its generation options (`seqart sample --set KEY=...`, a piece's
    # [options]), each a seqart.spec.Setting (type, unit, range, default, help; the codec's
    # settings.py): options are checked whenever a codec is made, from settings or from a checkpoint's
    # JSON, so NaN, a zero rate or a probability of 2 fail here; docs/settings.md lists both.
    settings: tuple = ()
    generation_settings: tuple = ()
    defaults: dict = {}  # every [codec] option with its default (the codec module's DEFAULTS)

    @classmethod
    def with_defaults(cls, options: dict | None) -> dict:
        """The codec's defaults updated by options; an option it does not know is a one-line error."""
        unknown = set(options or {}) - set(cls.defaults)
        if unknown:
            raise SeqartError(f"unknown {cls.modality} option(s): {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(cls.defaults)})")
        return cls.defaults | dict(options or {})

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        from seqart import spec

        self.options = dict(options or {})
        spec.check(self.settings, self.options, section="codec")
        self.norm = norm or Norm.identity(len(self.layout.continuous))

    @classmethod
    def claims(cls, path: Path) -> bool:
        """Whether this codec recognises a whole file or folder by more than its files' suffixes
        (handwriting: drawings with a transcript beside each); asked before any suffix."""
        return False

    # --- what subclasses provide -------------------------------------------------
    @property
    def layout(self) -> Layout:
        raise NotImplementedError

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels of a frame this codec's clips hold, in order: the layout's (DRAW's canvas,
        which has no mixture layout, names its window and every pixel)."""
        return self.layout.channels

    def read(self, path: Path) -> dict[str, list[Clip]]:
        """Read a file or folder into named splits ("train", "valid", "test" or "all")."""
        raise NotImplementedError

    def augment(self, clip: Clip, rng: np.random.Generator) -> Clip:
        """A randomly varied copy for training; the default is no change."""
        return clip

    def fit_data(self, clips: list[Clip]) -> None:
        """Fine-tuning: take in statistics of new training clips that leave the model's space alone
        (notes: the pitch range and tempo). The default has none."""

    def fit_norm(self, clips: list[Clip]) -> None:
        """Fit shift and scale on training clips (mean and std of each continuous channel).

        Codecs whose norm is a function of the mean and std of some values override the two hooks
        below, not this: then a prepared cache (seqart.shards) can fit it from running moments.
        """
        x = self.norm_values(clips)
        self.norm = self.norm_from_moments(x.mean(axis=0), x.std(axis=0))

    def norm_values(self, clips) -> np.ndarray:
        """(N, K) values whose per-column mean and std fit the norm; here the continuous channels."""
        return self._continuous(clips)

    def norm_from_moments(self, mean: np.ndarray, std: np.ndarray) -> Norm:
        """The norm from the (K,) mean and std of `norm_values` over all training clips."""
        return Norm(np.asarray(mean, np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32))

    # --- shared machinery ----------------------------------------------------------
    def _continuous(self, clips: list[Clip]) -> np.ndarray:
        idx = [self.layout.channels.index(c) for c in self.layout.continuous]
        mask_end = self._end_mask
        parts = [c.frames[~mask_end(c.frames)][:, idx] for c in clips]
        return np.concatenate(parts) if parts else np.zeros((0, len(idx)), np.float32)

    def _end_mask(self, frames: np.ndarray) -> np.ndarray:
        end = self.layout.end
        if end is None:
            return np.zeros(len(frames), bool)
        return frames[:, self.layout.channels.index(end[0])] == end[1]

    def to_model(self, clip: Clip) -> np.ndarray:
        """Clip -> (T, F) model-space array."""
        lay = self.layout
        order = [clip.channels.index(c) for c in lay.continuous]
        cats = [clip.channels.index(c.channel) for c in lay.categoricals]
        cont = (clip.frames[:, order] - self.norm.shift) / self.norm.scale
        return np.concatenate([cont, clip.frames[:, cats]], axis=1).astype(np.float32)

    def from_model(self, x: np.ndarray, **clip_fields) -> Clip:
        """(T, F) model-space array -> Clip in the layout's channel order."""
        lay = self.layout
        n = len(lay.continuous)
        cont = x[:, :n] * self.norm.scale + self.norm.shift
        by_name = dict(zip(lay.continuous, cont.T))
        by_name.update({c.channel: x[:, n + i] for i, c in enumerate(lay.categoricals)})
        frames = np.stack([by_name[c] for c in lay.channels], axis=1) if len(x) else np.zeros((0, len(lay.channels)))
        fields = {"modality": self.modality} | self.clip_defaults() | clip_fields
        return Clip(frames, lay.channels, **fields)

    def clip_defaults(self) -> dict:
        """Timing fields (fps / time_channel) for clips this codec makes."""
        return {}

    def config(self) -> dict:
        """Everything a checkpoint needs to rebuild this codec (JSON)."""
        return {"modality": self.modality, "options": self.options, "norm": self.norm.to_json()}

    # --- generation hooks (override where a modality needs more) -------------------------
    def prime_clip(self, path: Path, seconds: float | None = None) -> Clip:
        """The clip to prime with: the first clip in a file, cut to its first `seconds`."""
        splits = self.read(Path(path))
        clips = [c for s in splits.values() for c in s]
        if not clips:
            raise SeqartError(f"{path}: nothing to prime with")
        clip = clips[0]
        if seconds is not None:
            clip = clip.slice(0, max(1, self.frames_in(clip, seconds)))
        return clip

    def frames_in(self, clip: Clip, seconds: float) -> int:
        """How many leading frames of clip fall within `seconds`."""
        if clip.time_channel:
            return int(np.searchsorted(np.cumsum(clip.channel(clip.time_channel)), seconds, side="right"))
        return int(round(seconds * (clip.fps or 1.0)))

    def frame_seconds(self, frame: np.ndarray) -> float:
        """Seconds one frame (layout channel order) advances time."""
        d = self.clip_defaults()
        if d.get("time_channel"):
            return float(frame[self.layout.channels.index(d["time_channel"])])
        return 1.0 / float(d.get("fps") or 1.0)

    def configure_sampler(self, sampler, options: dict) -> None:
        """Apply modality-specific generation options (e.g. a scale for notes)."""
        if options:
            raise SeqartError(f"unknown {self.modality} generation option(s): {', '.join(sorted(options))}")

    def allowed_classes(self) -> dict[str, list[int]]:
        """Categorical channel -> the classes any sampler of this codec may draw (notes: the trained
        pitches); a channel not named allows all. None restricted by default."""
        return {}

    def allowed_after(self, prev: np.ndarray | None) -> dict[str, np.ndarray]:
        """Categorical channel -> a (K,) bool mask of the classes allowed after the model-space frame
        `prev` (None at the start); empty where nothing depends on the previous frame."""
        return {}

    def join(self, primer: Clip, generated: Clip) -> Clip:
        """The primer followed by its continuation (end frames of the primer dropped)."""
        body = primer.frames[~self._end_mask(primer.frames)]
        return generated.with_frames(np.concatenate([body, generated.frames]))

    def describe_data(self, path: Path, options: dict | None = None) -> list[str]:
        """Lines saying what this codec (or one made with `options`, a run's codec settings) takes from
        the data (notes: the track of each file); none by default."""
        return []

    # --- live and the studio ---------------------------------------------------------------
    def renderer(self, options: dict, prefix: str):
        """The live engine's renderer (`seqart.live.events.Renderer`) for this codec's frames.

        The default streams each frame as its float list at `<prefix>/frame`; `options` are the
        piece's `[render]` table.
        """
        from seqart.live.events import Renderer

        return Renderer(self, options, prefix)

    def view_options(self, offset_std_px: float) -> dict:
        """`renderer` options for showing this codec's frames on a page (the studio), where one
        standard deviation of the training data's offsets is `offset_std_px` pixels; none by default."""
        return {}

    def inside_marks(self, clip: Clip) -> dict[str, dict]:
        """What to add to the Inside views of `clip` (`seqart.studio.inside`), by view name: marks that
        the views draw over the model's prediction without knowing the modality, and class names.

        * over "density" (the next point over the plane of its mixture's two channels):
          "segments", (N, 4) x0, y0, x1, y1 lines in those channels' summed units;
        * over "classes CHANNEL" (that channel's class probabilities per frame): "spans", (T, 3)
          onset s, class, duration s, one per frame (a piano roll); "labels", a name per class.
        None by default.
        """
        return {}

    def phrase_clip(self, notes: np.ndarray) -> Clip:
        """A primer from played notes: (N, 4) pitch 0-127, velocity 1-127, start and duration in seconds,
        sorted by onset (`seqart.live.phrase`). ValueError where this modality cannot take a phrase."""
        raise ValueError(f"the model's channels {self.layout.channels} have no pitch: it cannot take a phrase")

    def drawing_clip(self, points: np.ndarray) -> Clip:
        """A primer from a drawing: (N, 3) absolute x, y, lifted (1 on a stroke's last point).
        ValueError where this modality cannot take a drawing."""
        raise ValueError(f"the model's channels {self.layout.channels} are not pen strokes: it cannot take a drawing")

    def baselines(self, train: list[Clip], valid: list[Clip]):
        """Simple models to score beside a trained one (`.score(clips) -> {name: {part: nats}}`),
        fitted on train and tuned on valid; None where the modality has none."""
        return None

    def check_clip(self, clip: Clip, source) -> None:
        if len(clip) == 0:
            raise SeqartError(f"{source}: empty sequence")
        if not clip.is_finite():
            raise SeqartError(f"{source}: contains NaN or infinite values")
