"""Render pieces: a TOML file that turns a model into files (MIDI, piano roll, audio, SVG...).

A render piece has one `[render]` table (keys and defaults in `DEFAULTS`) and an
optional `[render.options]` table of the codec's generation options; see
`pieces/render_melody.toml`. Unknown keys fail with one line, like run configs.
Live pieces (OSC/MIDI streams) are `seqart perform`'s, in seqart.live.piece.
"""

from __future__ import annotations

from pathlib import Path

from seqart import spec
from seqart.errors import SeqartError
from seqart.limits import read_toml

DEFAULTS = spec.defaults(spec.RENDER)["render"]  # every key with its type, range and meaning: seqart.spec.RENDER


def load_render_piece(path: Path) -> dict:
    """The [render] table with defaults filled in and checked against the spec; SeqartError naming
    the file on any problem."""
    path = Path(path)
    table = read_toml(path).get("render")  # a regular file; one line for a folder, a FIFO or deep nesting
    if not isinstance(table, dict):
        raise SeqartError(f"{path}: a render piece needs a [render] table")
    unknown = sorted(set(table) - set(DEFAULTS))
    if unknown:
        raise SeqartError(f"{path}: unknown render setting(s) {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
    if isinstance(table.get("out"), str):  # one file name for a list of one
        table["out"] = [table["out"]]
    spec.check(spec.RENDER, table, str(path), section="render")
    if not all(isinstance(v, str) for v in table.get("out", [])):
        raise SeqartError(f"{path}: render.out must be a list of file names, not {table['out']!r}")
    piece = DEFAULTS | table
    if not piece["model"] or not piece["out"]:
        raise SeqartError(f"{path}: [render] needs model and out")
    return piece


def render_piece(path: Path, out_dir: Path | None = None) -> list[Path]:
    """Generate once with the piece's settings and write every `out` file; returns their paths."""
    from seqart.checkpoint import ensure_dir
    from seqart.export import export_clips, writer_for
    from seqart.generate import sample_clips
    from seqart.modelio import resolve

    piece = load_render_piece(path)
    try:
        resolve(Path(piece["model"]))
    except SeqartError as e:
        raise SeqartError(f"{path}: render.model: {e}") from None
    clips = sample_clips(Path(piece["model"]), n=int(piece["n"]), temperature=float(piece["temperature"]),
                         seed=int(piece["seed"]) if piece["seed"] >= 0 else None,  # -1: new each time
                         prime=Path(piece["prime"]) if piece["prime"] else None,
                         prime_seconds=float(piece["prime_seconds"]) or None,
                         max_frames=int(piece["notes"]) or None, seconds=float(piece["seconds"]) or None,
                         options=dict(piece["options"]))
    dests = [Path(out_dir or ".") / name for name in piece["out"]]
    for dest in dests:  # every output must be writable before the first is written
        try:
            writer_for(clips[0].modality, dest)
        except SeqartError as e:
            raise SeqartError(f"{path}: render.out: {e}") from None
    ensure_dir(Path(out_dir or "."))
    for dest in dests:
        export_clips(clips, dest)
    return dests
