"""A real explorer server in a thread, and the operating system's Chromium, for browser tests
and the explorer's bench rows. The browser is the one `apt-get install chromium` puts there;
nothing is downloaded."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# The binary, not the /usr/bin shell wrapper (Debian's wrapper adds flags and a profile dance).
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser",
              "/usr/lib64/chromium-browser/chromium-browser",
              "/snap/chromium/current/usr/lib/chromium-browser/chrome")


def chromium() -> str | None:
    if os.environ.get("GLYPHART_CHROMIUM"):
        return os.environ["GLYPHART_CHROMIUM"]
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(export_dir: Path, preset: str = "brush", threads: int = 2):
    """Yield (base url, app) of an explorer served by uvicorn on a free port."""
    import uvicorn
    from glyphart.explore.app import create_app
    from glyphart.explore.serve import config
    port = free_port()
    app = create_app(export_dir, port=port, threads=threads, preset=preset)
    server = uvicorn.Server(config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the explorer did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/", app
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def browser():
    """A Playwright Chromium: the OS's, through executable_path."""
    from playwright.sync_api import sync_playwright
    path = chromium()
    if not path:
        raise RuntimeError("no Chromium: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def browser_or_fail():
    """A fixture's body: the OS's Chromium, or a skip where none can start, but a failure
    under CI=true, where the browser tests must run."""
    import pytest
    try:
        with browser() as b:
            yield b
    except Exception as e:  # noqa: BLE001 - any reason a browser cannot start
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {e}")
        pytest.skip(f"no browser here: {e}")
