"""OSC control server: change a running performance from another program.

Binds 127.0.0.1 unless the piece asks for another address (`[control] host`).
Every message is checked against the table below (address, argument types,
ranges); anything else is dropped and reported in one status line. Packets
that are not OSC at all are dropped the same way. Reports are limited to
`MAX_REPORTS` a second so a flood cannot drown the status output.

    /seqart/temperature  f         0..10 (seqart.spec: the same range everywhere)
    /seqart/tempo        f         4..999 BPM
    /seqart/start, /seqart/stop, /seqart/reset, /seqart/panic
    /seqart/prime/file   s [f]     a file the model's codec reads [first f seconds]
    /seqart/prime/frames f...      frames in the model's channel order, flattened
    /seqart/prime/phrase f...      notes as (pitch velocity start duration) groups, seconds
    /seqart/prime/drawing f...     strokes as (x y lifted) groups, absolute coordinates
    /seqart/model        s         a run folder, model folder or shipped model name
    /seqart/piece        s         a piece .toml: its model, tempo and temperature
    /seqart/write        s         text for a handwriting model to write (queued after what it is writing)
    /seqart/monitor      i         send a copy of every event to this UDP port of the sender
                                   (seqart studio's Perform page); 0 ends it

Numbers must be finite as float32 (what clips hold) and within +-`MAX_VALUE`.
A prime feeds the model at most its last `MAX_PRIME_FRAMES` frames (each
frame costs the generator thread a model step, ~0.1 ms for a small model and
more for a large one, while nothing new is generated); a longer one is cut
and the status line says so. A prime is built for the model that will be
playing when the engine applies it: after a `/seqart/model` or
`/seqart/piece` in the same bundle, for the new one.

A packet must be exactly OSC 1.0: a size that is a multiple of 4, zero padding,
and nothing after the arguments its type tags announce (python-osc alone reads
some short or padded packets). Slow work, reading a prime file and loading a
model or piece, runs on a loader thread of its own, in the order it came, so
stop, panic, tempo and temperature answer at once whatever is loading. Only
regular files are read (a FIFO or /dev/zero behind a symlink is refused before
anything opens it), within `seqart.limits`; a load that takes longer than
`LOAD_TIMEOUT` seconds is given up (its result is dropped) and the next one
starts on a fresh thread.

Nothing a packet holds may end this server: any error while parsing or
applying one is a dropped message. python-osc's own warnings about malformed
bundles (logged on the root logger) are taken off the log and reported here,
within the same limit. This thread runs at normal priority even when the
engine's threads are real-time: model loads take seconds of CPU, which must
not starve the rest of the machine.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
from pythonosc.osc_packet import OscPacket, ParseError

from seqart import limits, spec
from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.live.loader import LOAD_TIMEOUT, Loader  # noqa: F401 - LOAD_TIMEOUT is part of this API
from seqart.live.osc_check import osc_problem
from seqart.live.phrase import drawing_to_clip, phrase_to_clip
from seqart.live.scheduler import normal_priority

MAX_REPORTS = 5  # status lines about bad messages per second
MAX_VALUE = 1e6  # largest magnitude of a number in a prime
MAX_PRIME_FRAMES = 2000  # frames a prime feeds the model at most (the last ones)
MAX_WRITE_CHARS = 1000  # characters of one /write (about five minutes of writing)

Number = (int, float)


def _numbers(args, what: str, group: int = 1) -> np.ndarray:
    if not args or not all(isinstance(a, Number) and not isinstance(a, bool) for a in args):
        raise ValueError(f"{what} needs numbers")
    if len(args) % group:
        raise ValueError(f"{what} needs a multiple of {group} numbers, got {len(args)}")
    x = np.asarray(args, np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{what} holds NaN or infinity")
    if np.abs(x).max() > MAX_VALUE:  # this also keeps it finite as float32, what clips hold (1e300 -> inf)
        raise ValueError(f"{what} holds a number beyond +-{MAX_VALUE:g}")
    return x


class _PythonOscWarnings(logging.Filter):
    """Drops python-osc's root-logger warnings; counts them for the control thread that caused them."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if f"{os.sep}pythonosc{os.sep}" not in record.pathname:
            return True
        self.local.count = getattr(self.local, "count", 0) + 1
        self.local.last = record.getMessage()
        return False

    def take(self) -> tuple[int, str]:
        """(warnings on this thread since the last take, the last one's text)."""
        n, last = getattr(self.local, "count", 0), getattr(self.local, "last", "")
        self.local.count = 0
        return n, last


def _osc_warnings() -> _PythonOscWarnings:
    root = logging.getLogger()
    for f in root.filters:
        if isinstance(f, _PythonOscWarnings):
            return f
    f = _PythonOscWarnings()
    root.addFilter(f)
    return f


