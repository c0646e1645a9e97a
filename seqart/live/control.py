"""OSC control server: change a running performance from another program.

Binds 127.0.0.1 unless the piece asks for another address (`[control] host`).
Every message is checked against the table below (address, argument types,
ranges); anything else is dropped and reported in one status line. Packets
that are not OSC at all are dropped the same way. Reports are limited to
`MAX_REPORTS` a second so a flood cannot drown the status output.

    /seqart/temperature  f         0..5
    /seqart/tempo        f         1..999 BPM
    /seqart/start, /seqart/stop, /seqart/reset, /seqart/panic
    /seqart/prime/file   s [f]     a file the model's codec reads [first f seconds]
    /seqart/prime/frames f...      frames in the model's channel order, flattened
    /seqart/prime/phrase f...      notes as (pitch velocity start duration) groups, seconds
    /seqart/prime/drawing f...     strokes as (x y lifted) groups, absolute coordinates
    /seqart/model        s         a run folder, model folder or shipped model name
    /seqart/piece        s         a piece .toml: its model, tempo and temperature
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
from pythonosc.osc_packet import OscPacket, ParseError

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.live.phrase import drawing_to_clip, phrase_to_clip
from seqart.live.scheduler import realtime

MAX_REPORTS = 5  # status lines about bad messages per second

Number = (int, float)


def _numbers(args, what: str, group: int = 1) -> np.ndarray:
    if not args or not all(isinstance(a, Number) and not isinstance(a, bool) for a in args):
        raise ValueError(f"{what} needs numbers")
    if len(args) % group:
        raise ValueError(f"{what} needs a multiple of {group} numbers, got {len(args)}")
    x = np.asarray(args, np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{what} holds NaN or infinity")
    return x


def _one_number(args, lo: float, hi: float, what: str) -> float:
    if len(args) != 1 or not isinstance(args[0], Number) or isinstance(args[0], bool):
        raise ValueError(f"{what} takes one number")
    v = float(args[0])
    if not lo <= v <= hi:
        raise ValueError(f"{what} must be in {lo:g}..{hi:g}, not {v:g}")
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
        self.sock.settimeout(0.2)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.accepted = self.rejected = 0
        self._reports, self._report_second, self._suppressed = 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seqart-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()

    def _run(self) -> None:
        if getattr(self.engine, "rt_priority", 0):
            realtime(1)  # it takes the interpreter lock: never let the OS park it while it holds it
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                msgs = [m.message for m in OscPacket(data).messages]
            except (ParseError, ValueError, IndexError, TypeError, UnicodeDecodeError) as e:
                self._reject(f"a packet of {len(data)} bytes from {addr[0]}", f"not OSC ({e})")
                continue
            for m in msgs:
                self.handle(m.address, list(m.params))

    def handle(self, address: str, args: list) -> bool:
        """Check and apply one message; False (and a status line) if it was dropped."""
        try:
            self._apply(address, args)
        except (ValueError, SeqartError) as e:
            self._reject(address, str(e))
            return False
        self.accepted += 1
        return True

    def _reject(self, what: str, why: str) -> None:
        self.rejected += 1
        second = int(time.time())
        if second != self._report_second:
            if self._suppressed:
                self.status(f"control: {self._suppressed} more bad messages dropped")
            self._report_second, self._reports, self._suppressed = second, 0, 0
        self._reports += 1
        if self._reports <= MAX_REPORTS:
            self.status(f"control: dropped {what[:80]}: {why[:160]}")
        else:
            self._suppressed += 1

    def _apply(self, address: str, args: list) -> None:
        e, p = self.engine, self.prefix
        if not address.startswith(p + "/"):
            raise ValueError(f"unknown address (expected {p}/...)")
        cmd = address[len(p):]
        if cmd == "/temperature":
            e.command("temperature", _one_number(args, 0.0, 5.0, "temperature"))
        elif cmd == "/tempo":
            e.command("tempo", _one_number(args, 1.0, 999.0, "tempo"))
        elif cmd in ("/start", "/stop", "/reset"):
            _no_args(args, cmd[1:])
            e.command(cmd[1:])
        elif cmd == "/panic":
            _no_args(args, "panic")
            e.sched.panic()
        elif cmd.startswith("/prime/"):
            e.command("prime", self._primer(cmd[7:], args))
        elif cmd in ("/model", "/piece"):
            if self.loader is None:
                raise ValueError(f"{cmd[1:]} switching is not available here")
            e.command("swap", *self.loader(cmd[1:], _one_string(args, cmd[1:])))
            self.status(f"control: switched {cmd[1:]} to {args[0]}")
        else:
            raise ValueError("unknown address")

    def _primer(self, kind: str, args: list) -> Clip:
        codec = self.engine.sampler.codec
        if kind == "file":
            path = _one_string(args, "prime/file")
            seconds = _one_number(args[1:], 0.0, 3600.0, "prime/file seconds") if len(args) > 1 else None
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
