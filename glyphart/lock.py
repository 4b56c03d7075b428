"""One training per preset at a time: an advisory lock (flock) on a hidden file beside the
preset. The kernel drops the lock when its process ends, so a killed run never leaves it stuck."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from .errors import GlyphartError


@contextlib.contextmanager
def exclusive_lock(target: Path, what: str) -> Iterator[None]:
    """Hold `.NAME.lock` beside `target` for the block; refuse if another process holds it."""
    lock = target.with_name(f".{target.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise GlyphartError(f"{what} is already running (process {holder}); wait for it to "
                                "finish, or work on a copy (`glyphart preset new`)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