def _one_number(args, lo: float, hi: float, what: str) -> float:
    if len(args) != 1 or not isinstance(args[0], Number) or isinstance(args[0], bool):
        raise ValueError(f"{what} takes one number")
    v = float(args[0])
    if not lo <= v <= hi:
        raise ValueError(f"{what} must be in {lo:g}..{hi:g}, not {v:g}")
    return v


def _quantity(args, address: str) -> float:
    """One number for an OSC control address, checked against its quantity in seqart.spec."""
    q = spec.OSC_NUMBERS[address]
    v = _one_number(args, q.low, q.high, address[1:])
    if q.low_open and v <= q.low:
        raise ValueError(f"{address[1:]} must be above {q.low:g}, not {v:g}")
    if q.type is int and not v.is_integer():
        raise ValueError(f"{address[1:]} must be a whole number, not {v:g}")
    return v


def _one_string(args, what: str) -> str:
    if not args or not isinstance(args[0], str) or not args[0].strip():
        raise ValueError(f"{what} takes a string")
    return args[0]


def _no_args(args, what: str) -> None:
    if args:
        raise ValueError(f"{what} takes no arguments")


class ControlServer:
    """Receives OSC on UDP `host:port` and turns valid messages into engine commands.

    `loader(kind, text)` loads a model ("model") or piece ("piece") and returns
    the engine command arguments; it runs on this server's thread, so loading
    never stalls generation or sending.
    """

    def __init__(self, engine, port: int, host: str = "127.0.0.1", status=lambda line: None, loader=None,
                 prefix: str = "/seqart"):
        self.engine, self.status, self.loader, self.prefix = engine, status, loader, prefix
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, int(port)))
        except OSError as e:
            raise SeqartError(f"control: cannot listen on {host}:{port} ({e.strerror})") from None
        self.sock.settimeout(0.1)  # also how often a slow load is looked at
        self.host, self.port = host, self.sock.getsockname()[1]
        self.accepted = self.rejected = 0
        self._reports, self._report_second, self._suppressed = 0, 0, 0
        self._next_sampler = None  # the sampler of a swap queued but maybe not yet applied
        self._sender = "127.0.0.1"  # the address of the packet being handled
        self._warnings = _osc_warnings()
        self._report_lock = threading.Lock()  # the loader thread reports too
        self.loads = Loader(self._reject_load)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seqart-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.loads.close()
        self._thread.join(2.0)
        self.sock.close()

    def _run(self) -> None:
        normal_priority()
        while not self._stop.is_set():
            self.loads.watch()
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self._packet(data, addr)
            except Exception as e:  # noqa: BLE001 - last resort: this thread must outlive any packet
                self._reject(f"a packet of {len(data)} bytes from {addr[0]}", f"{type(e).__name__}: {e}")

    def _packet(self, data: bytes, addr) -> None:
        self._sender = addr[0]  # where /seqart/monitor sends its copy
        what = f"a packet of {len(data)} bytes from {addr[0]}"
        try:
            msgs = [(m.message.address, list(m.message.params)) for m in OscPacket(data).messages]
        except ParseError as e:
            self._reject(what, f"not OSC ({e})")
            return
        except Exception as e:  # noqa: BLE001 - python-osc raises anything from RecursionError to TypeError
            self._reject(what, f"not OSC ({type(e).__name__}: {e})")
            return
        finally:
            n, last = self._warnings.take()
        if n:
            self._reject(what, f"{n} bundle part(s) not OSC ({last})")
            return
        problem = osc_problem(data)
        if problem:
            self._reject(what, f"not OSC ({problem})")
            return
        for address, args in msgs:
            self.handle(address, args)

    def handle(self, address: str, args: list) -> bool:
        """Check and apply (or queue for the loader) one message; False (and a status line) if it was dropped."""
        try:
            self._apply(address, args)
        except (ValueError, SeqartError) as e:
            self._reject(address, str(e))
            return False
        except Exception as e:  # noqa: BLE001 - a missing file, a bad ~user, a loader's own error...
            self._reject(address, f"{type(e).__name__}: {e}")
            return False
        self.accepted += 1
        return True

    def _reject(self, what: str, why: str) -> None:
        self.rejected += 1
        self._report(f"control: dropped {what[:80]}: {why[:400]}")

    def _reject_load(self, what: str, why: str) -> None:
        """A queued load failed or was given up: it was counted as accepted when queued."""
        self.accepted -= 1
        self._reject(what, why)

    def _report(self, line: str) -> None:
        """A status line, at most MAX_REPORTS a second (the rest are counted and summed up)."""
        with self._report_lock:
            self._report_locked(line)

    def _report_locked(self, line: str) -> None:
        second = int(time.time())
        if second != self._report_second:
            if self._suppressed:
                self.status(f"control: {self._suppressed} more bad messages dropped")
            self._report_second, self._reports, self._suppressed = second, 0, 0
        self._reports += 1
        if self._reports <= MAX_REPORTS:
            self.status(" ".join(line.split()))  # one line, whatever the message held
        else:
            self._suppressed += 1

    def _apply(self, address: str, args: list) -> None:
        e, p = self.engine, self.prefix
        if not address.startswith(p + "/"):
            raise ValueError(f"unknown address (expected {p}/...)")
        cmd = address[len(p):]
        if cmd == "/temperature":
            e.command("temperature", _quantity(args, "/temperature"))
        elif cmd == "/tempo":
            e.command("tempo", _quantity(args, "/tempo"))
        elif cmd in ("/start", "/stop", "/reset"):
            _no_args(args, cmd[1:])
            e.command(cmd[1:])
        elif cmd == "/panic":
            _no_args(args, "panic")
            e.sched.panic()
        elif cmd == "/prime/file":
            # Refused here, before any thread opens it: missing, a folder, a FIFO, a device, too big.
            limits.check_regular(Path(_one_string(args, "prime/file")).expanduser(), "prime_mb")
            self.loads.submit(address, lambda: self._prime_job(cmd[7:], args))
        elif cmd.startswith("/prime/") and self.loads.busy():  # after a load still running: in order
            self.loads.submit(address, lambda: self._prime_job(cmd[7:], args))
        elif cmd.startswith("/prime/"):  # numbers in the message: quick, applied now
            e.command("prime", self._primer(cmd[7:], args))
        elif cmd == "/write":
            e.command("write", self._text(args))
        elif cmd == "/monitor":
            e.command("monitor", self._sender, int(_quantity(args, "/monitor")))
        elif cmd in ("/model", "/piece"):
            if self.loader is None:
                raise ValueError(f"{cmd[1:]} switching is not available here")
            text = _one_string(args, cmd[1:])
            self.loads.submit(address, lambda: self._swap_job(cmd[1:], text))
        else:
            raise ValueError("unknown address")

    # --- loader jobs: build on the loader thread, return what applies the result ---------------------
    def _prime_job(self, kind: str, args: list):
        clip = self._primer(kind, args)
        return lambda: self.engine.command("prime", clip)

    def _swap_job(self, kind: str, text: str):
        swap = self.loader(kind, text)

        def apply():
            self.engine.command("swap", *swap)
            self._next_sampler = swap[0]
            self.status(f"control: switched {kind} to {text}")

        return apply

    def _sampler(self):
        """The sampler of the model that plays when a command queued now is applied."""
        nxt = self._next_sampler
        if nxt is None or self.engine.sampler is nxt:
            self._next_sampler = None
            return self.engine.sampler
        return nxt

    def _codec(self):
        return self._sampler().codec

    def _text(self, args: list) -> str:
        """The text of a /write, whitespace runs made single spaces, checked against the model's alphabet."""
        if len(args) != 1:
            raise ValueError("write takes one string")
        text = " ".join(_one_string(args, "write").split())
        if len(text) > MAX_WRITE_CHARS:
            raise ValueError(f"write takes at most {MAX_WRITE_CHARS} characters, not {len(text)}")
        self._sampler().check_text(text, "write")  # a SeqartError naming what the model cannot write
        return text

    def _primer(self, kind: str, args: list) -> Clip:
        clip = self._build_primer(kind, args)
        if len(clip) > MAX_PRIME_FRAMES:
            self._report(f"control: prime/{kind}: kept the last {MAX_PRIME_FRAMES} of {len(clip)} frames")
            clip = clip.slice(len(clip) - MAX_PRIME_FRAMES)
        return clip

    def _build_primer(self, kind: str, args: list) -> Clip:
        codec = self._codec()
        if not codec.primable:
            raise ValueError(f"a {codec.modality} model cannot be primed")
        if kind == "file":
            path = _one_string(args, "prime/file")
            seconds = _quantity(args[1:], "/prime/file seconds") if len(args) > 1 else None
            return codec.prime_clip(Path(path).expanduser(), seconds)
        if kind == "frames":
            c = len(codec.layout.channels)
            x = _numbers(args, f"prime/frames ({c} channels a frame)", c).reshape(-1, c)
            return Clip(x, codec.layout.channels, codec.modality, **codec.clip_defaults())
        if kind == "phrase":
            x = _numbers(args, "prime/phrase (pitch velocity start duration)", 4).reshape(-1, 4)
            return phrase_to_clip(codec, x)
        if kind == "drawing":
            x = _numbers(args, "prime/drawing (x y lifted)", 3).reshape(-1, 3)
            return drawing_to_clip(codec, x)
        raise ValueError("unknown prime kind (file, frames, phrase, drawing)")
