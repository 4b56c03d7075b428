"""The explorer in process (Starlette's TestClient): every route, the websocket, bad
parameters, Host and Origin checks, path traversal, export confinement."""

from __future__ import annotations

import asyncio
import json
import struct
import warnings

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from glyphart.explore.app import create_app  # noqa: E402

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
HERE = {"host": f"127.0.0.1:{PORT}", "origin": BASE}
P = "preset=brush"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def client(exports):
    with TestClient(create_app(exports, port=PORT), base_url=BASE) as c:
        yield c


def is_png(r):
    return r.status_code == 200 and r.headers["content-type"] == "image/png" and \
        r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_and_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and "<script src=\"/static/app.js\"" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name, kind in (("app.js", "javascript"), ("style.css", "css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert client.get("/favicon.ico").status_code == 204


def test_presets_lists_trained_presets_and_palettes(client):
    info = client.get("/api/presets").json()
    names = [p["name"] for p in info["presets"]]
    assert "brush" in names and "gray" in names
    assert "rose" in info["palettes"] and "sheet" in info["kinds"]


def test_tile_is_cached_by_preset_seed_size_and_paint(client):
    """A tile is drawn once: the PNG is kept by paint, and in another paint the kept coverage
    is painted again (no drawing: `misses` counts glyphs drawn)."""
    studio = client.app.state.studio
    r = client.get(f"/api/tile?{P}&seed=5&size=64")
    assert is_png(r)
    misses, hits = studio.misses, studio.hits
    assert client.get(f"/api/tile?{P}&seed=5&size=64").content == r.content
    assert studio.misses == misses and studio.hits == hits + 1
    rose = client.get(f"/api/tile?{P}&seed=5&size=64&palette=rose")
    assert is_png(rose) and rose.content != r.content and studio.misses == misses
    assert client.get(f"/api/tile?{P}&seed=6&size=64").status_code == 200
    assert studio.misses == misses + 1
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(r.content)).size == (64, 64)


def test_frame_draws_walks_at_the_view_size(client):
    a = client.get(f"/api/frame?{P}&keys=1,2&t=0&size=300")
    b = client.get(f"/api/frame?{P}&keys=1,2&t=0.25&size=300&interp=lerp")
    assert is_png(a) and is_png(b) and a.content != b.content
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(b.content)).size == (300, 300)
    # a newer request from the same client replaces an older one not yet drawn
    assert is_png(client.get(f"/api/frame?{P}&keys=1&client=c&gen=5"))
    assert client.get(f"/api/frame?{P}&keys=1&client=c&gen=4").status_code == 204


def test_channel_view_identifies_among_candidates(client):
    r = client.get(f"/api/channel?{P}&seed=9&trials=3&size=48").json()
    assert r["candidates"] == 1024 and r["trials"] == 3 and len(r["ranks"]) == 3
    assert 0 <= r["identified"] <= 3 and all(i.startswith("data:image/png") for i in r["images"])


@pytest.mark.parametrize("query, says", [
    ("/api/tile?preset=brush", "seed: missing"),
    ("/api/tile?preset=brush&seed=abc", "seed: give an integer"),
    ("/api/tile?preset=brush&seed=-1", "out of range"),
    ("/api/tile?preset=brush&seed=99999999999999999999", "seed"),
    ("/api/tile?preset=brush&seed=1&size=100000", "size"),
    ("/api/tile?preset=nope&seed=1", "unknown 'nope'"),
    ("/api/tile?seed=1", "preset"),
    ("/api/tile?preset=brush&seed=1&palette=plaid", "palette: unknown"),
    ("/api/tile?preset=brush&seed=1&inks=red", "inks"),
    ("/api/tile?preset=brush&seed=1&paper=%23zzzzzz", "paper"),
    ("/api/tile?preset=brush&seed=1&blend=add", "blend"),
    ("/api/tile?preset=brush&seed=1&inks=%23000000,%23ffffff", "layer"),
    ("/api/frame?preset=brush&keys=", "keys"),
    ("/api/frame?preset=brush&keys=1,2&t=nan", "t: give a number"),
    ("/api/frame?preset=brush&keys=1,2&t=2", "t: give a number"),
    ("/api/frame?preset=brush&keys=1,2&interp=wobble", "interp"),
    ("/api/frame?preset=brush&keys=" + ",".join(["1"] * 40), "keys"),
    ("/api/channel?preset=brush&seed=1&trials=1000", "trials"),
    ("/api/tile?preset=brush&seed=1&palette=" + "x" * 5000, "characters"),
])
def test_bad_parameters_are_a_400_with_one_line(client, query, says):
    r = client.get(query)
    assert r.status_code == 400, r.text
    assert says in r.text and r.text.count("\n") == 1 and "Traceback" not in r.text


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/%2e%2e/presets.py",
    "/static/index.html", "/static/app.js/../../draw.py", "/exports/../app.py",
    "/exports/..%2f..%2fpyproject.toml", "/exports/%2fetc%2fpasswd",
    "/exports/brush-sheet-0001.png",
    "/../../etc/passwd", "/api/tile/../../etc/passwd", "/static//etc/passwd",
    "/api/presets/..%2f..", "/exports/",
])
def test_path_traversal_reaches_nothing(client, path):
    r = client.get(path)
    assert r.status_code in (404, 405), (path, r.status_code)
    assert "import" not in r.text and "root:" not in r.text


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/../../presets.py",
                                  "/exports/../../../etc/passwd", "/static/./../view.py",
                                  "/exports/..\\app.py", "/static/app.js%00.py"])
