"""What may arrive over the studio's WebSocket, checked before anything acts on it.

A message is one JSON object of at most `MAX_MESSAGE` bytes: `{"cmd": NAME, ...}` with the
fields the command table below declares. Numbers must be finite (JSON's NaN and Infinity,
which Python's parser would take, are refused), quantities are checked against seqart.spec
(a temperature is [0, 10] here as everywhere), and lists of points or notes are bounded.
Anything else is answered with `{"type": "error", "message": ...}` naming what was wrong;
nothing a message holds ends the server (tests/test_studio_socket.py).
"""

from __future__ import annotations

import json
import math

import numpy as np

from seqart import spec
from seqart.errors import SeqartError

MAX_MESSAGE = 256 * 1024  # bytes of one message: a long drawing (~12,000 points at 0.01 px, as Draw sends) fits
MAX_SOCKET_MESSAGE = 4 * 1024 * 1024  # bytes the WebSocket layer reads at all; beyond it closes (1009)
MAX_PRIME_ROWS = 20_000  # points of a drawing or notes of a phrase sent as a primer
MAX_VALUE = 1e6  # largest magnitude of a coordinate, time or pitch in a primer


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number this studio takes")


def parse(text) -> dict:
    """One message -> its JSON object; SeqartError naming what is wrong."""
    if isinstance(text, bytes):
        raise SeqartError("binary messages are not taken: send JSON text")
    if len(text) > MAX_MESSAGE:  # characters >= bytes / 4; the byte count is checked next
        raise SeqartError(f"message of {len(text):,} characters: over the limit of {MAX_MESSAGE:,} bytes")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE:
        raise SeqartError(f"message over the limit of {MAX_MESSAGE:,} bytes")
    try:
        msg = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        raise SeqartError(f"not valid JSON ({e.msg} at column {e.colno})") from None
    except (ValueError, RecursionError) as e:
        raise SeqartError(f"JSON that cannot be taken ({str(e)[:120]})") from None
    if not isinstance(msg, dict):
        raise SeqartError("expected a JSON object {\"cmd\": ...}")
    cmd = msg.get("cmd")
    if cmd not in COMMANDS:
        raise SeqartError(f"unknown command {json.dumps(cmd)[:60]} (known: {', '.join(sorted(COMMANDS))})")
    extra = set(msg) - set(COMMANDS[cmd]) - {"cmd", "id"}
    if extra:
        raise SeqartError(f"{cmd}: unknown field(s) {', '.join(sorted(extra))[:120]}")
    if "id" in msg and not _is_int(msg["id"]):
        raise SeqartError(f"{cmd}: id must be an integer")
    missing = [f for f in REQUIRED.get(cmd, ()) if f not in msg]
    if missing:
        raise SeqartError(f"{cmd}: missing field(s) {', '.join(missing)}")
    for field, check in COMMANDS[cmd].items():
        if field in msg:
            msg[field] = check(msg[field], f"{cmd}: {field}")
    return msg


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**53


def _quantity(name: str):
    return lambda v, where: spec.quantity(name).check(v, where)


def _name(v, where: str) -> str:
    if not isinstance(v, str) or not 0 < len(v) <= 200:
        raise SeqartError(f"{where} must be a name")
    return v


def _rows(width: int):
    """A list of rows of `width` finite numbers -> (N, width) float64."""
    def check(v, where: str) -> np.ndarray:
        if not isinstance(v, list) or len(v) > MAX_PRIME_ROWS:
            raise SeqartError(f"{where} must be a list of at most {MAX_PRIME_ROWS:,} rows")
        for row in v:
            if not (isinstance(row, list) and len(row) == width and all(_finite(x) for x in row)):
                raise SeqartError(f"{where}: every row must hold {width} finite numbers within +-{MAX_VALUE:g}")
        return np.asarray(v, np.float64).reshape(-1, width)
    return check


