"""Glyph sheets: a grid of glyphs for a list of seeds, as a PNG with its parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import GlyphartError
from ..latent import messages, parse_seeds
from ..parse import integer, shown
from ..inks import Paint, make_paint
from .frames import glyph_grid, grid_shape, render_glyphs
from .output import metadata_text, write_image
from .vector import is_vector, write_vector_sheet

MAX_SHEET_PIXELS = 20000 * 20000


@dataclass
class Look:
    """How glyphs are drawn: shared by sheets, posters and videos."""
    palette: str = "chalk"
    inks: str = ""  # '#rrggbb,...' replacing the palette's inks, one per layer
    paper: str = ""  # '#rrggbb' replacing the palette's paper
    blend: str = ""  # multiply or over; "" = the palette's own, else the preset's
    style: str = "ink"

    def paint(self, preset) -> Paint:
        return make_paint(preset.spec.model.layers, self.palette, self.inks, self.paper,
                          self.blend, preset.spec.render.blend)

    @classmethod
    def from_preset(cls, preset, **overrides) -> "Look":
        r = preset.spec.render
        if overrides.get("style") and preset.spec.model.generator == "strokes":
            raise GlyphartError(f"--style sets how raster glyphs are enlarged; {preset.name!r} "
                                "draws its strokes exactly at every size (drop --style)")
        look = cls(palette=r.palette, inks=r.inks, paper=r.paper, style=r.scale)
        if overrides.get("palette"):  # another palette: the preset's own colours go with it
            look.inks = look.paper = ""
        for key, value in overrides.items():
            if value is not None:
                setattr(look, key, value)
        look.paint(preset)  # validate now
        return look


MAX_GRID_SIDE = 10_000  # rows or columns; a sheet or poster of more has sub-pixel glyphs


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


def sheet_image(preset, seeds: list[int], cols: int | None = None, glyph_px: int | None = None,
                gap: int = 4, look: Look | None = None, labels: bool = False,
                z: torch.Tensor | None = None) -> np.ndarray:
    look = look or Look.from_preset(preset)
    z = messages(preset, seeds) if z is None else z
    if len(z) == 0:
        raise GlyphartError("no glyphs to draw: the seed list is empty")
    size = glyph_px or preset.spec.model.size
    rows, cols = grid_shape(len(z), cols)
    if (size + gap) ** 2 * rows * cols > MAX_SHEET_PIXELS:
        raise GlyphartError("sheet too large; use fewer seeds or a smaller --glyph-px")
    images = render_glyphs(preset.generator, z, size, look.style)
    paint = look.paint(preset)
    label_px = max(10, min(24, size // 6)) if labels else 0
    grid = glyph_grid(images, cols=cols, gap=gap, paint=paint)
    if labels:
        grid = _add_labels(grid, seeds, cols, size, gap, label_px, paint.fg, paint.paper)
    return grid


def _add_labels(grid, seeds, cols, size, gap, label_px, fg, bg):
    """Insert a strip under each row of glyphs with the seed numbers."""
    from PIL import Image, ImageDraw, ImageFont
    rows = -(-len(seeds) // cols)
    out_h = grid.shape[0] + rows * label_px
    canvas = Image.new("RGB", (grid.shape[1], out_h), tuple(bg))
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=label_px - 2)
    except TypeError:  # Pillow without FreeType
        font = ImageFont.load_default()
    for r in range(rows):
        top = gap + r * (size + gap)
        strip = grid[top:top + size + gap]
        canvas.paste(Image.fromarray(strip), (0, top + r * label_px))
        for c in range(cols):
            i = r * cols + c
            if i < len(seeds):
                x = gap + c * (size + gap) + size // 2
                draw.text((x, top + r * label_px + size + label_px // 2 + 1), str(seeds[i]),
                          fill=tuple(fg), font=font, anchor="mm")
    canvas.paste(Image.fromarray(grid[:gap]), (0, 0))
    return np.asarray(canvas)


def render_sheet(preset, seeds: str | list[int], path: str | Path, grid: str | None = None,
                 glyph_px: int | None = None, gap: int | None = None, labels: bool = False,
                 look: Look | None = None, z: torch.Tensor | None = None,
                 extra: dict | None = None) -> Path:
    """Write a glyph sheet PNG for `seeds` (or messages `z`); returns its path."""
    seed_list = parse_seeds(seeds) if isinstance(seeds, str) else list(seeds)
    shape = parse_grid(grid)
    r = preset.spec.render
    look = look or Look.from_preset(preset)
    glyph_px = glyph_px or r.glyph_px or None
    gap = r.gap if gap is None else gap
    cols = shape[1] if shape else None
    count = len(seed_list) if z is None else len(z)
    if shape and count > shape[0] * shape[1]:
        raise GlyphartError(f"grid {grid} holds {shape[0] * shape[1]} glyphs but {count} were "
                            f"given ({len(seed_list)} seeds, {count - len(seed_list)} messages); "
                            "use a larger --grid or fewer glyphs")
    params = {"kind": "sheet", "preset": preset.name, "weights": preset.weights_hash,
              "seeds": _compact(seed_list), **(extra or {}),
              "options": {"grid": grid or "auto", "glyph_px": glyph_px or "native", "gap": gap,
                          "labels": labels, **asdict(look)}}
    if is_vector(path):
        if labels:
            raise GlyphartError("--labels prints seed numbers on PNG sheets; drop it for "
                                "SVG and PDF")
        z = messages(preset, seed_list) if z is None else z
        return write_vector_sheet(preset, z, path, cols or grid_shape(len(z))[1],
                               glyph_px or preset.spec.model.size, gap, look.paint(preset),
                               params)
    image = sheet_image(preset, seed_list, cols, glyph_px, gap, look, labels, z)
    return write_image(path, image, text=metadata_text(params))


def _compact(seeds: list[int]) -> str:
    """[0, 1, 2, 3, 7] -> '0-3,7'."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(parts)
