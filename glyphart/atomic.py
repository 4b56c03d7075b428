"""Write files so that nothing is ever lost or half-written.

Everything is written to a temporary file created exclusively (O_EXCL, unpredictable name, so a
planted symlink is never followed) in the destination folder, flushed to disk, and renamed over
the target at the end (rename is atomic on one filesystem). A failure (a full disk, a failing
encoder) is a one-line error, the temporary is removed and an existing file at the destination
is untouched. Ctrl-C and SIGTERM unwind the same way (`terminate_like_interrupt`, which every
command runs under). Temporaries left by a killed run (SIGKILL) are removed by the next write
to that destination.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from .errors import GlyphartError


def prepare_destination(path: str | Path) -> Path:
    """Create the parent folder and check the destination can be replaced by a file."""
    path = Path(path)
    if path.is_dir():
        raise GlyphartError(f"{path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise GlyphartError(f"{path} exists and is not a regular file (a device, FIFO or "
                            "socket); give another output path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GlyphartError(f"cannot create folder {path.parent}: {e.strerror}") from None
    if not os.access(path.parent, os.W_OK):
        raise GlyphartError(f"cannot write to {path.parent}: permission denied "
                            "(choose another output path)")
    return path


def _temporary_prefix(path: Path) -> str:
    return f".{path.stem}.{os.getpid()}-"


def _temporary_suffix(path: Path) -> str:
    return f".part{path.suffix}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_leftovers(path: Path) -> list[Path]:
    """Remove temporaries of `path` whose writing process is gone (a killed render)."""
    removed = []
    head, tail = f".{path.stem}.", _temporary_suffix(path)
    for candidate in path.parent.glob(f"{glob.escape(head)}*{glob.escape(tail)}"):
        pid_text = candidate.name[len(head):-len(tail)].split("-", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISREG(candidate.lstat().st_mode) or candidate.is_symlink():
                candidate.unlink()  # unlink never follows a symlink
                removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a fresh, exclusively created temporary path beside `path` (same suffix); when the
    block succeeds, flush it to disk and rename it onto `path`."""
    path = prepare_destination(path)
    remove_leftovers(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=_temporary_suffix(path),
                                   dir=path.parent)
    except OSError as e:
        raise GlyphartError(f"cannot write {path}: {e.strerror}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except OSError as e:
        _discard(tmp_path)
        reason = e.strerror or str(e)
        raise GlyphartError(f"cannot write {path}: {reason}; nothing was written there") from None
    except BaseException:
        _discard(tmp_path)
        raise


def _discard(tmp_path: Path) -> None:
    with contextlib.suppress(OSError):
        tmp_path.unlink()


def keep_numbered_backup(path: Path) -> Path | None:
    """Keep an existing `path` as `path.~N~` (N one past the highest there, as GNU `cp
    --backup=numbered` names them), a hard link, so the next atomic write can replace `path`;
    returns the backup's path, or None if there was nothing to keep."""
    if not path.is_file():
        return None
    taken = [int(m.group(1)) for p in path.parent.glob(f"{glob.escape(path.name)}.~*~")
             if (m := re.fullmatch(re.escape(path.name) + r"\.~(\d+)~", p.name))]
    backup = path.with_name(f"{path.name}.~{max(taken, default=0) + 1}~")
    os.link(path, backup)  # fails rather than replace anything
    return backup


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C raises KeyboardInterrupt: whatever cleans up after Ctrl-C
    (atomic_path's temporaries, a video's encoder, a training's checkpoint) does so here too."""

    exit_code = 128 + signal.SIGTERM


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises Terminated in the main thread instead of ending the
    process where it stands, so no temporary is left beside an output. Python delivers signals
    to the main thread only: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
