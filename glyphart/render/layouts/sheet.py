"""A glyph sheet: a grid of glyphs at one pixel size, an optional label strip under each row."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import GlyphartError
from .grid import Cell, grid_shape, pixel_grid

MAX_SHEET_PIXELS = 20000 * 20000


@dataclass
class SheetLayout:
    cells: list[Cell]
    width: int
    height: int
    cols: int
    glyph_px: int
    gap: int


def sheet_layout(n: int, cols: int | None, glyph_px: int, gap: int,
                 check_pixels: bool = False
                 ) -> SheetLayout:
    """n glyphs of glyph_px in `cols` columns (default about a square). `check_pixels`
    refuses a picture past MAX_SHEET_PIXELS (a PNG's pixels are all drawn at once)."""
    if n == 0:
        raise GlyphartError("no glyphs to draw: the seed list is empty")
    rows, cols = grid_shape(n, cols)
    if check_pixels and (glyph_px + gap) ** 2 * rows * cols > MAX_SHEET_PIXELS:
        raise GlyphartError("sheet too large; use fewer seeds or a smaller --glyph-px")
    cells, width, height = pixel_grid(n, cols, glyph_px, gap)
    return SheetLayout(cells, width, height, cols, glyph_px, gap)


def label_px(glyph_px: int) -> int:
    """The height of the strip of seed numbers under each row of glyphs."""
    return max(10, min(24, glyph_px // 6))
