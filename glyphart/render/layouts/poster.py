"""Poster pages: a print page at its dpi, the glyphs in a grid or one of them large (hero)."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import GlyphartError
from .grid import Cell
from .page import PageSize, grid_cells, hero_cells, margin_px, page_size

GAP_FRAC = 0.12  # of each grid pitch left between glyphs
LAYOUTS = ("grid", "hero")


@dataclass
class PosterLayout:
    page: PageSize
    cells: list[Cell]
    margin_px: int


def poster_layout(n: int, size: str = "a3", dpi: float = 300, landscape: bool = False,
                  layout: str = "grid", margin_in: float | None = None,
                  gap_frac: float = GAP_FRAC, grid: tuple[int, int] | None = None
                  ) -> PosterLayout:
    page = page_size(size, dpi, landscape)
    if n == 0:
        raise GlyphartError("no glyphs to draw: the seed list is empty")
    margin = margin_px(page, margin_in)
    if layout == "hero":
        if n != 1:
            raise GlyphartError("the hero layout draws one glyph; give one seed per poster "
                                "(e.g. --poster 'outputs/{preset}-{seed}.png')")
        cells = hero_cells(page, margin)
    elif layout == "grid":
        if grid and grid[0] * grid[1] < n:
            raise GlyphartError(f"grid {grid[0]}x{grid[1]} holds fewer than {n} glyphs")
        cells = grid_cells(page, n, margin, gap_frac, grid)
    else:
        raise GlyphartError(f"unknown layout {layout!r}; use grid or hero")
    return PosterLayout(page, cells, margin)
