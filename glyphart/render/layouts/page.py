"""Print pages: a paper size at a dpi in pixels, and glyph squares placed on it in a grid or
one large (hero): the measure posters and plotter pages share."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...errors import GlyphartError
from ...parse import number, shown
from .grid import Cell

# ISO 216 and US sizes in millimetres (portrait).
PAPER_MM = {"a5": (148, 210), "a4": (210, 297), "a3": (297, 420), "a2": (420, 594),
            "a1": (594, 841), "a0": (841, 1189), "letter": (215.9, 279.4),
            "tabloid": (279.4, 431.8)}
MAX_SIDE = 65535


@dataclass
class PageSize:
    width: int
    height: int
    dpi: float

    @property
    def inches(self) -> tuple[float, float]:
        return self.width / self.dpi, self.height / self.dpi


def page_size(size: str, dpi: float = 300, landscape: bool = False) -> PageSize:
    """'a4' | 'letter' | '4000x6000px' | '24x36in' | '500x700mm' -> pixels at dpi."""
    if dpi <= 0 or dpi > 10000:
        raise GlyphartError(f"bad --dpi {dpi}: use a value between 1 and 10000")
    text = size.strip().lower()
    if text in PAPER_MM:
        w_mm, h_mm = PAPER_MM[text]
        w, h = round(w_mm / 25.4 * dpi), round(h_mm / 25.4 * dpi)
    else:
        match = re.fullmatch(r"([0-9.]+)\s*x\s*([0-9.]+)\s*(px|in|mm|cm)", text)
        if not match:
            raise GlyphartError(
                f"bad size {shown(size)}: use {', '.join(PAPER_MM)}, WxHpx, WxHin, WxHmm or "
                "WxHcm (e.g. a3, 4000x6000px, 24x36in)")
        a, b = (number(side, 0, MAX_SIDE * 100, f"bad size {shown(size)}: side", lo_open=True)
                for side in match.group(1, 2))
        unit = match.group(3)
        per_unit = {"px": 1.0, "in": dpi, "mm": dpi / 25.4, "cm": dpi / 2.54}[unit]
        w, h = round(a * per_unit), round(b * per_unit)
    if landscape:
        w, h = max(w, h), min(w, h)
    if not (16 <= w <= MAX_SIDE and 16 <= h <= MAX_SIDE):
        raise GlyphartError(f"bad size {shown(size)} at {dpi} dpi: {w}x{h} px; each side must be "
                            f"16 to {MAX_SIDE} px")
    return PageSize(w, h, dpi)


def margin_px(page: PageSize, margin_in: float | None) -> int:
    """The margin in pixels: `margin_in` inches, by default a twelfth of the shorter side."""
    return round((margin_in if margin_in is not None else min(page.inches) / 12) * page.dpi)


def grid_cells(page: PageSize, n: int, margin: int, gap_frac: float,
               shape: tuple[int, int] | None = None) -> list[Cell]:
    """n squares in a grid inside the margins, `gap_frac` of each pitch left between them."""
    w, h = page.width - 2 * margin, page.height - 2 * margin
    if w < 8 or h < 8:
        raise GlyphartError("margins leave no room on the page; use a smaller --margin")
    if shape is None:
        # Choose the column count that gives the largest square cells.
        best = max(range(1, n + 1), key=lambda c: min(w / c, h / math.ceil(n / c)))
        shape = (math.ceil(n / best), best)
    rows, cols = shape
    pitch = min(w / cols, h / rows)
    side = int(pitch * (1 - gap_frac))
    if side < 2:
        raise GlyphartError("glyphs would be smaller than 2 px; use fewer glyphs or a larger page")
    x0 = margin + (w - pitch * cols) / 2 + (pitch - side) / 2
    y0 = margin + (h - pitch * rows) / 2 + (pitch - side) / 2
    return [(round(x0 + (i % cols) * pitch), round(y0 + (i // cols) * pitch), side)
            for i in range(n)]


def hero_cells(page: PageSize, margin: int) -> list[Cell]:
    """One square, as large as the margins allow, in the middle of the page."""
    side = min(page.width, page.height) - 2 * margin
    if side < 8:
        raise GlyphartError("margins leave no room on the page; use a smaller --margin")
    return [((page.width - side) // 2, (page.height - side) // 2, side)]
