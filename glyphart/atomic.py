"""Write files so that a crash never leaves a half-written file under the final name.

Everything is written to a temporary file in the destination folder and renamed over the
target at the end (rename is atomic on one filesystem); on failure the temporary is removed
and an existing file at the destination is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import GlyphartError


def prepare_destination(path: str | Path) -> Path:
    """Create the parent folder and check it is writable, with a one-line error if not."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise GlyphartError(f"{path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GlyphartError(f"cannot create folder {path.parent}: {e.strerror}") from None
    if not os.access(path.parent, os.W_OK):
        raise GlyphartError(f"cannot write to {path.parent}: permission denied "
                            "(choose another output path)")
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); rename it onto `path` on success."""
    path = prepare_destination(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}",
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
