"""Coverage -> colour: inks laid on paper (inks.py's Paint), as uint8 pixels or as the fills
a vector viewer composites the same way."""

from __future__ import annotations

import numpy as np
import torch

from ..inks import Paint, make_paint

CHALK = make_paint(1, "chalk")  # white on black: training videos and plain previews


def to_rgb8(images: torch.Tensor, paint: Paint = CHALK) -> np.ndarray:
    """(B, layers, H, W) coverage in [0, 1] -> (B, H, W, 3) uint8, inks laid on paper."""
    return paint.to_rgb8(images)


def gap_shade(paint: Paint, amount: float = 0.16) -> tuple[int, int, int]:
    """A colour a little towards the first ink from the paper: gaps that frame glyphs
    without shouting."""
    return tuple(round(b + (f - b) * amount)  # type: ignore[return-value]
                 for f, b in zip(paint.fg, paint.paper))


def ink_fills(paint: Paint) -> list[tuple[str, str]]:
    """(fill colour, CSS blend mode) of each layer, so that a viewer composites the layers
    exactly as the raster renderer does: under multiply an ink filters the paper by
    ink / paper (one ink alone shows exactly its colour), under over it covers what is below."""
    fills = []
    for ink in paint.inks:
        if paint.blend == "multiply":
            ink = tuple(min(255, round(255 * c / max(p, 1))) for c, p in zip(ink, paint.paper))
        fills.append((hex_colour(ink), "multiply" if paint.blend == "multiply" else "normal"))
    return fills


def hex_colour(rgb) -> str:
    """(r, g, b) -> '#rrggbb'."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)
