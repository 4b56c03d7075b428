"""A small progress bar on stderr: redrawn in place on a terminal, a line every few seconds in
a log file, silent when quiet."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, total: int, label: str = "", quiet: bool = False, unit: str = "it",
                 stream=None, start: int = 0, seconds: float | None = None):
        """`seconds`: a time budget that may end the work before `total` (training minutes);
        the bar and the remaining time then follow whichever ends first."""
        self.total, self.label, self.quiet, self.unit = max(int(total), 1), label, quiet, unit
        self.seconds = seconds if seconds and seconds < float("inf") else None
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.count = self.first = start
        self.started = time.perf_counter()
        self.last_draw = 0.0
        self.fields: dict[str, str] = {}

    def update(self, count: int | None = None, advance: int = 1, **fields) -> None:
        self.count = count if count is not None else self.count + advance
        self.fields.update({k: v if isinstance(v, str) else f"{v:.4g}" for k, v in fields.items()})
        now = time.perf_counter()
        if now - self.last_draw >= (0.2 if self.tty else 10.0) or self.count >= self.total:
            self.draw(now)

    def draw(self, now: float | None = None) -> None:
        if self.quiet:
            return
        now = now or time.perf_counter()
        self.last_draw = now
        elapsed = now - self.started
        done = self.count - self.first
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.count) / rate if rate > 0 else 0.0
        fraction = self.count / self.total
        counter = f"{self.count}/{self.total}"
        if self.seconds is not None and self.seconds - elapsed < eta:
            eta, fraction = self.seconds - elapsed, elapsed / self.seconds
            counter = f"{self.count}"
        width = 24
        filled = int(width * min(max(fraction, 0.0), 1.0))
        bar = "#" * filled + "-" * (width - filled)
        extras = "  ".join(f"{k} {v}" for k, v in self.fields.items())
        line = (f"{self.label} {counter} [{bar}] {extras}  "
                f"{rate:.3g} {self.unit}/s  {_clock(elapsed)}<{_clock(eta)}")
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.quiet:
            if self.last_draw < time.perf_counter() - 1e-3 and self.count < self.total:
                self.draw()
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
