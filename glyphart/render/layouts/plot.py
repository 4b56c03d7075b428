"""A plotter page: the glyphs in a grid on a print page, on a 0.025 mm grid, in millimetres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import GlyphartError
from .grid import Cell
from .page import PageSize, grid_cells, margin_px, page_size

PLOT_DPI = 1000  # the layout's grid in plotter files: 0.025 mm
MM_PER_INCH = 25.4
GAP_FRAC = 0.12  # of each grid pitch left between glyphs, as on a poster


@dataclass
class PlotLayout:
    page: PageSize
    cells: list[Cell]
    margin_px: int

    @property
    def mm(self) -> float:
        """Millimetres per layout pixel."""
        return MM_PER_INCH / self.page.dpi

    def to_mm(self, points: np.ndarray, cell: Cell) -> np.ndarray:
        """Points in a cell's pixels -> millimetres on the page."""
        x, y, _ = cell
        return (points + (x, y)) * self.mm


def plot_layout(n: int, size: str = "a3", landscape: bool = False,
                margin_in: float | None = None, grid: tuple[int, int] | None = None
                ) -> PlotLayout:
    page = page_size(size, PLOT_DPI, landscape)
    if n == 0:
        raise GlyphartError("no glyphs to draw: the seed list is empty")
    margin = margin_px(page, margin_in)
    if grid and grid[0] * grid[1] < n:
        raise GlyphartError(f"grid {grid[0]}x{grid[1]} holds fewer than {n} glyphs")
    return PlotLayout(page, grid_cells(page, n, margin, GAP_FRAC, grid), margin)
