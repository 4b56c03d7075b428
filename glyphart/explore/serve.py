"""Run the explorer: uvicorn on 127.0.0.1 (another address only when asked, with a warning)."""

from __future__ import annotations

import sys
import threading
import webbrowser

from ..errors import GlyphartError

LOCAL = ("127.0.0.1", "localhost", "::1")


def config(app, host: str, port: int):
    """uvicorn's settings, as the command and the browser tests serve the app."""
    import uvicorn
    # No permessage-deflate: frames are raw pixels on a local link; compressing them costs
    # more CPU than the bytes cost time.
    return uvicorn.Config(app, host=host, port=port, log_level="warning", ws="websockets-sansio",
                          ws_per_message_deflate=False, lifespan="on",
                          timeout_graceful_shutdown=2)


def serve(*, preset: str = "", host: str = "127.0.0.1", port: int = 8765,
          export_dir: str = "outputs/explore", open_browser: bool = True, threads: int = 2,
          device: str = "cpu", say=print) -> None:
    import uvicorn
    from .app import create_app
    if host not in LOCAL:  # said even when quiet: on stderr
        print(f"warning: serving on {host}: anyone who can reach this address can use the "
              "explorer and write exports; use the default 127.0.0.1 unless you mean it",
              file=sys.stderr)
    app = create_app(export_dir, host=host, port=port, threads=threads, preset=preset,
                     device=device)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/" + \
        (f"#preset={preset}" if preset else "")
    server = uvicorn.Server(config(app, host, port))
    say(f"glyphart explore: {url}  (exports go to {app.state.exports.folder}; Ctrl-C stops)")
    if open_browser:
        threading.Timer(0.8, webbrowser.open, (url,)).start()
    try:
        server.run()
    except OSError as e:
        raise GlyphartError(f"cannot serve on {host}:{port}: {e.strerror or e}; "
                            "pick another --port") from None
    if getattr(server, "started", True) is False:
        raise GlyphartError(f"cannot serve on {host}:{port}; pick another --port")
