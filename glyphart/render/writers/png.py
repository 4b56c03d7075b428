"""PNG output: streamed band by band, with DPI and text metadata, written atomically.

The writer takes the picture a band of rows at a time and compresses as it goes, so a
16384 x 16384 poster never exists whole in memory. zlib at a fixed level is deterministic:
the same bands give byte-identical files.
"""

from __future__ import annotations

import json
import struct
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


def write_png(path: str | Path, width: int, height: int, bands: Iterable[np.ndarray],
              dpi: float | None = None, text: dict[str, str] | None = None,
              level: int = 6) -> Path:
    """Write an RGB PNG from bands of uint8 rows (h_i, width, 3) adding up to `height`."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(PNG_SIGNATURE)
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        if dpi:
            ppm = round(dpi / 0.0254)
            f.write(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        for key, value in (text or {}).items():
            f.write(_text_chunk(key, value))
        compressor = zlib.compressobj(level)
        rows = 0
        pending = bytearray()
        previous = np.zeros((1, width * 3), np.uint8)  # the row above the first band
        for band in bands:
            band = np.ascontiguousarray(band, dtype=np.uint8)
            if band.ndim != 3 or band.shape[1] != width or band.shape[2] != 3:
                raise ValueError(f"band of shape {band.shape} does not fit width {width}")
            flat = band.reshape(band.shape[0], -1)
            pending += compressor.compress(_filter_rows(flat, previous).tobytes())
            previous = flat[-1:]
            rows += band.shape[0]
            if len(pending) > 1 << 20:
                f.write(_chunk(b"IDAT", bytes(pending)))
                pending.clear()
        if rows != height:
            raise ValueError(f"bands gave {rows} rows, expected {height}")
        pending += compressor.flush()
        f.write(_chunk(b"IDAT", bytes(pending)))
        f.write(_chunk(b"IEND", b""))
    return path


def _filter_rows(flat: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """PNG-filter each row with Sub (minus the pixel to the left) or Up (minus the pixel
    above), whichever leaves smaller residues (the usual minimum-sum heuristic): flat regions
    and smooth gradients become runs of small bytes, which deflate well."""
    sub = np.empty_like(flat)
    sub[:, :3] = flat[:, :3]
    np.subtract(flat[:, 3:], flat[:, :-3], out=sub[:, 3:])
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
    """Write a whole uint8 (H, W, 3) image."""
    return write_png(path, image.shape[1], image.shape[0], [image], dpi=dpi, text=text)


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
