"""`seqart demo`: art out of the box from the models shipped in `seqart/models/`."""

from __future__ import annotations

import json
from pathlib import Path

from seqart.errors import SeqartError

MODELS = Path(__file__).parent / "models"


def shipped_models() -> list[Path]:
    return sorted(p for p in MODELS.iterdir() if (p / "model.json").exists()) if MODELS.exists() else []


def run_demo(out: Path, seed: int = 0) -> list[Path]:
    """For each shipped model, generate with its demo settings and write its demo outputs."""
    from seqart.checkpoint import ensure_dir
    from seqart.export import export_clips
    from seqart.generate import sample_clips

    models = shipped_models()
    if not models:
        raise SeqartError(f"{MODELS}: no shipped models found (is the package installed completely?)")
    out = ensure_dir(Path(out))
    written = []
    for folder in models:
        spec = json.loads((folder / "model.json").read_text()).get("demo", {})
        clips = sample_clips(folder, n=spec.get("n", 1), temperature=spec.get("temperature", 1.0), seed=seed,
                             seconds=spec.get("seconds"), max_frames=spec.get("frames"),
                             bias=spec.get("bias", 0.0), options=spec.get("options"))
        for ext in spec.get("outputs", []):
            path = out / f"{folder.name}{ext}"
            export_clips(clips, path)
            written.append(path)
    return written