def test_raw_dot_segments_reach_nothing(client, path):
    """Paths as a raw client sends them, not normalised as httpx does."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", f"127.0.0.1:{PORT}".encode())],
             "scheme": "http", "server": ("127.0.0.1", PORT), "root_path": "",
             "http_version": "1.1", "client": ("127.0.0.1", 5000)}
    asyncio.run(client.app(scope, receive, send))
    assert sent[0]["status"] == 404, path


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:9999", "127.0.0.1",
                                  "localhost.evil.example:8765", "", "127.0.0.1:8765.evil"])
def test_foreign_host_is_refused(client, host):
    r = client.get("/api/presets", headers={"host": host})
    assert r.status_code == 403 and "Host" in r.text


def test_localhost_names_are_allowed(client):
    for host in (f"localhost:{PORT}", f"127.0.0.1:{PORT}"):
        assert client.get("/api/presets", headers={"host": host}).status_code == 200


def test_cross_origin_post_is_refused(client, exports):
    body = {"preset": "brush", "kind": "sheet", "seeds": "1,2"}
    r = client.post("/api/export", json=body, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post("/api/export", content="preset=brush", headers={
        "content-type": "text/plain", "origin": BASE})
    assert r.status_code == 415
    assert not list(exports.iterdir())


def test_export_writes_only_server_named_files_under_the_folder(client, exports):
    for body, says in (({"preset": "brush", "kind": "../../x", "seeds": "1"}, "kind"),
                       ({"preset": "../brush", "kind": "sheet", "seeds": "1"}, "preset"),
                       ({"preset": "brush", "kind": "sheet", "seeds": "1",
                         "file": "../../evil.png"}, None),
                       ({"preset": "brush", "kind": "sheet"}, "seeds")):
        r = client.post("/api/export", json=body, headers={"origin": BASE})
        if says:
            assert r.status_code == 400 and says in r.text
        else:
            assert r.status_code == 200
            assert r.json()["file"].startswith("brush-sheet-") and "evil" not in r.text
    assert client.post("/api/export", content=b"{", headers={
        "content-type": "application/json"}).status_code == 400
    files = [p for p in exports.rglob("*") if p.is_file()]
    assert [p.parent for p in files] == [exports] and len(files) == 1
    name = files[0].name
    r = client.get(f"/exports/{name}")
    assert r.status_code == 200 and r.content == files[0].read_bytes()
    # a file the server did not write is not served, even inside the folder
    (exports / "planted.png").write_bytes(b"x")
    assert client.get("/exports/planted.png").status_code == 404
    (exports / "planted.png").unlink()


def test_export_command_remakes_the_same_file(client, exports):
    body = {"preset": "brush", "kind": "sheet", "seeds": "4,5,6", "palette": "rose"}
    r = client.post("/api/export", json=body).json()
    assert r["command"].startswith("glyphart render --preset brush --seeds 4-6 --palette rose")
    from PIL import Image
    with Image.open(exports / r["file"]) as im:
        meta = json.loads(im.text["glyphart"])
    assert "rose" in json.dumps(meta)


def test_websocket_draws_the_newest_request(client):
    from glyphart.explore import wire
    with client.websocket_connect("/ws", headers=HERE) as ws:
        for i in range(1, 6):  # sent faster than drawn: older ones may be dropped
            ws.send_json({"id": i, "preset": "brush", "keys": "1,2", "t": i / 10, "size": 96})
        ids = []
        while not ids or ids[-1] != 5:
            data = ws.receive_bytes()
            ids.append(struct.unpack(">I", data[:4])[0])
            # one ink: a colour table and one byte of coverage a pixel
            assert struct.unpack(">HHB", data[4:9]) == (96, 96, wire.TABLE)
            assert len(data) == wire.HEAD.size + 768 + 96 * 96
        assert ids == sorted(ids)
        ws.send_json({"id": 9, "preset": "brush", "keys": "1", "size": 5})
        assert "size" in json.loads(ws.receive_text())["error"]
        ws.send_text("not json")
        assert "JSON" in json.loads(ws.receive_text())["error"]


@pytest.mark.parametrize("paint, deflate", [({}, False), ({"palette": "rose"}, True)])
def test_a_websocket_frame_shows_exactly_the_full_render(client, paint, deflate):
    """What the page paints from a frame (table[coverage]) is the server's full-resolution
    render, byte for byte, and the same view in another paint reuses the drawn coverage."""
    import io

    import numpy as np
    from PIL import Image

    from glyphart.explore import wire
    from glyphart.explore.draw import path_point
    from glyphart.explore.view import PaintChoice
    from glyphart.latent import messages
    with client.websocket_connect("/ws", headers=HERE) as ws:
        ws.send_json({"id": 7, "preset": "brush", "keys": "3,8", "t": 0.3, "size": 200,
                      "deflate": deflate, **paint})
        data = ws.receive_bytes()
        request_id, shown = wire.unpack(data)
    assert data[8] == (wire.TABLE_DEFLATED if deflate else wire.TABLE)
    r = client.get(f"/api/frame?{P}&keys=3,8&t=0.3&size=200&" + "&".join(
        f"{k}={v}" for k, v in paint.items()))
    with Image.open(io.BytesIO(r.content)) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), shown)
    studio = client.app.state.studio
    assert request_id == 7 and ("brush", (3, 8), 0.3, "slerp", 200) in studio.views.items
    misses = studio.misses
    with client.websocket_connect("/ws", headers=HERE) as ws:  # another paint: not drawn again
        ws.send_json({"id": 8, "preset": "brush", "keys": "3,8", "t": 0.3, "size": 200,
                      "palette": "sepia"})
        assert wire.unpack(ws.receive_bytes())[0] == 8 and studio.misses == misses
    z = path_point(messages(studio.preset("brush"), [3, 8]), 0.3, "slerp")
    assert np.array_equal(studio.rgb(studio.preset("brush"), z[None], 200,
                                     PaintChoice(**paint))[0], shown)


@pytest.mark.parametrize("headers", [
    {"host": f"127.0.0.1:{PORT}", "origin": "http://evil.example"},
    {"host": f"127.0.0.1:{PORT}"},
    {"host": "evil.example:8765", "origin": "http://evil.example:8765"}])
def test_websocket_from_another_origin_is_refused(client, headers):
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers=headers) as ws:
            ws.receive_text()


def test_a_hundred_concurrent_requests_are_answered(exports):
    import httpx
    app = create_app(exports, port=PORT)

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            rs = await asyncio.gather(*[c.get(f"/api/tile?{P}&seed={i % 20}&size=32")
                                        for i in range(100)])
        return [r.status_code for r in rs]
    assert asyncio.run(main()) == [200] * 100
    app.state.studio.close()


def test_cli_explore_help_and_bad_port():
    from click.testing import CliRunner
    from glyphart.cli import main
    r = CliRunner().invoke(main, ["explore", "--help"])
    assert r.exit_code == 0 and "--no-open" in r.output and "--export-dir" in r.output
    r = CliRunner().invoke(main, ["explore", "--port", "70000"])
    assert r.exit_code == 2


def test_the_page_ships_in_the_wheel():
    from importlib import resources
    static = resources.files("glyphart.explore") / "static"
    assert {"index.html", "app.js", "style.css"} <= {p.name for p in static.iterdir()}


def test_a_large_glyph_drawn_in_row_bands_is_the_same_glyph(client):
    """Bands on two threads (draw.BAND_PX and up) give the bytes of one whole draw."""
    import torch

    from glyphart.explore.draw import BAND_PX, Studio
    from glyphart.latent import message
    studio = Studio(threads=2)
    try:
        preset = studio.preset("brush")
        z = message(preset.spec.model.message_size, 5)[None]
        with torch.no_grad():
            whole = preset.generator.logits(z, BAND_PX)
        assert torch.equal(studio.stroke_logits(preset.generator, z, BAND_PX), whole)
    finally:
        studio.close()


@pytest.mark.parametrize("preset, kind", [("color", 0), ("seed", 2)])
def test_other_presets_frames_show_exactly_the_full_render(client, preset, kind):
    """Several inks travel as RGB (kind 0); a raster preset's one ink as a colour table."""
    import io

    import numpy as np
    from PIL import Image

    from glyphart.explore import wire
    with client.websocket_connect("/ws", headers=HERE) as ws:
        ws.send_json({"id": 3, "preset": preset, "keys": "3,8", "t": 0.6, "size": 72,
                      "deflate": True})
        data = ws.receive_bytes()
    assert data[8] == kind
    r = client.get(f"/api/frame?preset={preset}&keys=3,8&t=0.6&size=72")
    with Image.open(io.BytesIO(r.content)) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), wire.unpack(data)[1])
