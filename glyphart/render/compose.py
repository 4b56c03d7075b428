"""Glyphs painted into their cells: the pictures a writer is handed.

Each function takes what the stages below give (coverage from glyphs.py, colour from
paint.py, cells from a layout) and returns pixels: a whole picture (sheets, frames), bands of
rows (posters, so a 16384² page never exists whole) or a stream of frames (videos).
"""

from __future__ import annotations

import numpy as np
import torch

from ..inks import Paint
from .glyphs import frame_coverage, letter_outlines, render_glyphs
from .layouts.font import ink_edges
from .layouts.grid import Cell, pixel_grid
from .layouts.sheet import SheetLayout
from .layouts.video import frame_cells, frame_messages
from .paint import CHALK, gap_shade, to_rgb8

BAND_ROWS = 256  # poster rows drawn at a time
CHUNK = 8  # video frames generated per generator call


def filled(height: int, width: int, colour) -> np.ndarray:
    """A (height, width, 3) uint8 canvas of one colour. Filled one row, then row by row:
    numpy's broadcast of a 3-vector over every pixel is 100-300x slower (90 ms at 1544²)."""
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:1] = np.asarray(colour, np.uint8)
    canvas[1:] = canvas[:1]
    return canvas


def paint_cells(tiles: np.ndarray, cells: list[Cell], width: int, height: int,
                background) -> np.ndarray:
    """(B, h, w, 3) uint8 tiles placed at their cells on a (height, width, 3) canvas."""
    canvas = filled(height, width, background)
    for tile, (x, y, _) in zip(tiles, cells):
        h, w = tile.shape[:2]
        canvas[y:y + h, x:x + w] = tile
    return canvas


def glyph_grid(images: torch.Tensor, cols: int | None = None, gap: int = 2, scale: int = 1,
               paint: Paint = CHALK, gap_color=None) -> np.ndarray:
    """A uint8 grid of glyph coverage (nearest-neighbour `scale`) with `gap` pixels between
    them. Gaps default to a shade between paper and ink, so glyphs touching their edges stay
    apart."""
    if scale > 1:
        images = images.repeat_interleave(scale, -2).repeat_interleave(scale, -1)
    tiles = to_rgb8(images, paint)
    cells, width, height = pixel_grid(len(tiles), cols, tiles.shape[1], gap)
    return paint_cells(tiles, cells, width, height,
                       gap_color if gap_color is not None else gap_shade(paint))


def sheet_picture(generator, z: torch.Tensor, layout: SheetLayout, style: str, paint: Paint,
                  labels: list[int] | None = None) -> np.ndarray:
    """A sheet's pixels: the glyphs at the layout's size in its grid, with `labels` (seed
    numbers) in a strip under each row."""
    images = render_glyphs(generator, z, layout.glyph_px, style)
    grid = paint_cells(to_rgb8(images, paint), layout.cells, layout.width, layout.height,
                       gap_shade(paint))
    if labels is not None:
        grid = add_labels(grid, labels, layout, paint)
    return grid


def add_labels(grid: np.ndarray, seeds: list[int], layout: SheetLayout, paint: Paint
               ) -> np.ndarray:
    """Insert a strip under each row of glyphs with the seed numbers."""
    from PIL import Image, ImageDraw, ImageFont
    from .layouts.sheet import label_px
    cols, size, gap = layout.cols, layout.glyph_px, layout.gap
    strip_px = label_px(size)
    rows = -(-len(seeds) // cols)
    out_h = grid.shape[0] + rows * strip_px
    canvas = Image.new("RGB", (grid.shape[1], out_h), tuple(paint.paper))
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=strip_px - 2)
    except TypeError:  # Pillow without FreeType
        font = ImageFont.load_default()
    for r in range(rows):
        top = gap + r * (size + gap)
        strip = grid[top:top + size + gap]
        canvas.paste(Image.fromarray(strip), (0, top + r * strip_px))
        for c in range(cols):
            i = r * cols + c
            if i < len(seeds):
                x = gap + c * (size + gap) + size // 2
                draw.text((x, top + r * strip_px + size + strip_px // 2 + 1), str(seeds[i]),
                          fill=tuple(paint.fg), font=font, anchor="mm")
    canvas.paste(Image.fromarray(grid[:gap]), (0, 0))
    return np.asarray(canvas)


def poster_bands(glyph_rows, cells: list[Cell], width: int, height: int, paint: Paint):
    """Yield uint8 bands of the page, drawing only the glyph rows inside each band;
    `glyph_rows(i, side, first, end)` draws rows [first, end) of glyph i at side x side."""
    for y0 in range(0, height, BAND_ROWS):
        y1 = min(y0 + BAND_ROWS, height)
        band = filled(y1 - y0, width, paint.paper)
        for i, (x, y, side) in enumerate(cells):
            r0, r1 = max(y0, y), min(y1, y + side)
            if r0 >= r1:
                continue
            pixels = glyph_rows(i, side, r0 - y, r1 - y)
            band[r0 - y0:r1 - y0, x:x + side] = to_rgb8(pixels, paint)[0]
        yield band


def loop_frames(generator, keys: torch.Tensor, frames: int, interp: str, px: int, look,
                paint: Paint, cols: int, gap: int):
    """Yield the loop's uint8 frames, CHUNK frames' glyphs drawn per generator call."""
    cells = keys.shape[0]
    where, width, height = frame_cells(cells, cols, px, gap)
    for start in range(0, frames, CHUNK):
        ks = range(start, min(start + CHUNK, frames))
        images = frame_coverage(generator, frame_messages(keys, ks, frames, interp), px,
                                look.style)
        for i in range(len(ks)):
            yield paint_cells(to_rgb8(images[i * cells:(i + 1) * cells], paint), where, width,
                              height, gap_shade(paint))


def font_glyphs(preset, seeds: list[int], square: float):
    """(name, outline, left, right) per glyph: its letter outline on the square, y down, and
    the left and right edges of its ink."""
    from ..latent import messages
    for seed, outline in zip(seeds, letter_outlines(preset, messages(preset, seeds), square)):
        left, right = ink_edges(outline.bounds if outline.area else None)
        yield f"glyph{seed}", outline, left, right
