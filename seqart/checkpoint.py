"""Checkpoints: safetensors for tensors, JSON for everything else, written atomically.

A checkpoint is a folder:

    model.safetensors   weights
    model.json          {"model": ModelConfig, "codec": codec config + normalisation,
                         "train": TrainConfig, "step": int, "metrics": {...}}
    trainer.safetensors optimiser moments and torch RNG (only in a run's `latest/`)
    trainer.json        optimiser scalars, data-order RNG state

It is written to a temporary sibling folder and renamed into place, so a
kill at any moment leaves either the old or the new checkpoint, never half;
the temporary folder such a kill leaves is removed when training starts again
(and at the next save).
Loading reads no pickle: nothing in the files can run code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seqart.errors import SeqartError


def ensure_dir(path: Path) -> Path:
    """Create a folder (and its parents) or fail in one line naming it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SeqartError(f"{path}: cannot create this folder ({e.strerror or type(e).__name__})") from None
    return path


def write_json_atomic(path: Path, obj) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def save(folder: Path, tensors: dict[str, dict[str, torch.Tensor]], meta: dict[str, dict]) -> None:
    """Write {name: tensors} as NAME.safetensors and {name: obj} as NAME.json into folder, atomically."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    clean_temporary(folder)  # a run killed mid-save left one; only one process writes a run folder
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp"))
    for name, ts in tensors.items():
        save_file({k: v.detach().cpu().contiguous() for k, v in ts.items()}, str(tmp / f"{name}.safetensors"))
    for name, obj in meta.items():
        (tmp / f"{name}.json").write_text(json.dumps(obj, indent=1))
    old = folder.with_name(f".{folder.name}.old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def find(folder: Path) -> Path | None:
    """The checkpoint folder itself, or the one left by a kill between the two renames."""
    folder = Path(folder)
    if (folder / "model.json").exists():
        return folder
    old = folder.with_name(f".{folder.name}.old")
    return old if (old / "model.json").exists() else None


def load(folder: Path, name: str) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, json) of NAME in a checkpoint folder; SeqartError if missing, corrupt or not regular files."""
    from seqart import limits

    folder = Path(folder)
    jpath, wpath = folder / f"{name}.json", folder / f"{name}.safetensors"
    for p in (jpath, wpath):
        if not p.exists():
            raise SeqartError(f"{folder}: checkpoint is missing {p.name}")
    meta = limits.parse_json(limits.read_bytes(jpath), jpath)
    if not isinstance(meta, dict):
        raise SeqartError(f"{jpath}: expected a JSON object")
    limits.check_regular(wpath)
    try:
        tensors = load_file(str(wpath))
    except (SafetensorError, OSError, ValueError, MemoryError) as e:
        raise SeqartError(f"{wpath}: unreadable weights ({type(e).__name__}: {str(e)[:160]})") from None
    return tensors, meta


def clean_temporary(folder: Path) -> None:
    """Remove what a kill during `save` left beside `folder`: `.NAME.tmp*` folders (never renamed into place)."""
    folder = Path(folder)
    for tmp in folder.parent.glob(f".{folder.name}.tmp*"):
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
