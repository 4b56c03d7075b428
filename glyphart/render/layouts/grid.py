"""Rows and columns of square cells with gaps: the measure sheets and video frames share."""

from __future__ import annotations

import math

from ...errors import GlyphartError
from ...parse import integer, shown

MAX_GRID_SIDE = 10_000  # rows or columns; a sheet or poster of more has sub-pixel glyphs

Cell = tuple[int, int, int]  # (x, y, side) of a glyph's square, in the picture's pixels


def parse_grid(text: str | None) -> tuple[int, int] | None:
    """'8x8' -> (rows, cols)."""
    if not text:
        return None
    sides = text.lower().split("x")
    if len(sides) != 2:
        raise GlyphartError(f"bad grid {shown(text)}: use ROWSxCOLS, e.g. 8x8")
    rows, cols = (integer(side, 1, MAX_GRID_SIDE, f"bad grid {shown(text)}: side")
                  for side in sides)
    return rows, cols


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """(rows, cols) for n glyphs: `cols` columns, or about a square."""
    cols = cols or max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def pixel_grid(n: int, cols: int | None, side: int, gap: int
               ) -> tuple[list[Cell], int, int]:
    """n cells of side px in rows of `cols`, `gap` px between them and around them:
    (cells, width, height)."""
    rows, cols = grid_shape(n, cols)
    cells = [(gap + (i % cols) * (side + gap), gap + (i // cols) * (side + gap), side)
             for i in range(n)]
    return cells, cols * side + (cols + 1) * gap, rows * side + (rows + 1) * gap
