"""PNG output: streamed band by band, with DPI and text metadata, written atomically.

The writer takes the picture a band of rows at a time and compresses as it goes, so a
16384 x 16384 poster never exists whole in memory. zlib at a fixed level is deterministic:
the same bands give byte-identical files.
"""

from __future__ import annotations

import contextlib
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Iterable

import numpy as np

from ...atomic import atomic_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _text_chunk(key: str, value: str) -> bytes:
    # iTXt: UTF-8 text, uncompressed (readable by PIL as .text / .info).
    return _chunk(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"))


class PngStream:
    """A PNG written band by band as its rows arrive: uint8 bands (h, width, 3), or (h, width)
    with `gray` (8-bit grayscale). Several can be open at once, so that one pass over a
    poster's glyphs feeds a composite and its masters. Atomic: the file appears whole when the
    block ends, or not at all."""

    def __init__(self, path: str | Path, width: int, height: int, gray: bool = False,
                 dpi: float | None = None, text: dict[str, str] | None = None, level: int = 6):
        self.path, self.width, self.height = Path(path), width, height
        self.channels = 1 if gray else 3
        self.dpi, self.text, self.level = dpi, text or {}, level

    def __enter__(self) -> "PngStream":
        self._stack = contextlib.ExitStack()
        with self._stack:  # closed again at once if the header cannot be written
            self._file = self._stack.enter_context(
                open(self._stack.enter_context(atomic_path(self.path)), "wb"))
            self._header()
            self._stack = self._stack.pop_all()
        self._compressor = zlib.compressobj(self.level)
        self._rows = 0
        self._pending = bytearray()
        self._previous = np.zeros((1, self.width * self.channels), np.uint8)  # above row 0
        return self

    def _header(self) -> None:
        colour_type = 0 if self.channels == 1 else 2
        self._file.write(PNG_SIGNATURE)
        self._file.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8,
                                                     colour_type, 0, 0, 0)))
        if self.dpi:
            ppm = round(self.dpi / 0.0254)
            self._file.write(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        for key, value in self.text.items():
            self._file.write(_text_chunk(key, value))

    def write(self, band: np.ndarray) -> None:
        band = np.ascontiguousarray(band, dtype=np.uint8)
        shape = (self.width,) if self.channels == 1 else (self.width, 3)
        if band.ndim != 1 + len(shape) or band.shape[1:] != shape:
            raise ValueError(f"band of shape {band.shape} does not fit width {self.width}")
        flat = band.reshape(band.shape[0], -1)
        self._pending += self._compressor.compress(
            _filter_rows(flat, self._previous, self.channels).tobytes())
        self._previous = flat[-1:]
        self._rows += band.shape[0]
        if len(self._pending) > 1 << 20:
            self._file.write(_chunk(b"IDAT", bytes(self._pending)))
            self._pending.clear()

    def _finish(self) -> None:
        if self._rows != self.height:
            raise ValueError(f"bands gave {self._rows} rows, expected {self.height}")
        self._pending += self._compressor.flush()
        self._file.write(_chunk(b"IDAT", bytes(self._pending)))
        self._file.write(_chunk(b"IEND", b""))

    def __exit__(self, kind, error, trace) -> bool:
        try:
            if kind is None:
                self._finish()
        except BaseException:  # the temporary goes, the error stays
            if not self._stack.__exit__(*sys.exc_info()):
                raise
            return False
        return self._stack.__exit__(kind, error, trace)


def write_png(path: str | Path, width: int, height: int, bands: Iterable[np.ndarray],
              dpi: float | None = None, text: dict[str, str] | None = None,
              level: int = 6, gray: bool = False) -> Path:
    """Write an RGB PNG (or an 8-bit grayscale one, with `gray`) from bands of uint8 rows
    adding up to `height`."""
    with PngStream(path, width, height, gray, dpi, text, level) as png:
        for band in bands:
            png.write(band)
    return Path(path)


def _filter_rows(flat: np.ndarray, previous: np.ndarray, bpp: int = 3) -> np.ndarray:
    """PNG-filter each row with Sub (minus the pixel to the left) or Up (minus the pixel
    above), whichever leaves smaller residues (the usual minimum-sum heuristic): flat regions
    and smooth gradients become runs of small bytes, which deflate well."""
    sub = np.empty_like(flat)
    sub[:, :bpp] = flat[:, :bpp]
    np.subtract(flat[:, bpp:], flat[:, :-bpp], out=sub[:, bpp:])
    above = np.concatenate([previous, flat[:-1]])
    up = flat - above

    def cost(residues):
        return np.minimum(residues, 256 - residues.astype(np.int32)).sum(axis=1)
    use_up = cost(up) < cost(sub)
    framed = np.empty((flat.shape[0], 1 + flat.shape[1]), np.uint8)
    framed[:, 0] = np.where(use_up, 2, 1)
    framed[:, 1:] = np.where(use_up[:, None], up, sub)
    return framed


def write_image(path: str | Path, image: np.ndarray, dpi: float | None = None,
                text: dict[str, str] | None = None) -> Path:
    """Write a whole uint8 image: (H, W, 3) colour or (H, W) grayscale."""
    return write_png(path, image.shape[1], image.shape[0], [image], dpi=dpi, text=text,
                     gray=image.ndim == 2)


def png_is_complete(path: str | Path) -> bool:
    """True when the file is a PNG whose chunks all check out (CRC) up to its IEND chunk."""
    try:
        with open(path, "rb") as f:
            if f.read(8) != PNG_SIGNATURE:
                return False
            while True:
                head = f.read(8)
                if len(head) < 8:
                    return False
                length, kind = struct.unpack(">I", head[:4])[0], head[4:]
                data, crc = f.read(length), f.read(4)
                if len(data) < length or len(crc) < 4 or \
                        struct.unpack(">I", crc)[0] != zlib.crc32(kind + data) & 0xFFFFFFFF:
                    return False
                if kind == b"IEND":
                    return True
    except OSError:
        return False


def read_metadata(path: str | Path) -> dict:
    """The JSON parameters a glyphart PNG carries (empty if none)."""
    from PIL import Image
    with Image.open(path) as im:
        raw = im.info.get("glyphart") or getattr(im, "text", {}).get("glyphart")
    return json.loads(raw) if raw else {}
