"""How much any one input may hold, and reading files so that no input can hang or swamp a reader.

Every reader checks what it reads against these limits before the work grows with it, and
refuses more with one line naming the file, the limit and the environment variable that
raises it, e.g. `SEQART_MAX_NOTES=5000000 seqart train big.mid ...`. The defaults sit far
above real material (sketch-rnn drawings have ~100 points, a piano sonata ~20,000 notes, a
mocap skeleton ~100 joints) and far below what exhausts a laptop.

Files are read only when they are regular files (also behind symlinks): a FIFO would block
forever and /dev/zero never ends. The check happens on the opened descriptor, so a file
swapped for a FIFO between a check and the open cannot block either.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from seqart.errors import SeqartError


@dataclass(frozen=True)
class Limit:
    default: float
    unit: str
    what: str

    def env(self, name: str) -> str:
        return f"SEQART_MAX_{name.upper()}"


LIMITS = {
    "file_mb": Limit(512, "MiB", "size of one input file"),
    "midi_mb": Limit(16, "MiB", "size of one MIDI file"),
    "prime_mb": Limit(64, "MiB", "size of a file a live show primes with (/seqart/prime/file)"),
    "npz_mb": Limit(1024, "MiB", "decompressed size of the arrays in one .npz"),
    "points": Limit(1_000_000, "points", "points in one drawing"),
    "stroke_points": Limit(100_000, "points", "points in one stroke"),
    "file_points": Limit(20_000_000, "points", "points in all drawings of one file"),
    "coordinate": Limit(1e7, "units", "largest magnitude of a coordinate or offset in a drawing"),
    "notes": Limit(200_000, "notes", "notes in one MIDI file or piano roll (mido parses ~50,000 a second)"),
    "joints": Limit(1024, "joints", "joints in one BVH skeleton"),
    "frames": Limit(1_000_000, "frames", "frames in one BVH file"),
    "depth": Limit(64, "levels", "nesting depth of SVG elements and <use> references"),
    "svg_elements": Limit(200_000, "elements", "SVG elements, each <use> copy counted"),
    "memory_mb": Limit(8192, "MiB", "estimated memory of a model and its training batch, or of a generation's output"),
}


class Cancelled(SeqartError):
    """A read given up by whoever started it (a live load past its timeout: seqart.live.loader)."""


_cancel = threading.local()  # .event: the threading.Event that gives up this thread's reads


@contextmanager
def cancellable(event: threading.Event):
    """Within this block, the bounded reads of this thread raise Cancelled once `event` is set:
    a load given up on another thread stops at its next chunk instead of reading on."""
    old = getattr(_cancel, "event", None)
    _cancel.event = event
    try:
        yield
    finally:
        _cancel.event = old


def cancel_check(where="") -> None:
    """Raise Cancelled if this thread's work has been given up (called between chunks and stages)."""
    event = getattr(_cancel, "event", None)
    if event is not None and event.is_set():
        raise Cancelled(f"{where}: given up" if where else "given up")


def get(name: str) -> float:
    """The limit in force: its environment variable if set, else the default."""
    lim = LIMITS[name]
    text = os.environ.get(lim.env(name), "").strip()
    if not text:
        return lim.default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise SeqartError(f"{lim.env(name)}={text}: expected a positive number of {lim.unit}")
    return value


def check(name: str, value: float, where) -> None:
    """Refuse `value` above limit `name`: "WHERE VALUE UNIT: over the limit of N (what); raise it with ..."."""
    limit = get(name)
    if value > limit:
        lim = LIMITS[name]
        raise SeqartError(f"{where} {_num(value)} {lim.unit}: over the limit of {_num(limit)} {lim.unit} ({lim.what}); "
                          f"raise it with {lim.env(name)}=N")


