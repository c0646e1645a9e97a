"""Piece files (`pieces/*.toml`): every setting with its default, checked like run configs.

A key that is not in `DEFAULTS` fails with one line naming it, so a typo never
goes unnoticed; a value must keep its default's type. `--set KEY=VALUE`
overrides take dotted keys (`osc.target=127.0.0.1:57120`) or a bare key that
exists in exactly one section (`temperature=0.5`). A relative model, prime
or piece path is read from the piece file's folder, then from the working
directory; a bare name is a shipped model.
"""

from __future__ import annotations

import copy
from pathlib import Path

from seqart import spec
from seqart.config import parse_value, set_setting
from seqart.errors import SeqartError
from seqart.limits import read_toml

# {section: {key: default}}: every key of a piece, from the one spec (seqart.spec.PIECE), where each
# has its type, unit, range and meaning (docs/settings.md lists them)
DEFAULTS: dict[str, dict] = spec.defaults(spec.PIECE)


def load_piece(path: Path | None, sets: list[str] = ()) -> dict:
    """Defaults, then the piece file, then --set overrides; `cfg["_dir"]` is the piece's folder."""
    cfg = copy.deepcopy(DEFAULTS)
    cfg["options"] = {}  # generation options of the model's codec (notes: scale, tempo...)
    if path is not None:
        path = Path(path)
        data = read_toml(path)  # a regular file; one line for a folder, a FIFO or deep nesting
        for section, table in data.items():
            if section == "options" and isinstance(table, dict):  # the codec checks its own options
                cfg["options"] = dict(table)
                continue
            if section not in cfg or not isinstance(table, dict):
                raise SeqartError(f"{path}: unknown section [{section}] (known: {', '.join(cfg)})")
            for k, v in table.items():
                set_setting(cfg, section, k, v, str(path))
        spec.check(spec.PIECE, cfg, str(path))
    for item in sets:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise SeqartError(f"--set {item}: expected KEY=VALUE")
        section, dot, name = key.rpartition(".")
        if section == "options":
            cfg["options"][name] = parse_value(text.strip())
            continue
        if not dot:
            owners = [s for s, table in DEFAULTS.items() if key in table]
            if len(owners) != 1:
                raise SeqartError(f"--set {item}: give a section for {key!r}, e.g. piece.{key}" if owners
                                  else f"--set {item}: unknown setting {key!r}")
            section, name = owners[0], key
        if section not in cfg:
            raise SeqartError(f"--set {item}: unknown section {section!r} (known: {', '.join(cfg)})")
        set_setting(cfg, section, name, parse_value(text.strip()), f"--set {item}")
    for key in ("origin", "line_step"):
        xy = cfg["render"][key]
        if not (isinstance(xy, list) and len(xy) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= 1e6 for v in xy)):
            raise SeqartError(f"{path or '--set'}: render.{key} must be two finite numbers [x, y], not {xy!r}")
    cfg["_dir"] = Path(path).resolve().parent if path is not None else Path.cwd()
    if sets:
        spec.check(spec.PIECE, cfg, "--set")  # the file's values passed above, so an override is to blame
    return cfg


def resolve_path(cfg: dict, text: str) -> Path:
    """A path from a piece: beside the piece file if it exists there, else as given."""
    p = Path(text).expanduser()
    if not p.is_absolute() and (cfg["_dir"] / p).exists():
        return cfg["_dir"] / p
    return p
