"""Stream frames into ffmpeg (imageio-ffmpeg's binary): VP9 WebM, H.264 MP4 or GIF.

Frames go into ffmpeg's pipe through a short queue (a feeder thread), so memory does not grow
with the video's length and generation (this process) overlaps encoding (ffmpeg's process).
The file is written under a temporary name and renamed at the end.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from ...atomic import atomic_path
from ...errors import GlyphartError

FORMATS = (".webm", ".mp4", ".gif")
MUXERS = {".webm": "webm", ".mp4": "mp4", ".gif": "gif"}


DEFAULT_SPEED = 5
QUEUED_FRAMES = 8  # frames waiting for the encoder, so generation runs on while it encodes


def encoder_settings(suffix: str, crf: int, speed: int = DEFAULT_SPEED) -> dict:
    """ffmpeg settings per container; DESIGN.md's VP9 settings for WebM.

    VP9 speed 0-4 uses libvpx's "good" deadline with -cpu-used = speed; 5-8 its "realtime"
    one. Measured on 120 hd-color 512 px frames at crf 30: good/4 took 4.8 CPU-s, realtime/5
    1.6 CPU-s (2.9x less) for a 21 % larger file at the same PSNR (26.1 dB)."""
    if suffix == ".webm":
        deadline = "good" if speed <= 4 else "realtime"
        return {"codec": "libvpx-vp9", "pix_fmt_out": "yuv420p",
                "output_params": ["-crf", str(crf), "-b:v", "0", "-row-mt", "1",
                                  "-deadline", deadline, "-cpu-used", str(speed)]}
    if suffix == ".mp4":
        return {"codec": "libx264", "pix_fmt_out": "yuv420p",
                "output_params": ["-crf", str(min(crf, 51)), "-preset", "medium",
                                  "-movflags", "+faststart"]}
    if suffix == ".gif":
        return {"codec": "gif", "pix_fmt_out": "rgb8",
                "output_params": ["-filter_complex",
                                  "split[a][b];[a]palettegen=stats_mode=full[p];"
                                  "[b][p]paletteuse=dither=sierra2_4a", "-loop", "0"]}
    raise GlyphartError(f"unsupported video format {suffix!r}; use one of {', '.join(FORMATS)}")


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as e:
        raise GlyphartError(f"no video encoder: ffmpeg not found ({e}); "
                            "reinstall with `pip install imageio-ffmpeg`") from None


def read_video_metadata(path: str | Path) -> dict:
    """The JSON parameters a glyphart video carries in its comment tag (empty if none)."""
    import json
    import re
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata",
                           "-"], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.lower().startswith("comment="):
            # ffmetadata escapes '=', ';', '#' and '\\' with a backslash.
            return json.loads(re.sub(r"\\(.)", r"\1", line.split("=", 1)[1]))
    return {}


class VideoWriter:
    """Write uint8 (H, W, 3) frames to `path`; the encoder starts with the first frame.

    ffmpeg writes to an exclusively created temporary file (see atomic.py) that replaces `path`
    only when ffmpeg exits cleanly: a full disk, a failing or killed encoder is an error and
    leaves any earlier video in place."""

    def __init__(self, path: str | Path, fps: int = 30, crf: int = 30,
                 speed: int = DEFAULT_SPEED, comment: str = ""):
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        self.settings = encoder_settings(self.suffix, crf, speed)
        self.fps, self.comment = fps, comment
        self.frames = 0
        self._process: subprocess.Popen | None = None
        self._queue: queue.Queue = queue.Queue(QUEUED_FRAMES)
        self._feeder: threading.Thread | None = None
        self._broken = False  # the feeder found the encoder's pipe closed
        self._stderr = None
        self._files = contextlib.ExitStack()
        self._tmp: Path | None = None

    def open(self) -> "VideoWriter":
        ffmpeg_exe()
        self._tmp = self._files.enter_context(atomic_path(self.path))
        return self

    def _start(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        params = list(self.settings["output_params"])
        if self.comment:
            params += ["-metadata", f"comment={self.comment}"]
        command = [ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(self.fps),
                   "-i", "-", "-an", "-c:v", self.settings["codec"],
                   "-pix_fmt", self.settings["pix_fmt_out"], *params,
                   "-f", MUXERS[self.suffix], str(self._tmp)]
        self._stderr = self._files.enter_context(tempfile.TemporaryFile())
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=self._stderr)
        self._feeder = threading.Thread(target=self._feed, name="ffmpeg-feed", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        """Hand queued frames to ffmpeg. A write into the pipe blocks until ffmpeg reads (its
        buffer holds less than a frame) but releases the GIL: generation goes on meanwhile,
        where writing from the generating thread would take turns with the encoder."""
        while (data := self._queue.get()) is not None:
            if not self._broken:
                try:
                    self._process.stdin.write(data)
                except (BrokenPipeError, OSError):
                    self._broken = True  # drain on, so write() never waits on a full queue

    def _end_feed(self) -> None:
        if self._feeder is not None:
            self._queue.put(None)
            self._feeder.join()
            self._feeder = None

    def write(self, frame: np.ndarray) -> None:
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        elif frame.shape[2] == 1:
            frame = np.repeat(frame, 3, axis=2)
        if self.suffix != ".gif" and (frame.shape[0] % 2 or frame.shape[1] % 2):
            # yuv420p needs even sides: pad by repeating the last row/column.
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)),
                           mode="edge")
        if self._process is None:
            self._start(frame)
        if self._broken:
            self._fail()
        self._queue.put(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        self.frames += 1

    def _finish_encoder(self) -> None:
        self._end_feed()
        if self._broken:
            self._fail()
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        if self._process.wait() != 0:
            self._fail()
        self._process = None

    def _stop_encoder(self) -> None:
        if self._process is not None:
            self._process.kill()  # no-op once it has exited
            self._end_feed()  # its writes fail now, and it drains the queue
            self._process.wait()

    def _fail(self):
        """The encoder died or refused: report its own words as one line."""
        self._stop_encoder()
        self._stderr.seek(0)
        words = " ".join(self._stderr.read().decode("utf-8", "replace").split())[-300:]
        raise GlyphartError(f"video encoder failed (ffmpeg exit {self._process.returncode}: "
                            f"{words or 'no message'}) writing {self.path}; nothing was written "
                            "there")

    def close(self, abort: bool = False) -> None:
        """Finish the file and rename it into place; with abort, discard it."""
        try:
            if abort:
                raise _Aborted()
            if self.frames == 0:
                raise GlyphartError(f"no frames to write to {self.path}")
            self._finish_encoder()
        except BaseException as e:
            self._stop_encoder()
            self._process = None
            self._files.__exit__(type(e), e, e.__traceback__)  # discards the temporary
            if not isinstance(e, _Aborted):
                raise
        else:
            self._files.close()  # renames the finished video into place

    def __enter__(self):
        return self.open()

    def __exit__(self, exc_type, exc, tb):
        self.close(abort=exc_type is not None)


class _Aborted(Exception):
    """Raised inside close(abort=True) so the temporary is discarded, then swallowed."""
