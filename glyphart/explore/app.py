"""The explorer's ASGI app: its page, glyph pictures, the websocket for live frames, exports.

Safety: requests must name the bound address (or localhost) as their Host, so a DNS-rebinding
page cannot read it; POSTs and websockets from another Origin are refused, so another page
cannot drive it; it serves its own assets and the files it wrote, nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import GlyphartError
from . import training, view
from .draw import Studio
from .exports import KINDS, Exports

ASSETS = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "train.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
TILE_PX = (32, 512)          # grid tiles
TRIALS = (1, 16)             # channel views per request
LOCAL_NAMES = {"127.0.0.1", "localhost", "[::1]"}
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "Cache-Control": "no-store",
                    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                    "connect-src 'self'; media-src 'self'; frame-ancestors 'none'"}


def asset(name: str) -> bytes:
    return (resources.files(__package__) / "static" / name).read_bytes()


class Guard:
    """ASGI middleware: Host must be the bound address or localhost (with the bound port);
    POST and websocket requests must come from this very origin."""

    def __init__(self, app, host: str, port: int):
        self.app, self.port = app, port
        self.names = LOCAL_NAMES | {host.lower()}

    def refusal(self, scope) -> str:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "").lower()
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name or name not in self.names or port != str(self.port):
            return "Host is not this server's address"
        origin = headers.get("origin")
        writes = scope["type"] == "websocket" or scope.get("method") not in ("GET", "HEAD")
        if writes and origin is not None and origin.lower() != f"http://{host}":
            return "cross-origin requests are refused"
        if scope["type"] == "websocket" and origin is None:
            return "websockets need an Origin"
        return ""

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            reason = self.refusal(scope)
            if reason:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await PlainTextResponse(reason + "\n", 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def bad(message: str, status: int = 400) -> Response:
    return PlainTextResponse(message.splitlines()[0][:300] + "\n", status,
                             headers=SECURITY_HEADERS)


def picture(data: bytes) -> Response:
    headers = dict(SECURITY_HEADERS, **{"Cache-Control": "private, max-age=3600"})
    return Response(data, media_type="image/png", headers=headers)


@dataclass
class Explorer:
    """What every handler shares, kept on `request.app.state.explorer`: the one render worker,
    the export folder, the preset the page opens on, and each client's newest frame request."""

    studio: Studio
    exports: Exports
    default_preset: str = ""
    newest: dict[str, int] = field(default_factory=dict)  # client -> its newest large view
    trainer: training.Trainer | None = None  # the one training beside the studio


def shared(request: Request | WebSocket) -> Explorer:
    return request.app.state.explorer


async def page(request: Request):
    return Response(asset("index.html"), media_type=ASSETS["index.html"],
                    headers=SECURITY_HEADERS)


async def static(request: Request):
    name = request.path_params["name"]
    if name not in ASSETS or name == "index.html":
        return bad("not found", 404)
    return Response(asset(name), media_type=ASSETS[name], headers=SECURITY_HEADERS)


async def no_icon(request: Request):
    return Response(status_code=204)


async def presets(request: Request):
    from ..inks import PALETTES
    from ..presets import available
    from ..spec import load_spec
    rows = []
    for files in available():
        if files.shadowed or not files.trained:
            continue
        try:
            m, r = (s := load_spec(files.toml)).model, s.render
        except GlyphartError:
            continue
        rows.append({"name": files.name, "origin": files.origin, "layers": m.layers,
                     "size": m.size, "any_size": m.draws_any_size,
                     "palette": r.palette, "description": s.description})
    palettes = {n: {"paper": p.paper, "inks": list(p.inks), "blend": p.blend,
                    "about": p.about} for n, p in PALETTES.items()}
    return JSONResponse({"presets": rows, "palettes": palettes,
                         "default": shared(request).default_preset, "kinds": list(KINDS)},
                        headers=SECURITY_HEADERS)


async def tile(request: Request):
    q, studio = request.query_params, shared(request).studio
    name, seed = view.preset_name(q), view.integer(q, "seed", 0, view.MAX_SEED)
    size = view.integer(q, "size", *TILE_PX, default=128)
    choice = view.PaintChoice.from_params(q)
    if await request.is_disconnected():
        return Response(status_code=204)
    return picture(await studio.run(studio.tile, name, seed, size, choice))


async def frame(request: Request):
    q, explorer = request.query_params, shared(request)
    name, keys = view.preset_name(q), view.seeds(q)
    t = view.number(q, "t", 0.0, 1.0, 0.0)
    size = view.integer(q, "size", 16, view.MAX_PX, default=512)
    interp, choice = view.interp(q), view.PaintChoice.from_params(q)
    client = view.text(q, "client")[:64]
    generation = view.integer(q, "gen", 0, 2**53, default=0)
    newest = explorer.newest
    if client:  # a newer request from this client replaces this one
        newest[client] = max(newest.get(client, 0), generation)
    draw = (lambda: None if client and newest[client] > generation else
            explorer.studio.frame(name, keys, t, interp, size, choice))
    if await request.is_disconnected():
        return Response(status_code=204)
    data = await explorer.studio.run(draw)
    return Response(status_code=204) if data is None else picture(data)