def over(name: str, where: str) -> SeqartError:
    """The error for input found over limit `name` without a count: "WHERE the limit of N ..."."""
    lim = LIMITS[name]
    return SeqartError(f"{where} the limit of {_num(get(name))} {lim.unit} ({lim.what}); raise it with {lim.env(name)}=N")


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:.6g}"


def too_big(path, size: int, limit_name: str) -> None:
    check(limit_name, round(size / 2**20, 1), f"{path}: a file of")


def check_regular(path, limit_name: str = "file_mb") -> os.stat_result:
    """stat() a path that is to be read: it must exist, be a regular file and be within the size limit.

    Never blocks: stat() does not open, so a FIFO or a device is only looked at."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SeqartError(f"{path}: no such file") from None
    except OSError as e:
        raise SeqartError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from None
    _regular(path, st, limit_name)
    return st


def _regular(path, st: os.stat_result, limit_name: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise SeqartError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise SeqartError(f"{path}: is {kind}, not a regular file (only regular files are read)")
    too_big(path, st.st_size, limit_name)


def read_bytes(path, limit_name: str = "file_mb") -> bytes:
    """The whole file, if it is a regular file within the size limit; one-line errors otherwise.
    Read in chunks that stop at once when this thread's work is given up (`cancellable`)."""
    cancel_check(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise SeqartError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SeqartError(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise SeqartError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from None
    try:
        st = os.fstat(fd)
        _regular(path, st, limit_name)
    except BaseException:
        os.close(fd)
        raise
    limit = int(get(limit_name) * 2**20)
    with os.fdopen(fd, "rb") as f:
        try:
            data = _read_upto(f, min(st.st_size, limit) + 1, limit + 1, path)
        except OSError as e:
            raise SeqartError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from None
    if len(data) > limit:  # it grew since fstat
        too_big(path, len(data), limit_name)
    return data


def _read_upto(f, first: int, most: int, path="") -> bytes:
    """Up to `most` bytes: `first` at once (read(n) allocates n up front), then 1 MiB at a time; in a
    `cancellable` block, CHUNK at a time, checking between chunks whether the read was given up."""
    chunked = getattr(_cancel, "event", None) is not None
    parts, size, want = [], 0, min(first, CHUNK) if chunked else first
    while size < most:
        cancel_check(path)
        chunk = f.read(min(want, most - size))
        if not chunk:
            break
        parts.append(chunk)
        size, want = size + len(chunk), CHUNK if chunked else 2**20
    return b"".join(parts)  # one part (the usual case) is returned as it is, not copied


CHUNK = 4 * 2**20  # bytes a cancellable read takes at a time: a given-up load stops within one chunk


def read_text(path, encoding: str = "utf-8", limit_name: str = "file_mb") -> str:
    data = read_bytes(path, limit_name)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise SeqartError(f"{path}: not {encoding.upper()} text ({e.reason} at byte {e.start})") from None


def parse_json(text: str | bytes, where):
    """json.loads with one-line errors: bad JSON, nesting too deep for the parser, too large."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        at = f"column {e.colno}" if e.lineno == 1 else f"line {e.lineno} column {e.colno}"
        raise SeqartError(f"{where}: not valid JSON ({e.msg} at {at})") from None
    except UnicodeDecodeError as e:
        raise SeqartError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise SeqartError(f"{where}: JSON nested too deeply to read") from None
    except (ValueError, MemoryError) as e:  # e.g. an integer with more digits than Python converts
        raise SeqartError(f"{where}: JSON that cannot be read ({type(e).__name__}: {str(e)[:100]})") from None


def parse_toml(text: str, where) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SeqartError(f"{where}: not valid TOML ({e})") from None
    except RecursionError:
        raise SeqartError(f"{where}: TOML nested too deeply to read") from None
    except (ValueError, MemoryError) as e:
        raise SeqartError(f"{where}: TOML that cannot be read ({type(e).__name__}: {str(e)[:100]})") from None


def read_toml(path) -> dict:
    return parse_toml(read_text(Path(path)), path)

