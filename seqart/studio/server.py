"""`seqart studio`: serve the app with uvicorn on a socket bound here (so port 0 picks a free one)."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

from seqart.errors import SeqartError


def open_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as e:
        sock.close()
        raise SeqartError(f"studio: cannot listen on {host}:{port} ({getattr(e, 'strerror', None) or e})") from None
    sock.listen(64)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8765, models: list[Path] = (), status=print) -> None:
    """Run the studio until Ctrl-C; says its URL (with the token, off loopback) through `status`."""
    try:
        import uvicorn

        from seqart.studio.app import LOOPBACK, build_app
    except ModuleNotFoundError as e:
        raise SeqartError(f"seqart studio needs {e.name}: pip install 'seqart[studio]'") from None
    from seqart.studio.catalog import Catalog
    from seqart.studio.protocol import MAX_SOCKET_MESSAGE

    if not 0 <= port <= 65535:
        raise SeqartError(f"--port {port}: expected 0..65535")
    catalog = Catalog(list(models))
    loopback = host in LOOPBACK
    token = None if loopback else secrets.token_urlsafe(24)
    sock = open_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/" + (f"?token={token}" if token else "")
    status(f"seqart studio: {url} ({len(catalog.entries)} models; Ctrl-C stops)")
    config = uvicorn.Config(build_app(catalog, token, loopback), ws_max_size=MAX_SOCKET_MESSAGE,
                            log_level="warning", lifespan="on", ws_ping_interval=None)
    uvicorn.Server(config).run(sockets=[sock])
