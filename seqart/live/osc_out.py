"""OSC output over UDP and TCP (python-osc builds the packets).

Bundle mode (the default) wraps each message in a bundle whose timetag is the
deadline and sends it `ahead` seconds early, so a receiver that schedules
bundles plays it exactly on time. How early matters (measured here):
scsynth logs "late" for a bundle less than one audio block (5.3 ms at 256
frames, 48 kHz) ahead, and liblo dispatches bundles about 10 ms before their
time, so the default is 25 ms. Message mode sends plain messages at the
deadline, for receivers that ignore timetags (Pd flattens bundles,
TouchDesigner and Max read plain messages best).

On stop, Ctrl-C, an error or `/seqart/panic`, each OSC output sends a plain
`<prefix>/panic` message (no arguments) at once: notes and bundles already
sent cannot be recalled, so a receiver that sustains sound should silence
itself on it.

UDP: the socket is connected, so a receiver that is absent shows up as
"connection refused" on a later send; the sink reports that once and again when
the receiver is back. TCP: OSC 1.0 framing (a big-endian int32 length before
each packet; liblo's default) or SLIP (OSC 1.1); the sink never blocks the
sending loop: a stalled or closed connection drops packets and `check()`
reconnects.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from seqart.errors import SeqartError
from seqart.live.sinks import Sink

SLIP_END, SLIP_ESC = b"\xc0", b"\xdb"


def parse_target(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """'HOST:PORT' or 'PORT' -> (host, port)."""
    host, _, port = str(text).rpartition(":")
    try:
        p = int(port)
    except ValueError:
        raise SeqartError(f"OSC target {text!r}: expected HOST:PORT") from None
    if not 0 < p < 65536:
        raise SeqartError(f"OSC target {text!r}: port must be 1..65535")
    return host or default_host, p


def encode(address: str, args: tuple, when: float | None) -> bytes:
    """One OSC packet: a message, or a bundle timetagged `when` (Unix seconds)."""
    b = OscMessageBuilder(address)
    for a in args:  # bytes travel as an OSC blob (a DRAW canvas)
        b.add_arg(a, "i" if isinstance(a, (int, bool)) else "f" if isinstance(a, float)
                  else "b" if isinstance(a, (bytes, bytearray)) else "s")
    msg = b.build()
    if when is None:
        return msg.dgram
    bundle = OscBundleBuilder(when)
    bundle.add_content(msg)
    return bundle.build().dgram


def check_timing(mode: str, ahead_ms: float, latency_ms: float) -> None:
    if mode not in ("bundle", "message"):
        raise SeqartError(f"osc.mode must be bundle or message, not {mode!r}")
    if not 0.0 <= float(ahead_ms) <= 2000.0:
        raise SeqartError(f"osc.ahead_ms must be in [0, 2000] ms, not {ahead_ms}")
    if not 0.0 <= float(latency_ms) <= 5000.0:
        raise SeqartError(f"osc.latency_ms must be in [0, 5000] ms, not {latency_ms}")


class OscUdpSink(Sink):
    name = "osc"

    def __init__(self, target: str, mode: str = "bundle", ahead_ms: float = 25.0, latency_ms: float = 0.0,
                 prefix: str = "/seqart"):
        super().__init__(latency_ms)
        check_timing(mode, ahead_ms, latency_ms)
        self.panic_packet = encode(prefix + "/panic", (), None)
        self.host, self.port = parse_target(target)
        self.mode = mode
        self.ahead = float(ahead_ms) / 1000.0 if mode == "bundle" else 0.0
        self.name = f"osc udp {self.host}:{self.port}"
        try:
            info = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as e:
            raise SeqartError(f"OSC target {target}: cannot resolve host ({e.strerror})") from None
        self.sock = socket.socket(info[0], socket.SOCK_DGRAM)
        self.sock.connect(info[4])
        self.sock.setblocking(False)
        self.absent_since: float | None = None  # when sends started being refused
        self._refused = self._ok = 0  # refused / delivered sends since the last check
        self._reported_absent = False

    def prepare(self, event, when):
        return encode(event.address, event.args, when if self.mode == "bundle" else None)

    def send(self, event, when, prepared=None):
        data = prepared or self.prepare(event, when)
        try:
            self.sock.send(data)
            self.sent += 1
            self._ok += 1
        except ConnectionRefusedError:  # ICMP "port unreachable" from an earlier packet
            self._refused += 1
            self.dropped += 1
            if self.absent_since is None:
                self.absent_since = time.time()
        except (BlockingIOError, OSError):
            self.dropped += 1
        return None

    def check(self):
        if self.absent_since is not None and not self._reported_absent:
            self._reported_absent = True
            return f"{self.name}: no receiver listening (connection refused); still sending on time"
        if self._reported_absent and self._refused == 0 and self._ok:  # sends got through again
            self._reported_absent, self.absent_since = False, None
            self._ok = 0
            return f"{self.name}: receiver is back"
        self._refused = self._ok = 0
        return None

    def panic(self):
        try:
            self.sock.send(self.panic_packet)
        except OSError:
            pass  # no receiver: nothing sounds there

    def close(self):
        self.sock.close()


class OscTcpSink(Sink):
    name = "osc tcp"

    def __init__(self, target: str, mode: str = "bundle", ahead_ms: float = 25.0, latency_ms: float = 0.0,
                 framing: str = "length", prefix: str = "/seqart"):
        super().__init__(latency_ms)
        check_timing(mode, ahead_ms, latency_ms)
        if framing not in ("length", "slip"):
            raise SeqartError(f"osc.framing must be length or slip, not {framing!r}")
        self.host, self.port = parse_target(target)
        self.mode, self.framing = mode, framing
        self.ahead = float(ahead_ms) / 1000.0 if mode == "bundle" else 0.0
        self.name = f"osc tcp {self.host}:{self.port}"
        self.sock: socket.socket | None = None
        self._pending = b""  # bytes of a packet the kernel did not take yet
        self._lost_reason: str | None = None
        self.panic_packet = self._frame(encode(prefix + "/panic", (), None))
        self._lock = threading.Lock()
        self._connect()

    def _connect(self) -> bool:
        try:
            s = socket.create_connection((self.host, self.port), timeout=0.5)
        except OSError as e:
            self._lost_reason = self._lost_reason or (e.strerror or type(e).__name__)
            return False
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        with self._lock:  # connected off the sending thread (check), swapped in between sends
            self.sock, self._pending = s, b""
        return True

    def _frame(self, data: bytes) -> bytes:
        if self.framing == "length":
            return struct.pack(">i", len(data)) + data
        body = data.replace(SLIP_ESC, b"\xdb\xdd").replace(SLIP_END, b"\xdb\xdc")
        return SLIP_END + body + SLIP_END

    def prepare(self, event, when):
        return self._frame(encode(event.address, event.args, when if self.mode == "bundle" else None))

    def send(self, event, when, prepared=None):
        with self._lock:  # panic() may write from another thread; TCP packets must not interleave
            return self._send(prepared or self.prepare(event, when))

    def _send(self, data: bytes) -> None:
        if self.sock is None:
            self.dropped += 1
            return None
        try:
            if self._pending:
                self._pending = self._pending[self.sock.send(self._pending):]
            if self._pending:  # still backed up: drop this packet whole, never a partial one
                self.dropped += 1
                return None
            n = self.sock.send(data)
            self._pending = data[n:]
            self.sent += 1
        except BlockingIOError:
            self.dropped += 1
        except OSError as e:
            self._lost_reason = e.strerror or type(e).__name__
            self.sock.close()
            self.sock = None
            self.dropped += 1
        return None

    def check(self):
        if self.sock is None:
            reason = self._lost_reason
            if self._connect():
                self._lost_reason = None
                return f"{self.name}: connected"
            if reason is not None and self._lost_reason == reason and not getattr(self, "_told", False):
                self._told = True
                return f"{self.name}: receiver lost ({reason}); retrying every second, dropping meanwhile"
        else:
            self._told = False
        return None

    def panic(self):
        with self._lock:
            if self.sock is None:
                return
            data = self._pending + self.panic_packet  # after the half-sent packet, never inside it
            try:
                self._pending = data[self.sock.send(data):]
            except OSError:
                self._pending = data

    def close(self):
        if self.sock is not None:
            self.sock.close()
