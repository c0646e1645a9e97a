"""The Perform page's link to a running `seqart perform`: watch what it sends, and steer it.

Watching: the studio opens a UDP port on 127.0.0.1 and asks the show, through its OSC control
port, for a copy of every event (`/seqart/monitor i PORT`, seqart.live.control). The copies
are timetagged bundles that leave just after the show's own, the same events as its OSC
stream; they are read on the studio's event loop (no thread) and passed to the page in
batches every `BATCH_S`, so a fast show (a pose stream, 100s of events a second) costs the
page a few messages a second. Steering: the page's commands become the show's own OSC control
messages, each checked here first against the same table (seqart.spec's ranges).
"""

from __future__ import annotations

import asyncio
import math
import time

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from seqart.errors import SeqartError

BATCH_S = 0.05  # seconds between the batches sent to the page
MAX_BATCH = 200  # events a batch carries at most (the newest); the counts include them all
STEER = {  # address -> what its arguments must be (the show checks them again)
    "/seqart/temperature": "temperature", "/seqart/tempo": "tempo", "/seqart/start": None,
    "/seqart/stop": None, "/seqart/reset": None, "/seqart/panic": None, "/seqart/piece": "path",
}


def osc(address: str, args=()) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def steer_args(address: str, args: list) -> list:
    """A steering message's arguments, checked; SeqartError names what is wrong."""
    from seqart import spec

    if address not in STEER:
        raise SeqartError(f"steer: {address[:60]} is not a control the studio sends ({', '.join(STEER)})")
    kind = STEER[address]
    if kind is None:
        if args:
            raise SeqartError(f"steer: {address} takes no arguments")
        return []
    if len(args) != 1:
        raise SeqartError(f"steer: {address} takes one argument")
    if kind == "path":
        if not isinstance(args[0], str) or not 0 < len(args[0]) < 1000:
            raise SeqartError(f"steer: {address} takes a piece file's path")
        return [args[0]]
    return [float(spec.quantity(kind).check(args[0], f"steer {address}"))]


class Monitor(asyncio.DatagramProtocol):
    def __init__(self):
        self.events: list = []  # [timetag or arrival (unix s), address, args] not yet passed on
        self.received = 0  # events since the start
        self.not_osc = 0  # datagrams that were not OSC
        self.recent: list[float] = []  # arrival times of the last second's events
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        now = time.time()
        try:
            messages = list(OscPacket(data).messages)
        except Exception:  # noqa: BLE001 - python-osc raises many kinds on bad packets
            self.not_osc += 1
            return
        for m in messages:
            when = m.time if m.time and math.isfinite(m.time) else now
            args = [a if isinstance(a, (int, float, str)) else str(a) for a in m.message.params]
            self.events.append([round(when, 6), m.message.address, args])
        self.received += len(messages)
        self.recent += [now] * len(messages)

    def batch(self) -> dict:
        """What the page gets: the new events (the newest MAX_BATCH), counts and events per second."""
        now = time.time()
        self.recent = [t for t in self.recent if t > now - 1.0]
        out = {"type": "osc", "events": self.events[-MAX_BATCH:], "received": self.received,
               "per_second": len(self.recent), "not_osc": self.not_osc}
        self.events = []
        return out


class Link:
    """One page's link to one show: the monitor port and the show's control port."""

    def __init__(self, control_port: int):
        self.control = ("127.0.0.1", control_port)
        self.monitor: Monitor | None = None
        self.port = 0

    async def open(self) -> int:
        loop = asyncio.get_running_loop()
        transport, self.monitor = await loop.create_datagram_endpoint(Monitor, local_addr=("127.0.0.1", 0))
        self.port = transport.get_extra_info("sockname")[1]
        self.send("/seqart/monitor", [self.port])
        return self.port

    def send(self, address: str, args: list) -> None:
        if self.monitor is None or self.monitor.transport is None:
            raise SeqartError("perform: connect to a show first")
        self.monitor.transport.sendto(osc(address, args), self.control)

    def close(self) -> None:
        if self.monitor is not None and self.monitor.transport is not None:
            try:
                self.send("/seqart/monitor", [0])
            finally:
                self.monitor.transport.close()
        self.monitor = None
