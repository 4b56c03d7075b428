"""The explorer in a real headless browser: the operating system's Chromium, driven by
Playwright through `executable_path` (no browser is downloaded). Where no browser can run the
tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from explore_server import browser_or_fail, running_server  # noqa: E402

# The mean colour and a position-weighted checksum of an <img>'s decoded pixels.
PIXELS = """(selector) => {
  const img = document.querySelector(selector);
  let c = img;
  if (img.tagName !== "CANVAS") {
    if (!img || !img.complete || !img.naturalWidth) return null;
    c = document.createElement("canvas"); c.width = img.naturalWidth; c.height = img.naturalHeight;
    c.getContext("2d").drawImage(img, 0, 0);
  }
  if (!c.width) return null;
  const g = c.getContext("2d");
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let r = 0, gr = 0, b = 0, sum = 0;
  for (let i = 0; i < d.length; i += 4) {
    r += d[i]; gr += d[i + 1]; b += d[i + 2];
    sum = (sum + d[i] * ((i >> 2) % 9973)) % 1000000007;
  }
  const n = d.length / 4;
  return {mean: [r / n, gr / n, b / n], sum, width: c.width};
}"""
# Bytes where the large view differs from /api/frame's PNG of the very request it shows.
DIFFERS_FROM_FULL_RENDER = """async () => {
  const s = window.glyphart.shown, p = new URLSearchParams();
  for (const k of ["preset", "keys", "t", "interp", "size", "palette", "inks", "paper", "blend"])
    if (s[k] !== undefined) p.set(k, s[k]);
  const img = new Image(); img.src = "/api/frame?" + p; await img.decode();
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext("2d").drawImage(img, 0, 0);
  const want = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const big = document.querySelector("#big");
  if (big.width !== c.width || big.height !== c.height) return -1;
  const got = big.getContext("2d").getImageData(0, 0, big.width, big.height).data;
  let differ = 0;
  for (let i = 0; i < got.length; i++) differ += got[i] !== want[i];
  return differ;
}"""
SETTLED = ("() => { const s = window.glyphart.shown; return s && !s.preview && "
           "s.size === bigSize() && document.querySelector('#big').width === bigSize(); }")
GRID_DECODED = """(count) => {
  const imgs = [...document.querySelectorAll('#grid img')].slice(0, count);
  return imgs.length === count && imgs.every((i) => i.complete && i.naturalWidth > 0);
}"""


@pytest.fixture(scope="module")
def chromium():
    yield from browser_or_fail()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    with running_server(folder) as (url, app):
        yield url, folder


def open_page(chromium, url, hash_="#preset=brush"):
    page = chromium.new_page(bypass_csp=True, viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + hash_)
    page.wait_for_function(GRID_DECODED, arg=12, timeout=60_000)
    page.wait_for_function("() => window.glyphart.frames > 0", timeout=60_000)
    return page, errors


def wait_changed(page, selector, before, timeout=30_000):
    page.wait_for_function(f"(b) => {{ const p = ({PIXELS})({json.dumps(selector)}); "
                           "return p && p.sum !== b; }", arg=before["sum"], timeout=timeout)
    return page.evaluate(PIXELS, selector)


def test_grid_large_view_slider_palette_reload_export(chromium, server):
    url, folder = server
    page, errors = open_page(chromium, url)
    # the grid's images are decoded, and a glyph opens in the large view
    first = page.evaluate(PIXELS, "#grid .tile[data-seed='0'] img")
    assert first and first["width"] == 128
    big = page.evaluate(PIXELS, "#big")
    page.click("#grid .tile[data-seed='3']")
    big = wait_changed(page, "#big", big)
    assert "seed=3" in page.evaluate("location.hash")
    # pick two glyphs for a walk and drag the slider: the image changes
    page.click("#grid .tile[data-seed='3']", modifiers=["Shift"])
    page.click("#grid .tile[data-seed='8']", modifiers=["Shift"])
    page.wait_for_function("() => !document.querySelector('#slider').disabled")
    box = page.locator("#slider").bounding_box()
    y = box["y"] + box["height"] / 2
    frames, full = page.evaluate("[window.glyphart.frames, window.glyphart.full]")
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * step * 0.05, y)
    page.mouse.up()
    page.wait_for_function("(n) => window.glyphart.frames > n", arg=frames)
    big = wait_changed(page, "#big", big)
    assert float(page.evaluate("document.querySelector('#slider').value")) > 0
    # previews while dragging; let go, the view is the exact full-size render
    page.wait_for_function(SETTLED)
    now, now_full = page.evaluate("[window.glyphart.frames, window.glyphart.full]")
    assert now - frames > now_full - full, "no preview frame was drawn during the drag"
    assert page.evaluate(DIFFERS_FROM_FULL_RENDER) == 0
    # another palette: the colours change on the grid and the large view
    page.select_option("#palette", "rose")
    page.wait_for_function(GRID_DECODED, arg=12)
    tile = wait_changed(page, "#grid .tile[data-seed='0'] img", first)
    assert max(abs(a - b) for a, b in zip(tile["mean"], first["mean"])) > 10
    wait_changed(page, "#big", big)
    page.wait_for_function(SETTLED)
    assert page.evaluate(DIFFERS_FROM_FULL_RENDER) == 0
    # reload: the same view
    state = page.evaluate("location.hash")
    shown = page.evaluate(PIXELS, "#big")
    page.reload()
    page.wait_for_function(GRID_DECODED, arg=12)
    page.wait_for_function("() => window.glyphart.frames > 0")
    assert page.evaluate("location.hash") == state
    assert page.input_value("#palette") == "rose"
    assert page.evaluate(PIXELS, "#big")["sum"] == shown["sum"]
    # export a sheet: the file is in the export folder with its metadata
    page.select_option("#kind", "sheet")
    page.click("#export")
    page.wait_for_function(
        "() => document.querySelector('#command').textContent.includes('glyphart')",
        timeout=120_000)
    command = page.text_content("#command")
    sheets = list(folder.glob("brush-sheet-*.png"))
    assert len(sheets) == 1 and sheets[0].name in command and "--palette rose" in command
    from PIL import Image
    with Image.open(sheets[0]) as im:
        meta = json.loads(im.text["glyphart"])
    assert "rose" in json.dumps(meta) and "3" in json.dumps(meta)
    assert not errors


# A frame asked over a websocket of its own, drawn by the page's decodeFrame: bytes that differ
# from /api/frame's PNG of the same request, and the frame's kind (wire.py).
FRAME_AGAINST_PNG = """async (request) => {
  const ws = new WebSocket(`ws://${location.host}/ws`); ws.binaryType = "arraybuffer";
  const data = await new Promise((ok) => {
    ws.onopen = () => ws.send(JSON.stringify({id: 1, deflate: INFLATES, ...request}));
    ws.onmessage = (e) => { ws.close(); ok(e.data); };
  });
  const got = (await decodeFrame(data)).data, p = new URLSearchParams(request);
  const img = new Image(); img.src = "/api/frame?" + p; await img.decode();
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext("2d").drawImage(img, 0, 0);
  const want = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let differ = got.length === want.length ? 0 : -1;
  for (let i = 0; differ >= 0 && i < got.length; i++) differ += got[i] !== want[i];
  return [new DataView(data).getUint8(8), differ];
}"""


@pytest.mark.parametrize("preset, palette, kind", [("color", "riso", 0), ("brush", "sepia", 2)])
def test_the_page_draws_every_kind_of_frame_exactly(chromium, server, preset, palette, kind):
    url, _ = server
    page, errors = open_page(chromium, url)
    request = {"preset": preset, "keys": "5,9", "t": 0.45, "size": 96, "palette": palette}
    assert page.evaluate(FRAME_AGAINST_PNG, request) == [kind, 0]
    assert not errors
