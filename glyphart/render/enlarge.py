"""A raster glyph's logit field -> coverage at any size: ink, smooth or nearest enlarging.

`ink` enlarges the generator's logit field (the smooth field before the sigmoid) with a bicubic
filter and steepens the sigmoid so every edge is about one output pixel wide: glyphs stay crisp
at any size, the way signed-distance-field text does. `smooth` is a plain bicubic resize of the
image. Enlarging is separable (rows, then columns), so a band of output rows can be made
without the rest of the picture: posters use that to stay small in memory.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

STYLES = ("ink", "smooth", "nearest")


@lru_cache(maxsize=32)
def resize_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) weights of a bicubic (a = -0.75) resize, pixel centres aligned, edges
    clamped: the same filter as torch's bicubic interpolate with align_corners=False."""
    scale = n_in / n_out
    x = (torch.arange(n_out, dtype=torch.float64) + 0.5) * scale - 0.5
    base = torch.floor(x)
    w = torch.zeros(n_out, n_in, dtype=torch.float64)
    a = -0.75
    for k in range(-1, 3):
        idx = base + k
        d = (x - idx).abs()
        wk = torch.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                         torch.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a,
                                     torch.zeros_like(d)))
        w.index_put_((torch.arange(n_out), idx.clamp(0, n_in - 1).long()), wk, accumulate=True)
    return w.float()


def edge_sharpness(logits: torch.Tensor, factor: float) -> torch.Tensor:
    """Per-glyph gain on the logits so that edges span about one output pixel.

    The sigmoid rises from 0.12 to 0.88 over 4 logit units; at the glyph's typical edge slope g
    (logit units per native pixel), enlarging by `factor` spreads that over 4 * factor / g
    output pixels; a gain of 4 * factor / g brings that back to about one. Never below 1 (no
    blurring); capped where an edge is already a fraction of a pixel wide.
    """
    gy = logits[..., 1:, :-1] - logits[..., :-1, :-1]
    gx = logits[..., :-1, 1:] - logits[..., :-1, :-1]
    slope = (gx ** 2 + gy ** 2).sqrt()
    near_edge = logits[..., :-1, :-1].abs() < 3
    gains = []
    for s, m in zip(slope.flatten(1), near_edge.flatten(1)):
        g = s[m].median() if m.any() else torch.tensor(4.0)
        gains.append((4.0 * factor / g.clamp_min(1e-3)).clamp(min=1.0, max=4096.0))
    return torch.stack(gains).view(-1, 1, 1, 1)


def enlarge_rows(field: torch.Tensor, out_h: int, out_w: int, row0: int = 0,
                 row1: int | None = None) -> torch.Tensor:
    """Rows [row0, row1) of `field` (B, C, h, w) resized bicubically to (out_h, out_w)."""
    row1 = out_h if row1 is None else row1
    wy = resize_matrix(field.shape[-2], out_h)[row0:row1]
    wx = resize_matrix(field.shape[-1], out_w)
    return torch.einsum("yh,bchw,xw->bcyx", wy, field.float(), wx)


def draw(logits: torch.Tensor, px: int, style: str) -> torch.Tensor:
    """A logit field as images of px x px in the given style.

    In ink style edges are sharpened to about one output pixel at every size, so a small
    preview shows the same clean regions as a poster; smaller sizes are then area-averaged."""
    native = logits.shape[-1]
    if px > native:
        return enlarge(logits, px, px, style)
    if style == "ink":
        logits = logits * edge_sharpness(logits, px / native)
    images = torch.sigmoid(logits)
    if px == native:
        return images
    return F.interpolate(images, size=(px, px), mode="area").clamp(0, 1)


def enlarge(logits: torch.Tensor, out_h: int, out_w: int, style: str, row0: int = 0,
            row1: int | None = None, gain: torch.Tensor | None = None) -> torch.Tensor:
    """Enlarge a logit field to (out_h, out_w) in the given style; optionally only some rows."""
    row1 = out_h if row1 is None else row1
    if style == "nearest":
        ys = (torch.arange(row0, row1) * logits.shape[-2] // out_h)
        xs = (torch.arange(out_w) * logits.shape[-1] // out_w)
        return torch.sigmoid(logits[..., ys, :][..., xs])
    if style == "smooth":
        return enlarge_rows(torch.sigmoid(logits), out_h, out_w, row0, row1).clamp(0, 1)
    if gain is None:
        gain = edge_sharpness(logits, out_h / logits.shape[-2])
    return torch.sigmoid(enlarge_rows(logits, out_h, out_w, row0, row1) * gain)
