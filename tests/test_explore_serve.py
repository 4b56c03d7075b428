"""The explorer as a real server: a client that leaves mid-render costs nothing (the next one is
served), and `glyphart explore` stopped by Ctrl-C or SIGTERM exits as the rest of the CLI does."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import default_sigint  # noqa: E402
from explore_server import free_port, running_server  # noqa: E402

FRAME = {"preset": "brush", "keys": "1,2", "t": 0.4, "size": 1024}  # long enough to leave in


class Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_a_client_that_leaves_mid_render_leaves_the_server_healthy(tmp_path):
    from websockets.sync.client import connect

    from glyphart.explore import wire
    collected = Collected()
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "asyncio")]
    for logger in loggers:
        logger.addHandler(collected)
    try:
        with running_server(tmp_path) as (url, app):
            origin, host = url.rstrip("/"), url.removeprefix("http://").rstrip("/")
            for i in range(3):  # websockets that ask for a large frame and hang up
                with connect(f"ws://{host}/ws", origin=origin) as ws:
                    ws.send(json.dumps({"id": i, **FRAME, "t": 0.1 * (i + 1)}))
            with socket.create_connection(("127.0.0.1", int(host.split(":")[1]))) as s:
                s.sendall(f"GET /api/frame?preset=brush&keys=3,4&t=0.2&size=1024 HTTP/1.1\r\n"
                          f"Host: {host}\r\n\r\n".encode())  # and an HTTP one
            with connect(f"ws://{host}/ws", origin=origin) as ws:  # the next client is served
                ws.send(json.dumps({"id": 7, **FRAME, "size": 64}))
                request_id, pixels = wire.unpack(ws.recv(timeout=60))
            assert request_id == 7 and pixels.shape == (64, 64, 3)
            with urllib.request.urlopen(f"{url}api/tile?preset=brush&seed=3&size=64",
                                        timeout=60) as r:
                assert r.status == 200 and r.read()[:4] == b"\x89PNG"
            time.sleep(0.5)  # what the hung-up clients left finishes and is dropped
    finally:
        for logger in loggers:
            logger.removeHandler(collected)
    assert not [r.getMessage() for r in collected.records]


@pytest.mark.parametrize("signum, code, said", [(signal.SIGTERM, 143, "terminated"),
                                                (signal.SIGINT, 130, "interrupted")])
def test_a_signal_stops_explore_cleanly(tmp_path, signum, code, said):
    from websockets.sync.client import connect
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "glyphart", "explore", "--no-open", "-q",
                             "--port", str(port), "--export-dir", str(tmp_path / "exports")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, preexec_fn=default_sigint)
    try:
        deadline = time.time() + 120
        while True:  # up when the page is served
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
                time.sleep(0.2)
        # a browser's socket still open, a frame on its way
        with connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}") as ws:
            ws.send(json.dumps({"id": 1, **FRAME}))
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code, err
    assert err.strip() == said and out == ""
