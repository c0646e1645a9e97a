"""The studio's Starlette app: its pages, the WebSocket, uploads and who may use them.

Pages and scripts are files in `static/`, shipped in the package. On 127.0.0.1 (the default)
the app answers only requests addressed to the loopback names (a page elsewhere cannot reach
it through DNS rebinding); on any other address it also wants the token it printed, in the
URL once (`?token=...`, as Jupyter does) and then in a cookie. A WebSocket or an upload is
refused when its Origin is another site, so no other page open in the browser can drive the studio.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from seqart import spec
from seqart.errors import SeqartError
from seqart.studio import uploads as uploads_mod
from seqart.studio.catalog import Catalog
from seqart.studio.session import Session

STATIC = Path(__file__).resolve().parent / "static"
PAGES = ("draw", "play", "dance", "perform", "inside")
COOKIE = "seqart_studio_token"  # + a tag of the studio's own token: see cookie_name
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def cookie_name(token: str) -> str:
    """The cookie that carries this studio's token. Browsers keep cookies per host, not per port,
    so two studios on one machine (ports 8765 and 8766) would overwrite one cookie and each log
    the other's tabs out; a name tagged from the token keeps one cookie per studio."""
    return f"{COOKIE}_{hashlib.sha256(token.encode()).hexdigest()[:12]}"


class Guard:
    """ASGI middleware: the Host check on loopback, the token elsewhere, the Origin check on sockets."""

    def __init__(self, app, token: str | None, loopback: bool):
        self.app, self.token, self.loopback = app, token, loopback
        self.cookie = cookie_name(token) if token else None  # named once, not per request

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self.problem(scope, headers)
        if problem is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": problem})
            return
        await PlainTextResponse(problem, status_code=403)(scope, receive, send)

    def problem(self, scope, headers: dict) -> str | None:
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if self.loopback and name not in LOOPBACK:
            return f"this studio answers only on 127.0.0.1, not {host[:60]}"
        origin = headers.get("origin")
        writes = scope["type"] == "websocket" or scope.get("method") == "POST"
        if writes and origin is not None and origin.split("://", 1)[-1] != host:
            return "a socket or upload from another site"
        if self.token is None:
            return None
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        cookies = dict(p.strip().split("=", 1) for p in headers.get("cookie", "").split(";") if "=" in p)
        for candidate in (given, cookies.get(self.cookie, "")):
            if candidate and hmac.compare_digest(candidate.encode(), self.token.encode()):
                return None
        return "this studio needs its token: open the URL it printed (…?token=…)"


def build_app(catalog: Catalog, token: str | None = None, loopback: bool = True) -> Guard:
    """The ASGI app: pages, /api/models, /upload, the /ws socket; token None on loopback."""
    store = uploads_mod.Uploads()
    cookie = cookie_name(token) if token else None

    def page(name: str):
        async def serve(request: Request):
            response = FileResponse(STATIC / f"{name}.html")
            if token and request.query_params.get("token") == token:
                response.set_cookie(cookie, token, httponly=True, samesite="strict")
            return response
        return serve

    async def index(request: Request):
        query = f"?token={token}" if token and request.query_params.get("token") == token else ""
        return RedirectResponse("/draw" + query)

    async def models(request: Request):
        return JSONResponse({"models": catalog.listing()})

    async def settings(request: Request):  # the sliders' ranges: seqart.spec, as everywhere
        return JSONResponse({name: {"low": q.low, "high": q.high, "help": q.help}
                             for name, q in spec.QUANTITIES.items()})

    async def upload(request: Request):
        limit = uploads_mod.max_bytes()
        too_big = JSONResponse({"error": f"upload over the limit of {limit / 2**20:g} MiB (SEQART_MAX_PRIME_MB raises it)"},
                               status_code=413)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:  # refused before a byte is read
            return too_big
        parts, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:  # a body longer than it said, or sent without a length
                return too_big
            parts.append(chunk)
        try:
            key = store.add(request.query_params.get("name", ""), b"".join(parts))
        except SeqartError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        return JSONResponse({"upload": key})

    async def socket(ws: WebSocket):
        await ws.accept()
        session = Session(ws, catalog, store)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await session.handle(message.get("text") if message.get("text") is not None else message.get("bytes"))
        except WebSocketDisconnect:
            pass
        finally:
            await session.close()

    routes = [Route("/", index), Route("/api/models", models), Route("/api/spec", settings), Route("/upload", upload, methods=["POST"]),
              WebSocketRoute("/ws", socket), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    routes += [Route(f"/{name}", page(name)) for name in PAGES if (STATIC / f"{name}.html").exists()]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        store.close()

    return Guard(Starlette(routes=routes, lifespan=lifespan), token, loopback)
