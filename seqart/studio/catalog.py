"""The models a studio offers: every shipped model and the run or model folders given with --models.

Only those paths are ever read: a browser names a model by the name listed here, never by a
path. A folder given on the command line is a run or model folder itself, or a folder whose
immediate subfolders are. A model that fails to load is listed with its error, and asking for
it gives that error as a message: the studio keeps running.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from seqart import checkpoint
from seqart.errors import SeqartError

SHIPPED = Path(__file__).resolve().parent.parent / "models"


@dataclass
class Entry:
    name: str  # what the browser asks for
    path: Path  # the folder seqart.load reads
    source: str  # "shipped" or the folder given on the command line
    modality: str = ""  # "strokes", "notes", "poses"... from model.json, "" when unreadable
    error: str = ""  # why it cannot be used, if it cannot


def _is_run(path: Path) -> bool:
    return any(checkpoint.find(p) is not None for p in (path, path / "best", path / "latest"))


def _modality(path: Path) -> str:
    """The codec's modality named in the checkpoint's model.json (read as JSON, never executed)."""
    from seqart import limits
    from seqart.modelio import resolve

    folder = resolve(path)
    meta = limits.parse_json(limits.read_bytes(folder / "model.json"), folder / "model.json")
    modality = meta.get("codec", {}).get("modality") if isinstance(meta, dict) else None
    if not isinstance(modality, str):
        raise SeqartError(f"{folder / 'model.json'}: no codec modality")
    return modality


class Catalog:
    def __init__(self, folders: list[Path] = (), shipped: bool = True):
        found: list[tuple[Path, str]] = []
        if shipped and SHIPPED.is_dir():
            found += [(p, "shipped") for p in sorted(SHIPPED.iterdir()) if checkpoint.find(p) is not None]
        for folder in folders:
            folder = Path(folder).expanduser()
            if not folder.is_dir():
                raise SeqartError(f"--models {folder}: not a folder")
            runs = [folder] if _is_run(folder) else sorted(p for p in folder.iterdir() if p.is_dir() and _is_run(p))
            if not runs:
                raise SeqartError(f"--models {folder}: no run or model folder here (model.json and model.safetensors)")
            found += [(p, str(folder)) for p in runs]
        self.entries: dict[str, Entry] = {}
        for path, source in found:
            name = path.name
            while name in self.entries:  # two runs of one name from different folders
                name += "'"
            self.entries[name] = self._entry(name, path, source)
        self._models: dict[str, object] = {}
        # One lock per model: two tabs asking for one model load it once, while a slow load (a big
        # model, a slow disk) never holds up a tab that asks for another, or for one already loaded.
        self._locks = {name: threading.Lock() for name in self.entries}

    @staticmethod
    def _entry(name: str, path: Path, source: str) -> Entry:
        try:
            return Entry(name, path, source, _modality(path))
        except SeqartError as e:
            return Entry(name, path, source, error=str(e))

    def listing(self) -> list[dict]:
        """What the model picker shows: name, modality, source and any error."""
        return [{"name": e.name, "modality": e.modality, "source": e.source, "error": e.error}
                for e in self.entries.values()]

    def load(self, name) -> "seqart.Model":  # noqa: F821
        """The loaded model of that name (kept after the first load); SeqartError if unknown or broken."""
        import seqart

        if not isinstance(name, str) or name not in self.entries:
            raise SeqartError(f"model {json.dumps(name)[:80]}: not one of this studio's models")
        entry = self.entries[name]
        if entry.error:
            raise SeqartError(f"model {name}: {entry.error}")
        if name in self._models:
            return self._models[name]
        with self._locks[name]:
            if name not in self._models:
                try:
                    self._models[name] = seqart.load(entry.path)
                except SeqartError as e:
                    entry.error = str(e)
                    raise SeqartError(f"model {name}: {e}") from None
            return self._models[name]
