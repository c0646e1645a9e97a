"""Render pieces: a TOML file that turns a model into files (MIDI, piano roll, audio, SVG...).

A render piece has one `[render]` table (keys and defaults in `DEFAULTS`) and an
optional `[render.options]` table of the codec's generation options; see
`pieces/render_melody.toml`. Unknown keys fail with one line, like run configs.
Live pieces (OSC/MIDI streams) are `seqart perform`'s, in seqart.live.piece.
"""

from __future__ import annotations

from pathlib import Path

from seqart.errors import SeqartError
from seqart.limits import read_toml

DEFAULTS = {"model": "", "out": [], "seconds": 0.0, "notes": 0, "n": 1, "temperature": 1.0, "seed": 0,
            "prime": "", "prime_seconds": 0.0, "options": {}}


def load_render_piece(path: Path) -> dict:
    """The [render] table with defaults filled in; SeqartError naming the file on any problem."""
    path = Path(path)
    table = read_toml(path).get("render")  # a regular file; one line for a folder, a FIFO or deep nesting
    if not isinstance(table, dict):
        raise SeqartError(f"{path}: a render piece needs a [render] table")
    unknown = sorted(set(table) - set(DEFAULTS))
    if unknown:
        raise SeqartError(f"{path}: unknown render setting(s) {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
    for key, value in table.items():
        if not _same_type(DEFAULTS[key], value, key):
            want = "a list of file names" if key == "out" else type(DEFAULTS[key]).__name__
            raise SeqartError(f"{path}: render.{key} must be {want}, not {value!r}")
    spec = DEFAULTS | table
    if not spec["model"] or not spec["out"]:
        raise SeqartError(f"{path}: [render] needs model and out")
    if isinstance(spec["out"], str):
        spec["out"] = [spec["out"]]
    for key, lo in (("n", 1), ("seconds", 0), ("notes", 0), ("temperature", 0), ("prime_seconds", 0)):
        if not spec[key] >= lo or spec[key] != spec[key]:
            raise SeqartError(f"{path}: render.{key} must be >= {lo}, not {spec[key]}")
    return spec


def _same_type(default, value, key: str) -> bool:
    if key == "out":
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if isinstance(value, bool) != isinstance(default, bool):
        return False
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def render_piece(path: Path, out_dir: Path | None = None) -> list[Path]:
    """Generate once with the piece's settings and write every `out` file; returns their paths."""
    from seqart.checkpoint import ensure_dir
    from seqart.export import export_clips, writer_for
    from seqart.generate import sample_clips
    from seqart.modelio import resolve

    spec = load_render_piece(path)
    try:
        resolve(Path(spec["model"]))
    except SeqartError as e:
        raise SeqartError(f"{path}: render.model: {e}") from None
    clips = sample_clips(Path(spec["model"]), n=int(spec["n"]), temperature=float(spec["temperature"]),
                         seed=int(spec["seed"]) if spec["seed"] >= 0 else None,  # -1: new each time
                         prime=Path(spec["prime"]) if spec["prime"] else None,
                         prime_seconds=float(spec["prime_seconds"]) or None,
                         max_frames=int(spec["notes"]) or None, seconds=float(spec["seconds"]) or None,
                         options=dict(spec["options"]))
    dests = [Path(out_dir or ".") / name for name in spec["out"]]
    for dest in dests:  # every output must be writable before the first is written
        try:
            writer_for(clips[0].modality, dest)
        except SeqartError as e:
            raise SeqartError(f"{path}: render.out: {e}") from None
    ensure_dir(Path(out_dir or "."))
    for dest in dests:
        export_clips(clips, dest)
    return dests
