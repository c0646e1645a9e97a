"""Per-modality codecs, found by name or by the files they read.

Each codec package declares its settings in its settings.py with the one spec's Setting
(seqart.spec): OPTIONS, its [codec] options (`--set codec.KEY=...`, checked whenever the codec is
made, from settings or a checkpoint's JSON), and where it has them GENERATION, its generation
options (`seqart sample --set KEY=...`, a piece's [options], render.options). docs/settings.md
lists them and a test checks they match each codec's DEFAULTS. "learnt" marks a setting fitted on
the training data and saved with the model.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from seqart.codecs.base import Codec, Norm
from seqart.errors import SeqartError

_REGISTRY: dict[str, type[Codec]] = {}
_loaded = False


def register(cls: type[Codec]) -> type[Codec]:
    _REGISTRY[cls.modality] = cls
    return cls


def _load_all() -> None:
    # Each package in this folder is one modality's codec and registers itself when imported, so a
    # new modality is a new folder here and nothing else. Strokes first: others build on it.
    global _loaded
    if _loaded:
        return
    import seqart.codecs.strokes  # noqa: F401
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def codec_class(modality: str) -> type[Codec]:
    _load_all()
    if modality not in _REGISTRY:
        raise SeqartError(f"unknown modality {modality!r} (known: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[modality]


def codec_from_config(cfg: dict) -> Codec:
    cls = codec_class(cfg["modality"])
    return cls(cls.legacy_options | (cfg.get("options") or {}), Norm.from_json(cfg["norm"]))


def codec_for_path(path: Path, options: dict | None = None) -> Codec:
    """The codec whose file types a path (file or folder) holds."""
    _load_all()
    path = Path(path)
    if not path.exists():
        raise SeqartError(f"{path}: no such file or folder")
    if not path.is_dir():
        from seqart.limits import check_regular

        check_regular(path)  # a FIFO, a device or a huge file is named as such, not as a file type
    for cls in _REGISTRY.values():  # a codec that recognises a whole folder (handwriting: drawings + transcripts)
        if cls.claims(path):
            return cls(options)
    files = [path] if not path.is_dir() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        for cls in _REGISTRY.values():
            if f.name.lower().endswith(cls.suffixes):  # endings, so MNIST's "...-idx3-ubyte" is one too
                return cls(options)
    raise SeqartError(f"{path}: no readable file type (expected one of: {', '.join(all_suffixes())})")


def all_suffixes() -> list[str]:
    _load_all()
    return sorted({s for cls in _REGISTRY.values() for s in cls.suffixes})


def known_modalities() -> list[str]:
    """Every registered codec's modality, sorted."""
    _load_all()
    return sorted(_REGISTRY)
