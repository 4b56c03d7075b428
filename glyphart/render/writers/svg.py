"""SVG sheets and posters: every glyph a filled outline (outline.py), one group per ink."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import torch

from .. import __version__
from ..atomic import write_text
from .outline import cell_outlines

def svg_path_data(path, dx: float = 0.0, dy: float = 0.0) -> str:
    """SVG path data of a pathops Path, shifted by (dx, dy), to 0.01 units."""
    parts = []
    for verb, points in path.segments:
        coords = " ".join(f"{x + dx:.2f},{y + dy:.2f}" for x, y in points)
        parts.append({"moveTo": "M", "lineTo": "L", "qCurveTo": "Q", "curveTo": "C",
                      "closePath": "Z", "endPath": ""}[verb] + coords)
    return "".join(parts)


def ink_fills(paint) -> list[tuple[str, str]]:
    """(fill colour, CSS blend mode) of each layer, so that a viewer composites the layers
    exactly as the raster renderer does: under multiply an ink filters the paper by
    ink / paper (one ink alone shows exactly its colour), under over it covers what is below."""
    colour = "#{:02x}{:02x}{:02x}"
    fills = []
    for ink in paint.inks:
        if paint.blend == "multiply":
            ink = tuple(min(255, round(255 * c / max(p, 1))) for c, p in zip(ink, paint.paper))
        fills.append((colour.format(*ink), "multiply" if paint.blend == "multiply" else "normal"))
    return fills


VECTOR_FORMATS = (".svg", ".pdf")


def is_vector(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VECTOR_FORMATS


def write_vector(preset, z: torch.Tensor, path: str | Path, cells, width: int, height: int,
                 paint, params: dict, dpi: float | None = None) -> Path:
    """An SVG or PDF page (by the name's extension) of outlines in cells (x, y, side)."""
    from .pdf import write_pdf
    write = write_pdf if Path(path).suffix.lower() == ".pdf" else write_svg
    return write(preset, z, path, cells, width, height, paint, params, dpi=dpi)


def write_vector_sheet(preset, z: torch.Tensor, path: str | Path, cols: int, glyph_px: int,
                       gap: int, paint, params: dict) -> Path:
    """An SVG or PDF glyph sheet (pixel units), laid out as the PNG sheet is."""
    rows = -(-len(z) // cols)
    cells = [(gap + (i % cols) * (glyph_px + gap), gap + (i // cols) * (glyph_px + gap), glyph_px)
             for i in range(len(z))]
    return write_vector(preset, z, path, cells, cols * glyph_px + (cols + 1) * gap,
                        rows * glyph_px + (rows + 1) * gap, paint, params)


def write_svg(preset, z: torch.Tensor, path: str | Path, cells, width: int, height: int, paint,
              params: dict, dpi: float | None = None) -> Path:
    """An SVG page: glyph i a filled outline in its cell (x, y, side), one group per ink, the
    paper a rectangle, the parameters in <metadata>. With `dpi` the page has its print size
    in inches (the viewBox stays in pixels at that dpi, so layouts match the PNG's exactly)."""
    outlines = cell_outlines(preset, z, cells)
    groups = []
    for layer, (fill, blend) in enumerate(ink_fills(paint)):
        style = f' style="mix-blend-mode:{blend}"' if blend != "normal" else ""
        groups.append(f'  <g id="ink-{layer + 1}" fill="{fill}" fill-rule="nonzero"{style}>')
        groups += [f'    <path d="{svg_path_data(glyph[layer], x, y)}"/>'
                   for glyph, (x, y, _) in zip(outlines, cells)]
        groups.append("  </g>")
    size = (f'width="{width / dpi:.4f}in" height="{height / dpi:.4f}in"' if dpi
            else f'width="{width}" height="{height}"')
    colour = "#{:02x}{:02x}{:02x}"
    metadata = json.dumps({"glyphart_version": __version__, **params}, sort_keys=True)
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {width} {height}">',
        f"  <metadata>{escape(metadata)}</metadata>",
        f'  <rect width="{width}" height="{height}" fill="{colour.format(*paint.paper)}"/>',
        *groups,
        "</svg>", ""])
    write_text(path, text)
    return Path(path)
