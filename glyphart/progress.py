"""Progress on stderr with tqdm: redrawn in place on a terminal, one plain line every few
seconds in a log file, silent when quiet."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

LOG_INTERVAL = 10.0  # seconds between lines when stderr is not a terminal


class _Lines:
    """A stream for tqdm that turns its in-place redraws into whole lines (for log files)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").replace("\x1b[A", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


class Progress:
    """A progress bar over `total` items. `seconds`: a time budget that may end the work before
    `total` (training minutes); the bar's total then follows whichever ends first."""

    def __init__(self, total: int, label: str = "", quiet: bool = False, unit: str = "it",
                 stream=None, start: int = 0, seconds: float | None = None):
        stream = stream or sys.stderr
        tty = hasattr(stream, "isatty") and stream.isatty()
        self.total = max(int(total), 1)
        self.seconds = seconds if seconds and seconds < float("inf") else None
        self.first, self.started = start, time.perf_counter()
        # With a time budget the total is unknown until the first steps give a rate.
        self.bar = tqdm(total=None if self.seconds else self.total, desc=label, unit=unit,
                        initial=start, disable=quiet, file=stream if tty else _Lines(stream),
                        dynamic_ncols=tty, mininterval=0.2 if tty else LOG_INTERVAL, leave=True)

    @property
    def count(self) -> int:
        return self.bar.n

    def update(self, count: int | None = None, advance: int = 1, **fields) -> None:
        if self.bar.disable:
            return
        count = count if count is not None else self.bar.n + advance
        if self.seconds is not None:
            self._follow_budget(count)
        if fields:
            self.bar.set_postfix({k: v if isinstance(v, str) else f"{v:.4g}"
                                  for k, v in fields.items()}, refresh=False)
        self.bar.update(count - self.bar.n)

    def _follow_budget(self, count: int) -> None:
        """Project where the time budget ends the work, so the bar fills when time is up."""
        elapsed = time.perf_counter() - self.started
        done = count - self.first
        if done > 0 and elapsed > 1:
            projected = count + done / elapsed * max(self.seconds - elapsed, 0)
            self.bar.total = max(count, min(self.total, int(projected)))

    def close(self) -> None:
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
