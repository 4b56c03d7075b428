"""One training per preset at a time: an advisory lock (flock) on a hidden file beside the
preset. The kernel drops the lock when its process ends, so a killed run never leaves it stuck;
a finished run removes the file."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from .errors import GlyphartError


def _open_locked(lock: Path, what: str) -> int:
    """Open and lock `lock`; retry if a finishing holder removed the file meanwhile."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise GlyphartError(f"{what} is already running (process {holder}); wait for it to "
                                "finish, or work on a copy (`glyphart preset new`)") from None
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # we locked a file its holder had just removed: take the new one


@contextlib.contextmanager
def exclusive_lock(target: Path, what: str) -> Iterator[None]:
    """Hold `.NAME.lock` beside `target` for the block; refuse if another process holds it."""
    lock = target.with_name(f".{target.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_locked(lock, what)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # while still locked: a waiting opener notices and retries
        os.close(fd)
