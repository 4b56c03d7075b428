"""The explorer's responsiveness in a real browser (the OS Chromium, headless): request to
decoded pixels, as the page sees it. Rows, with the issue's targets:

    tile 128 px      a fresh (uncached) grid tile: <img> created -> decoded     <= 50 ms
    view 1024 px     a fresh walk frame over the websocket: sent -> on a canvas  <= 150 ms
    slider drag      updated large-view frames per second while dragging        >= 15 fps
                     (previews of app.js's PREVIEW px, enlarged by the canvas): with
                     Playwright's mouse (its moves/s, 20-ish here, bound it), and with the
                     slider's input events sent from the page on every animation frame
    settle           the drag let go -> the full-size frame on the canvas       (no target)
    repaint 1024 px  the same view in another palette (the coverage is kept)    (no target)

    python bench/explore.py [--preset brush] [--json out.json] [--screenshots docs]

`--screenshots` also saves the explorer (explore.png) and a gallery of its exports
(gallery.png) into that folder, as the README shows them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from explore_server import browser, running_server  # noqa: E402

TILE_JS = """async ([preset, seeds]) => {
  const times = [];
  for (const seed of seeds) {
    const t0 = performance.now(), img = new Image();
    img.src = `/api/tile?preset=${preset}&seed=${seed}&size=128`;
    await img.decode();
    times.push(performance.now() - t0);
  }
  return times;
}"""
# Fresh walk frames (t moves); with `palettes`, one frame (t = 0.5) in each paint in turn.
VIEW_JS = """([preset, count, size, palettes]) => new Promise((resolve) => {
  const ws = new WebSocket(`ws://${location.host}/ws`); ws.binaryType = "arraybuffer";
  const times = []; let t0 = 0, i = 0;
  const ask = () => { t0 = performance.now(); i++;
    const m = {id: i, preset, keys: "11,12", t: palettes ? 0.5 : i / (count + 2), size,
               deflate: INFLATES};
    if (palettes) m.palette = palettes[i % palettes.length];
    ws.send(JSON.stringify(m)); };
  ws.onopen = ask;
  const canvas = document.createElement("canvas");
  ws.onmessage = async (e) => {  // the page's own drawing of a frame (app.js drawFrame)
    await drawFrame(e.data, canvas); times.push(performance.now() - t0);
    if (times.length < count) ask(); else { ws.close(); resolve(times); }
  };
})"""


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def row(name, values, unit, target=None, better="low"):
    median = statistics.median(values)
    ok = target is None or (median <= target if better == "low" else median >= target)
    return {"name": name, "median": round(median, 1), "p90": round(percentile(values, 0.9), 1),
            "unit": unit, "target": "-" if target is None else
            f"{'<=' if better == 'low' else '>='} {target}", "met": ok, "n": len(values)}


def drag_fps(page, seconds=3.0):
    page.click("#grid .tile[data-seed='21']", modifiers=["Shift"])
    page.click("#grid .tile[data-seed='22']", modifiers=["Shift"])
    page.wait_for_function("!document.querySelector('#slider').disabled")
    box = page.locator("#slider").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    frames0, asked0 = page.evaluate("[window.glyphart.frames, window.glyphart.requested]")
    t0, k = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        k += 1
        u = (k % 120) / 120  # back and forth along the slider
        # steps: several moves a call, nearer a real mouse's 60+ a second than one a call
        page.mouse.move(box["x"] + box["width"] * (u if (k // 120) % 2 == 0 else 1 - u), y,
                        steps=4)
    elapsed = time.perf_counter() - t0
    frames, asked = page.evaluate("[window.glyphart.frames, window.glyphart.requested]")
    fps, moves = (frames - frames0) / elapsed, (asked - asked0) / elapsed
    full, t1 = page.evaluate("window.glyphart.full"), time.perf_counter()
    page.mouse.up()
    page.wait_for_function("(n) => window.glyphart.full > n && "
                           "document.querySelector('#big').width === bigSize()", arg=full)
    settle = (time.perf_counter() - t1) * 1000
    return fps, moves, settle, page.evaluate("bigSize()"), page.evaluate("PREVIEW")


# A drag at the display's rate: the slider moved and its input event sent on every animation
# frame (about 60 a second, as a real mouse gives them), however slow Playwright's moves are.
PAGE_DRAG_JS = """(seconds) => new Promise((resolve) => {
  const slider = document.querySelector("#slider"), g = window.glyphart;
  const f0 = g.frames, a0 = g.requested, t0 = performance.now();
  const step = (now) => {
    const u = ((now - t0) / 1500) % 2;     // across and back every 3 s
    slider.value = Math.round(1000 * (u < 1 ? u : 2 - u));
    slider.dispatchEvent(new Event("input", {bubbles: true}));
    if (now - t0 < seconds * 1000) return requestAnimationFrame(step);
    const s = (performance.now() - t0) / 1000;
    slider.dispatchEvent(new Event("change", {bubbles: true}));
    resolve([(g.frames - f0) / s, (g.requested - a0) / s]);
  };
  requestAnimationFrame(step);
})"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="brush")
    parser.add_argument("--json")
    parser.add_argument("--screenshots")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as (url, app), \
            browser() as b:
        page = b.new_page(bypass_csp=True, viewport={"width": 1400, "height": 900})
        page.goto(f"{url}#preset={args.preset}")
        page.wait_for_function("window.glyphart.frames > 0", timeout=60_000)
        page.evaluate(TILE_JS, [args.preset, [900_000]])  # warm: the preset is loaded
        tiles = page.evaluate(TILE_JS, [args.preset, list(range(1_000_000, 1_000_040))])
        rows.append(row("tile 128 px, uncached", tiles, "ms", 50, "low"))
        views = page.evaluate(VIEW_JS, [args.preset, 20, 1024, None])
        rows.append(row("large view 1024 px, uncached", views, "ms", 150, "low"))
        palettes = ["", "rose", "sepia", "night", "gold"]
        page.evaluate(VIEW_JS, [args.preset, 1, 1024, palettes])  # drawn once
        repaints = page.evaluate(VIEW_JS, [args.preset, 20, 1024, palettes])
        rows.append(row("repaint 1024 px, another palette", repaints, "ms"))
        fps, moves, settle, size, preview = drag_fps(page)
        rows.append(row(f"slider drag, {preview} px previews ({moves:.0f} moves/s)", [fps],
                        "fps", 15, "high"))
        rows.append(row(f"settle, {size} px full frame", [settle], "ms"))
        fps, moves = page.evaluate(PAGE_DRAG_JS, 3.0)
        rows.append(row(f"slider drag in the page ({moves:.0f} moves/s)", [fps], "fps", 15,
                        "high"))
        if args.screenshots:
            screenshots(page, url, args.preset, Path(args.screenshots), app, b)
    for r in rows:
        print(f"{r['name']:42} median {r['median']:7} {r['unit']:3} p90 {r['p90']:7}  "
              f"target {r['target']:7} {'ok' if r['met'] else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


def screenshots(page, url, preset, folder: Path, app, b):
    folder.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}#preset={preset}&palette=rose&seed=21&keys=21,22,40&t=0.3")
    page.reload()
    page.wait_for_function("[...document.querySelectorAll('#grid img')].slice(0, 30).every("
                           "(i) => i.complete && i.naturalWidth > 0)", timeout=60_000)
    page.wait_for_function("window.glyphart.frames > 0")
    page.click("#channel-box summary")
    page.click("#channel")
    page.wait_for_function("document.querySelectorAll('#channel-out img').length > 0",
                           timeout=60_000)
    page.select_option("#kind", "sheet")
    page.click("#export")
    page.wait_for_function("document.querySelector('#command').textContent.length > 0",
                           timeout=120_000)
    page.screenshot(path=str(folder / "explore.png"))
    for kind in ("poster", "video", "font", "sheet-svg"):
        app.state.exports.export(preset, kind, [21, 22, 40, 41, 42, 43],
                                 _paint("rose"))
    from glyphart.explore.gallery import write_gallery
    index = write_gallery(app.state.exports.folder)
    gallery = b.new_page(viewport={"width": 1400, "height": 900})
    gallery.goto(index.as_uri())
    gallery.wait_for_function("[...document.querySelectorAll('figure img')].every("
                              "(i) => i.complete && i.naturalWidth > 0)", timeout=30_000)
    gallery.screenshot(path=str(folder / "gallery.png"))


def _paint(palette):
    from glyphart.explore.view import PaintChoice
    return PaintChoice(palette=palette)


if __name__ == "__main__":
    main()