async def channel(request: Request):
    q, studio = request.query_params, shared(request).studio
    name, seed = view.preset_name(q), view.integer(q, "seed", 0, view.MAX_SEED - 2048)
    trials = view.integer(q, "trials", *TRIALS, default=6)
    size = view.integer(q, "size", 32, 512, default=128)
    result = await studio.run_batch(studio.channel_view, name, seed, trials, size,
                                    view.PaintChoice.from_params(q))
    result["images"] = ["data:image/png;base64," + base64.b64encode(i).decode()
                        for i in result["images"]]
    return JSONResponse(result, headers=SECURITY_HEADERS)


async def export(request: Request):
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        return bad("send the export as application/json", 415)
    try:
        body = json.loads(await request.body())
    except ValueError:
        return bad("the body is not JSON")
    if not isinstance(body, dict):
        return bad("the body must be a JSON object")
    explorer = shared(request)
    name, kind = view.preset_name(body), view.text(body, "kind", "sheet")
    seeds = list(view.seeds(body, "seeds"))
    choice, interp = view.PaintChoice.from_params(body), view.interp(body)
    explorer.studio.preset(name)  # an unknown preset is a 400 before anything is written
    result = await explorer.studio.run_batch(explorer.exports.export, name, kind, seeds,
                                             choice, interp)
    return JSONResponse(result, headers=SECURITY_HEADERS)


async def exported(request: Request):
    try:
        path = shared(request).exports.confined(request.path_params["name"])
    except GlyphartError as e:
        return bad(str(e), 404)
    return FileResponse(path, headers=SECURITY_HEADERS)


async def socket(ws: WebSocket):
    """Live frames: each message asks for one; only the newest not yet drawn is drawn."""
    await ws.accept()
    latest: dict = {}
    wake = asyncio.Event()
    drawer = asyncio.create_task(send_newest(ws, latest, wake))
    try:
        while True:
            try:
                request = json.loads(await ws.receive_text())
                if not isinstance(request, dict):
                    raise ValueError
                request["id"] = view.integer(request, "id", 0, 2**32 - 1, default=0)
            except (ValueError, GlyphartError, KeyError):
                await ws.send_text(json.dumps({"error": "send a JSON object with an id"}))
                continue
            latest["r"] = request  # replaces one not yet drawn
            wake.set()
    except WebSocketDisconnect:
        pass
    finally:
        drawer.cancel()


async def send_newest(ws: WebSocket, latest: dict, wake: asyncio.Event) -> None:
    """Draw the newest request, forever; a client gone ends it (the frame being drawn then is
    the only cost)."""
    while True:
        await wake.wait()
        wake.clear()
        request = latest.pop("r")
        try:
            reply: bytes | str = await socket_frame(shared(ws).studio, request)
        except GlyphartError as e:
            reply = json.dumps({"id": request["id"], "error": str(e)})
        except Exception as e:  # noqa: BLE001 - a bug answers, the socket lives on
            reply = json.dumps({"id": request["id"],
                                "error": f"internal error: {type(e).__name__}"})
        try:
            await (ws.send_bytes(reply) if isinstance(reply, bytes) else
                   ws.send_text(reply))  # wire.py
        except (WebSocketDisconnect, RuntimeError, OSError):
            return


async def socket_frame(studio: Studio, q: dict) -> bytes:
    keys, name = view.seeds(q), view.preset_name(q)
    size = view.integer(q, "size", 16, view.MAX_PX, default=512)
    return await studio.run(studio.raw_frame, q["id"], name, keys,
                            view.number(q, "t", 0.0, 1.0, 0.0), view.interp(q), size,
                            view.PaintChoice.from_params(q), q.get("deflate") is True)


async def refuse(request: Request, exc: GlyphartError):
    return bad(str(exc))


async def failed(request: Request, exc: Exception):
    return bad(f"internal error: {type(exc).__name__}", 500)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    yield
    await asyncio.to_thread(app.state.explorer.trainer.close)  # it saves, then we go
    app.state.explorer.studio.close()


ROUTES = [Route("/", page), Route("/static/{name}", static), Route("/favicon.ico", no_icon),
          Route("/api/presets", presets), Route("/api/tile", tile), Route("/api/frame", frame),
          Route("/api/channel", channel), Route("/api/export", export, methods=["POST"]),
          Route("/exports/{name}", exported), WebSocketRoute("/ws", socket),
          Route("/api/train/form", training.form), Route("/api/train/status", training.status),
          Route("/api/train/sheet", training.sheet),
          Route("/api/train/start", training.start, methods=["POST"]),
          Route("/api/train/stop", training.stop, methods=["POST"])]


def create_app(export_dir: str | Path = "outputs/explore", *, host: str = "127.0.0.1",
               port: int = 8765, threads: int = 2, preset: str = "",
               device: str = "cpu") -> Guard:
    app = Starlette(routes=ROUTES, exception_handlers={GlyphartError: refuse, Exception: failed},
                    lifespan=lifespan)
    studio = Studio(threads, device)
    app.state.explorer = Explorer(studio, Exports(export_dir), preset, trainer=training.Trainer(
        on_end=lambda name: studio.worker.submit(studio.forget, name)))
    guard = Guard(app, host, port)
    guard.state = app.state.explorer  # type: ignore[attr-defined]  # for serve.py and tests
    return guard
