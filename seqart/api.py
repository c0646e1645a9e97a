"""The public Python API, for notebooks and scripts: the CLI is a thin layer over the same calls.

    import seqart
    sheep = seqart.load("sheep")                       # a shipped name, a run folder or a model folder
    drawings = sheep.sample(4, temperature=0.5, seed=1)
    seqart.save(drawings, "sheep.svg")                 # or a stream: seqart.save(d, buf, format="svg")
    tune = seqart.load("nottingham").sample(seconds=30, scale="D:major")
    clips = seqart.read("my_drawings/")                # any file or folder seqart reads, as Clips
    s = sheep.sampler(temperature=0.3, seed=2)          # stepwise: s.step() -> next frame or None

Everything goes through the one `Sampler` that file export, the live engine and the studio use.
"""

from __future__ import annotations

from pathlib import Path

from seqart import family
from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.generate import check_generation, generate_clips, model_name
from seqart.sample import Sampler

_DEFAULT = object()


class Model:
    """A trained model, its codec (the modality's knowledge and normalisation) and its settings."""

    def __init__(self, model, codec, meta: dict, name: str):
        self.model, self.codec, self.meta, self.name = model, codec, meta, name

    @property
    def modality(self) -> str:
        """"strokes", "notes" or "poses": what the model generates."""
        return self.codec.modality

    def __repr__(self) -> str:
        what = family.of_model(self.model).describe(self.model)  # "LSTM 512 x 1, 20 mixtures", "DRAW T 64, ..."
        return f"<seqart.Model {self.name!r}: {self.modality}, {what}, step {self.meta.get('step', '?')}>"

    def sample(self, n: int = 1, *, temperature: float = 1.0, seed: int | None = 0, prime: Clip | str | Path | None = None,
               prime_seconds: float | None = None, frames: int | None = None, seconds: float | None = None,
               bias: float = 0.0, greedy: bool = False, **options) -> list[Clip]:
        """n new clips. prime: a Clip or a file whose first sequence each clip continues (kept at its
        start); frames / seconds: stop each clip there (default: its end token, or the training window);
        options: the modality's generation options (notes: scale="D:major", tempo=110...)."""
        check_generation("python", n=n, temperature=temperature, frames=frames, seconds=seconds,
                         prime_seconds=prime_seconds, bias=bias, seed=seed)
        primer = self._primer(prime, prime_seconds)
        return generate_clips(self.model, self.codec, self.meta, n, temperature=temperature, seed=seed,
                              primer=primer, prime_seconds=prime_seconds, max_frames=frames, seconds=seconds, bias=bias, greedy=greedy,
                              options=options, name=self.name)

    def sampler(self, *, temperature: float = 1.0, bias: float = 0.0, greedy: bool = False,
                seed: int | None = None, max_frames=_DEFAULT, **options) -> Sampler:
        """The stepwise generator: `.step()` gives the next frame (in the clip's channels) or None at
        the end; `.prime(clip)`, `.reset()`, `.set_temperature(t)`. max_frames: None for no limit."""
        check_generation("python", seed=seed)  # the sampler checks its temperature and bias itself
        fam = family.of_model(self.model)  # an MDN-LSTM's Sampler or DRAW's CanvasSampler
        limit = fam.frame_limit(self.meta, self.model) if max_frames is _DEFAULT else max_frames
        s = fam.sampler(self.model, self.codec, temperature=temperature, bias=bias, greedy=greedy, seed=seed,
                        max_frames=limit)
        self.codec.configure_sampler(s, options)
        return s

    def _primer(self, prime, seconds: float | None) -> Clip | Path | None:
        """A clip, cut to its first `seconds`; a file is passed on as a path (it is read once the
        generation options are applied, since some of them shape the primer)."""
        if prime is None or not isinstance(prime, Clip):
            return None if prime is None else Path(prime)
        if prime.modality != self.modality:
            raise SeqartError(f"prime: a {prime.modality} clip cannot prime a {self.modality} model")
        return prime if seconds is None else prime.slice(0, max(1, self.codec.frames_in(prime, seconds)))


def load(name_or_path: str | Path, device: str = "cpu") -> Model:
    """A shipped model by name ("sheep", "nottingham", "jsb", "salsa"), a run folder or a model folder."""
    from seqart.modelio import load_model

    model, codec, meta = load_model(Path(name_or_path), device)
    return Model(model, codec, meta, model_name(name_or_path))


def read(path: str | Path, *, split: str | None = None, **options) -> list[Clip]:
    """Every clip in a file or folder seqart reads (the file type picks the modality); split:
    only "train", "valid" or "test" (data that ships a split keeps it, else split by file)."""
    from seqart.codecs import codec_for_path
    from seqart.splits import split_clips

    codec = codec_for_path(Path(path), options or None)
    splits = codec.read(Path(path))
    if split is None:
        return [c for clips in splits.values() for c in clips]
    splits = split_clips(splits, codec)  # the codec says whether clips may be cut in time
    if split not in splits:
        raise SeqartError(f"split={split!r}: expected one of {', '.join(sorted(splits))}")
    return list(splits[split])


def save(clips: Clip | list[Clip], dest, format: str | None = None, **options) -> Path | None:
    """Write clips to a path (format from its extension) or an open stream (give format=).
    Options reach the writer (page="a3", columns=4, tempo=100...). Returns the path, or None."""
    from seqart.export import export_clips

    return export_clips(clips, dest, format, **options)


def perform(piece: str | Path, *, duration: float | None = None, osc: str | None = None,
            midi: str | None = None, sets: list[str] = (), status=print) -> dict:
    """Play a piece (pieces/*.toml or your own) live until `duration` seconds, Ctrl-C or SIGTERM;
    returns its figures (frames, messages sent, late events...). status: where progress lines go."""
    from seqart.live.perform import perform as run_piece

    return run_piece(Path(piece), duration=duration, osc=osc, midi=midi, sets=list(sets), status=status)
