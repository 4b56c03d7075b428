"""Print posters: exact pixel size from print size x dpi, DPI in the PNG, layouts `grid` and
`hero`, drawn band by band so memory grows with the poster's width, not its area."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import GlyphartError
from ..latent import messages
from ..parse import number, shown
from .frames import (draws_any_size, edge_sharpness, enlarge, exact_images, generate_logits,
                     to_rgb8)
from .vector import is_vector, write_vector
from .output import metadata_text, write_png
from .sheet import Look, _compact

# ISO 216 and US sizes in millimetres (portrait).
PAPER_MM = {"a5": (148, 210), "a4": (210, 297), "a3": (297, 420), "a2": (420, 594),
            "a1": (594, 841), "a0": (841, 1189), "letter": (215.9, 279.4),
            "tabloid": (279.4, 431.8)}
MAX_SIDE = 65535
BAND_ROWS = 256


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


@dataclass
class Layout:
    """Where glyph squares go on the page: (x, y, side) per glyph."""
    cells: list[tuple[int, int, int]]


def grid_layout(page: PageSize, n: int, margin: int, gap_frac: float,
                shape: tuple[int, int] | None = None) -> Layout:
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
    return Layout([(round(x0 + (i % cols) * pitch), round(y0 + (i // cols) * pitch), side)
                   for i in range(n)])


def hero_layout(page: PageSize, margin: int) -> Layout:
    side = min(page.width, page.height) - 2 * margin
    if side < 8:
        raise GlyphartError("margins leave no room on the page; use a smaller --margin")
    return Layout([((page.width - side) // 2, (page.height - side) // 2, side)])


def _bands(glyph_rows, layout: Layout, page: PageSize, paint):
    """Yield uint8 bands of the page, drawing only the glyph rows inside each band;
    `glyph_rows(i, side, first, end)` draws rows [first, end) of glyph i at side x side."""
    for y0 in range(0, page.height, BAND_ROWS):
        y1 = min(y0 + BAND_ROWS, page.height)
        band = np.empty((y1 - y0, page.width, 3), np.uint8)
        band[:] = paint.paper
        for i, (x, y, side) in enumerate(layout.cells):
            r0, r1 = max(y0, y), min(y1, y + side)
            if r0 >= r1:
                continue
            pixels = glyph_rows(i, side, r0 - y, r1 - y)
            band[r0 - y0:r1 - y0, x:x + side] = to_rgb8(pixels, paint)[0]
        yield band


@dataclass
class PosterPlan:
    """Everything that decides a poster's pixels, worked out before any drawing."""
    page: PageSize
    cells: Layout
    z: torch.Tensor
    params: dict  # the metadata the poster carries


def plan_poster(preset, seeds: list[int], size: str = "a3", dpi: float = 300,
                landscape: bool = False, layout: str = "grid", margin_in: float | None = None,
                gap: float = 0.12, grid: tuple[int, int] | None = None,
                look: Look | None = None, z: torch.Tensor | None = None,
                extra: dict | None = None) -> PosterPlan:
    look = look or Look.from_preset(preset)
    page = page_size(size, dpi, landscape)
    z = messages(preset, seeds) if z is None else z
    if len(z) == 0:
        raise GlyphartError("no glyphs to draw: the seed list is empty")
    margin = round((margin_in if margin_in is not None else
                    min(page.inches) / 12) * dpi)
    if layout == "hero":
        if len(z) != 1:
            raise GlyphartError("the hero layout draws one glyph; give one seed per poster "
                                "(e.g. --poster 'outputs/{preset}-{seed}.png')")
        cells = hero_layout(page, margin)
    elif layout == "grid":
        if grid and grid[0] * grid[1] < len(z):
            raise GlyphartError(f"grid {grid[0]}x{grid[1]} holds fewer than {len(z)} glyphs")
        cells = grid_layout(page, len(z), margin, gap, grid)
    else:
        raise GlyphartError(f"unknown layout {layout!r}; use grid or hero")
    params = {"kind": "poster", "preset": preset.name, "weights": preset.weights_hash,
              "seeds": _compact(list(seeds)), **(extra or {}),
              "options": {"size": size, "dpi": dpi, "pixels": f"{page.width}x{page.height}",
                          "landscape": landscape, "layout": layout,
                          "grid": f"{grid[0]}x{grid[1]}" if grid else "auto",
                          "margin_px": margin, "gap": gap, **asdict(look)}}
    return PosterPlan(page, cells, z, params)


def glyph_row_painter(generator, z: torch.Tensor, layout: Layout, style: str):
    """A function drawing rows [first, end) of glyph i at its poster size: strokes are drawn
    there exactly; raster logit fields are enlarged (ink: edges sharpened to a pixel)."""
    if draws_any_size(generator):
        return lambda i, side, first, end: exact_images(generator, z[i:i + 1], side,
                                                        (first, end))
    logits = generate_logits(generator, z)
    gains = [edge_sharpness(logits[i:i + 1], side / logits.shape[-1]) if style == "ink"
             else None for i, (_, _, side) in enumerate(layout.cells)]
    return lambda i, side, first, end: enlarge(logits[i:i + 1], side, side, style, first, end,
                                               gains[i])


def draw_poster(preset, plan: PosterPlan, path: str | Path, look: Look) -> Path:
    paint = look.paint(preset)
    if is_vector(path):
        return write_vector(preset, plan.z, path, plan.cells.cells, plan.page.width,
                            plan.page.height, paint, plan.params, dpi=plan.page.dpi)
    rows = glyph_row_painter(preset.generator, plan.z, plan.cells, look.style)
    return write_png(path, plan.page.width, plan.page.height,
                     _bands(rows, plan.cells, plan.page, paint),
                     dpi=plan.page.dpi, text=metadata_text(plan.params))


def render_poster(preset, seeds: list[int], path: str | Path, look: Look | None = None,
                  **options) -> Path:
    """Write one poster PNG of the given glyphs (options as plan_poster's); returns its path."""
    look = look or Look.from_preset(preset)
    return draw_poster(preset, plan_poster(preset, seeds, look=look, **options), path, look)