def _finite(x) -> bool:
    # abs(x) <= MAX_VALUE before isfinite: a huge JSON integer would make math.isfinite raise OverflowError
    return isinstance(x, (int, float)) and not isinstance(x, bool) and abs(x) <= MAX_VALUE and math.isfinite(x)


def _span(v, where: str) -> tuple[int, int]:
    if not (isinstance(v, list) and len(v) == 2 and all(_is_int(x) and x >= 0 for x in v) and v[0] <= v[1]):
        raise SeqartError(f"{where} must be [first, last] frame indices")
    return int(v[0]), int(v[1])


def _threshold(v, where: str) -> float:
    if not _finite(v) or not -1.0 <= v <= 1.0:
        raise SeqartError(f"{where} must be a number in [-1, 1]")
    return float(v)


def _layer(v, where: str) -> int:
    if not _is_int(v) or not -64 <= v < 64:
        raise SeqartError(f"{where} must be a layer index (-1: the last)")
    return int(v)


def _state(v, where: str) -> str:
    if v not in ("h", "c"):
        raise SeqartError(f"{where} must be \"h\" (hidden) or \"c\" (cell)")
    return v


def _upload(v, where: str) -> str:
    if not isinstance(v, str) or not v.isalnum() or len(v) > 64:
        raise SeqartError(f"{where} must be an upload id")
    return v


def _pace(v, where: str) -> float:
    if not _finite(v) or not 0.0 <= v <= 100.0:
        raise SeqartError(f"{where} must be a number in [0, 100] (times real time; 0 = as fast as the model goes)")
    return float(v)


def _flag(v, where: str) -> bool:
    if not isinstance(v, bool):
        raise SeqartError(f"{where} must be true or false")
    return v


def _port(v, where: str) -> int:
    if not _is_int(v) or not 1 <= v <= 65535:
        raise SeqartError(f"{where} must be a UDP port 1..65535")
    return int(v)


def _address(v, where: str) -> str:
    if not isinstance(v, str) or not v.startswith("/") or len(v) > 100:
        raise SeqartError(f"{where} must be an OSC address")
    return v


def _args(v, where: str) -> list:
    ok = isinstance(v, list) and len(v) <= 4 and all(_finite(a) or (isinstance(a, str) and len(a) < 1000) for a in v)
    if not ok:
        raise SeqartError(f"{where} must be a list of at most 4 finite numbers or strings")
    return v


def _format(v, where: str) -> str:
    if v not in ("svg", "png", "gif", "mid", "bvh", "npz", "csv"):
        raise SeqartError(f"{where} must be a file type: svg, png, gif, mid, bvh, npz or csv")
    return v


# command -> {field: checker}. Primers: `drawing` rows (x, y, lifted) in canvas pixels, `phrase`
# rows (pitch, velocity, start s, duration s), `upload` an id from POST /upload (a file read by
# the CLI's strict readers). Frames and seconds bound a continuation of a streaming model; pace
# plays it at that many times the model's own time (a drawing's rate, a tune's tempo), 0 unpaced;
# echo sends the primer's own events first (an uploaded file the page has not seen).
PRIME = {"drawing": _rows(3), "phrase": _rows(4), "upload": _upload}
COMMANDS: dict[str, dict] = {
    "models": {},
    "continue": {"model": _name, "temperature": _quantity("temperature"), "seed": _quantity("seed"),
                 "frames": _quantity("frames"), "seconds": _quantity("seconds"), "pace": _pace, "echo": _flag, **PRIME},
    "temperature": {"value": _quantity("temperature")},
    "stop": {},
    "export": {"model": _name, "format": _format, **PRIME},
    "inside": {"model": _name, **PRIME},
    "monitor": {"control": _port},
    "unmonitor": {},
    "steer": {"address": _address, "args": _args},
    "select": {"span": _span, "threshold": _threshold, "layer": _layer, "state": _state},
}
REQUIRED = {"continue": ("model",), "export": ("model", "format"), "temperature": ("value",), "inside": ("model",), "select": ("span", "threshold"),
            "monitor": ("control",), "steer": ("address",)}
