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
from seqart.config import check_ranges, parse_value, set_setting
from seqart.errors import SeqartError
from seqart.limits import read_toml

DEFAULTS: dict[str, dict] = {
    "piece": {
        "title": "",
        "model": "",  # run folder, model folder or shipped model name
        "duration": 0.0,  # seconds; 0 = until Ctrl-C or --duration
        "seed": -1,  # -1: a new random performance each time
        "temperature": 0.7,
        "bias": 0.0,
        "on_end": "reset",  # when the model ends a sequence: "reset" (start another) or "stop"
        "gap_beats": 1.0,  # rest between sequences
        "prime": "",  # a file to prime with
        "prime_seconds": 0.0,  # its first seconds (0 = all)
        "lookahead": 0.15,  # seconds generated ahead of the clock
        "realtime": True,  # real-time thread priority where the system allows it
        "status_every": 1.0,  # seconds between status lines
    },
    "clock": {
        "source": "internal",  # internal | midi (follow [listen] port) | link (Ableton Link, aalink)
        "tempo": 120.0,  # BPM
        "ref_bpm": 0.0,  # tempo at which the model's seconds are played as written; 0 = codec's or tempo
        "beats_per_bar": 4,
    },
    "render": {
        "prefix": "/seqart",  # OSC address prefix
        "scale": 1.0,  # strokes: model units -> machine units
        "origin": [0.0, 0.0],  # strokes: where each drawing starts
        "line_step": [0.0, 0.0],  # strokes: added to the origin after each drawing (handwriting: the next line)
        "per_joint": False,  # poses: also one message per joint
        "pose": "features",  # poses: features (model channels) | bvh (BVH channel row) | positions (joints x y z)
        "root_motion": True,  # poses: false keeps the root above the origin (bvh and positions)
        "midi_channel": 1,  # notes: 1..16
    },
    "osc": {
        "target": "",  # HOST:PORT; "" = no OSC output
        "protocol": "udp",  # udp | tcp
        "mode": "bundle",  # bundle (timetagged, sent ahead) | message (plain, sent at the deadline)
        "ahead_ms": 25.0,  # how early bundles leave (> 10 ms for liblo, > one block for scsynth)
        "latency_ms": 0.0,  # added to every deadline of this output
        "framing": "length",  # tcp only: length (OSC 1.0) | slip (OSC 1.1)
    },
    "midi": {
        "port": "",  # NAME, virtual:NAME or tcp:HOST:PORT; "" = no MIDI output
        "api": "auto",  # auto | alsa | jack
        "latency_ms": 0.0,
    },
    "control": {
        "osc_port": 0,  # UDP port for control messages; 0 = none
        "host": "127.0.0.1",  # another address only when you mean it (anyone there can steer)
    },
    "listen": {
        "port": "",  # MIDI input: NAME, virtual:NAME or tcp:HOST:PORT; "" = none
        "api": "auto",
        "respond": False,  # call and response
        "silence_beats": 2.0,  # answer after this much silence
        "answer_beats": 0.0,  # answer this long; 0 = as long as the call
    },
}


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
        check_ranges(cfg, RANGES, str(path))
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
        check_ranges(cfg, RANGES, "--set")  # the file's values passed above, so an override is to blame
    return cfg


# (section, key) -> (lowest, highest, whether the lowest itself is allowed), from the one spec
RANGES = spec.ranges(spec.PIECE)


def resolve_path(cfg: dict, text: str) -> Path:
    """A path from a piece: beside the piece file if it exists there, else as given."""
    p = Path(text).expanduser()
    if not p.is_absolute() and (cfg["_dir"] / p).exists():
        return cfg["_dir"] / p
    return p
