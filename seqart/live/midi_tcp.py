"""Raw MIDI bytes to a TCP server (mido.sockets' wire format) without ever blocking the sender.

mido's SocketPort connects with no timeout (a black-holed host holds the
caller for minutes) and writes blocking, so a receiver that stops reading
eventually stops the whole sending thread. This port connects with a
timeout, then writes non-blocking: bytes the kernel will not take yet wait
in a small buffer of our own. When that buffer is full, new messages are
refused (the sink counts them as dropped) while note-offs and all-notes-off
still fit in a reserve, so a receiver that catches up gets every note ended.
Only whole messages enter the buffer, so the byte stream never tears. Bytes
waiting with none taken for `STALL` seconds mean the receiver is gone.
"""

from __future__ import annotations

import socket
import time

CONNECT_TIMEOUT = 2.0  # seconds
SEND_BUFFER = 16384  # bytes the kernel may hold for us (SO_SNDBUF); MIDI is ~3 bytes a message
BUFFER = 3072  # bytes of ours waiting for the kernel before new notes are refused (~1,000 messages)
RESERVE = 16 * 128 * 3 + 16 * 3  # room kept for note-offs: every pitch on every channel, plus CC 123s
STALL = 2.0  # seconds with bytes waiting and none taken: the receiver stopped reading


class TcpMidiOut:
    def __init__(self, host: str, port: int, connect_timeout: float = CONNECT_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a note leaves now, not batched
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            raise
        self.name = f"{host}:{port}"
        self.pending = bytearray()
        self.waiting_since: float | None = None  # monotonic time bytes began waiting without progress
        self.closed = False

    def send(self, msg, must: bool = False) -> bool:
        """Queue one mido message and push what the kernel takes; False if refused (buffer full).

        OSError (connection reset, broken pipe) propagates: the port is lost."""
        data = msg.bin()
        if len(self.pending) + len(data) > BUFFER + (RESERVE if must else 0):
            self.flush()
            if len(self.pending) + len(data) > BUFFER + (RESERVE if must else 0):
                return False
        self.pending += data
        self.flush()
        return True

    def flush(self) -> None:
        if not self.pending:
            return
        try:
            n = self.sock.send(self.pending)
        except (BlockingIOError, InterruptedError):
            n = 0
        del self.pending[:n]
        if not self.pending:
            self.waiting_since = None
        elif n or self.waiting_since is None:
            self.waiting_since = time.monotonic()

    def stalled(self) -> bool:
        """Bytes have waited `STALL` seconds with none taken (call with the sink's lock held)."""
        self.flush()
        return self.waiting_since is not None and time.monotonic() - self.waiting_since > STALL

    def close(self) -> None:
        self.closed = True
        self.sock.close()
