"""Is a JACK MIDI connection still there? A libjack client (ctypes) that only looks.

rtmidi cannot tell whether JACK still connects our port to the target. When
the target program restarts, its port comes back under the same name but
JACK has dropped our connection, so output goes nowhere and input never
arrives; when the JACK server itself restarts, every port we hold belongs to
the dead server. This client (never activated, no ports of its own) asks the
server, about once a second, whether the target port exists and which ports
it is connected to, and counts server sessions in `generation` (a port
opened under an older generation is dead).

All calls are quick reads of JACK's shared graph plus one request to the
server (the liveness check); none starts a server (JackNoStartServer).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

_NO_START_SERVER = 0x01  # jack_options_t JackNoStartServer
_V = ctypes.c_void_p


_MESSAGE_FN = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
_quiet_fn = _MESSAGE_FN(lambda text: None)  # kept alive for the process: libjack holds the pointer


def _bundled_libjacks() -> list:
    """The copy of libjack that python-rtmidi's wheel carries (its own, beside the system's)."""
    import glob
    import importlib.util

    spec = importlib.util.find_spec("rtmidi")
    if spec is None or not spec.origin:
        return []
    site = os.path.dirname(os.path.dirname(spec.origin))
    out = []
    for path in sorted(glob.glob(os.path.join(site, "python_rtmidi*", "libjack*.so*"))):  # auditwheel: *.libs
        try:
            out.append(ctypes.CDLL(path))
        except OSError:
            pass
    return out


def _load():
    """libjack with the prototypes used here, or None when JACK is not installed.

    It also silences libjack's own messages ("Cannot connect to server socket"
    and the like, printed straight to stderr, also for rtmidi's clients in this
    process: one shared library): the engine says what happened in one line.
    """
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
    except OSError:
        return None
    for copy in [lib] + _bundled_libjacks():
        for setter in ("jack_set_error_function", "jack_set_info_function"):
            getattr(copy, setter).argtypes = [_MESSAGE_FN]
            getattr(copy, setter)(_quiet_fn)
    lib.jack_client_open.restype = _V
    lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.jack_client_close.argtypes = [_V]
    lib.jack_get_client_name.restype = ctypes.c_char_p
    lib.jack_get_client_name.argtypes = [_V]
    lib.jack_get_uuid_for_client_name.restype = _V
    lib.jack_get_uuid_for_client_name.argtypes = [_V, ctypes.c_char_p]
    lib.jack_port_by_name.restype = _V
    lib.jack_port_by_name.argtypes = [_V, ctypes.c_char_p]
    lib.jack_port_get_all_connections.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.jack_port_get_all_connections.argtypes = [_V, _V]
    lib.jack_free.argtypes = [_V]
    return lib


class JackProbe:
    def __init__(self):
        self._lib = _load()
        self._client = None
        self._name = b""
        self.generation = 0  # +1 each time the probe connects to a (new) server
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._lib is not None

    def alive(self) -> bool:
        """Connected to a running server (reconnecting, and counting a generation, if needed)."""
        with self._lock:
            return self._ensure()

    def connections(self, port: str) -> list[str] | None:
        """Full names of the ports connected to `port`; None if it does not exist or JACK is down."""
        with self._lock:
            if not self._ensure():
                return None
            lib, c = self._lib, self._client
            p = lib.jack_port_by_name(c, port.encode())
            if not p:
                return None
            arr = lib.jack_port_get_all_connections(c, p)
            if not arr:
                return []
            out, i = [], 0
            while arr[i] is not None:
                out.append(arr[i].decode(errors="replace"))
                i += 1
            lib.jack_free(ctypes.cast(arr, _V))
            return out

    def _ensure(self) -> bool:
        """Called with the lock held. The liveness check is a real request to the server: the
        shared graph of a dead server still reads as if it were there."""
        lib = self._lib
        if lib is None:
            return False
        if self._client is not None:
            uuid = lib.jack_get_uuid_for_client_name(self._client, self._name)
            if uuid:
                lib.jack_free(uuid)
                return True
            lib.jack_client_close(self._client)  # the server went away: this client is dead
            self._client = None
        status = ctypes.c_int(0)
        client = lib.jack_client_open(f"seqart-probe-{os.getpid()}".encode(), _NO_START_SERVER, ctypes.byref(status))
        if not client:
            return False
        self._client, self._name = client, lib.jack_get_client_name(client)
        self.generation += 1
        return True


_probe: JackProbe | None = None
_probe_lock = threading.Lock()


def probe() -> JackProbe:
    """The process's one probe (a JACK client is a server resource: share it)."""
    global _probe
    with _probe_lock:
        if _probe is None:
            _probe = JackProbe()
        return _probe


def unique_port_name(kind: str) -> str:
    """A name for our own end of a connection, so the probe can find it among the target's."""
    global _counter
    with _probe_lock:
        _counter += 1
        return f"seqart-{kind}-{os.getpid()}-{_counter}"


_counter = 0
