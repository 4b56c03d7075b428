"""The websocket's frame format: what the large view's pixels travel as.

    >IHHB      id, width, height, kind (big-endian), then
    kind 1     a 256-entry colour table (256 x RGB) and one byte of coverage per pixel: a
               one-ink glyph's colours are table[coverage], so the page paints it with a lookup
               (a third of RGB's bytes, and no compositing on the server)
    kind 2     as kind 1, the coverage zlib-compressed (level 1) for a page that can inflate
               it (DecompressionStream): a glyph is mostly paper and solid ink, so 1 MB of
               coverage at 1024 px is about 30 kB, for 3 ms here
    kind 0     RGB rows, for glyphs of several inks

app.js (drawFrame) reads it; `unpack` here is the same reading, for tests.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

HEAD = struct.Struct(">IHHB")
RGB, TABLE, TABLE_DEFLATED = 0, 1, 2


def pack_table(request_id: int, table: np.ndarray, levels: np.ndarray,
               deflate: bool = False) -> bytes:
    """table (256, 3) uint8, levels (H, W) uint8 -> one frame."""
    h, w = levels.shape
    body = zlib.compress(levels.tobytes(), 1) if deflate else levels.tobytes()
    return HEAD.pack(request_id, w, h, TABLE_DEFLATED if deflate else TABLE) + \
        table.tobytes() + body


def pack_rgb(request_id: int, rgb: np.ndarray) -> bytes:
    """rgb (H, W, 3) uint8 -> one frame."""
    h, w, _ = rgb.shape
    return HEAD.pack(request_id, w, h, RGB) + rgb.tobytes()


def unpack(data: bytes) -> tuple[int, np.ndarray]:
    """A frame -> (id, (H, W, 3) uint8), the pixels the page shows."""
    request_id, w, h, kind = HEAD.unpack_from(data)
    body = np.frombuffer(data, np.uint8, offset=HEAD.size)
    if kind in (TABLE, TABLE_DEFLATED):
        table, levels = body[:768].reshape(256, 3), body[768:]
        if kind == TABLE_DEFLATED:
            levels = np.frombuffer(zlib.decompress(levels.tobytes()), np.uint8)
        return request_id, table[levels.reshape(h, w)]
    return request_id, body.reshape(h, w, 3)
