"""Pen-plotter SVG: stroke-only paths at the page's real size in millimetres, one layer per pen.

Follows the conventions vpype and AxiDraw's Inkscape extension read: the page size in mm, a
top-level group per layer (`inkscape:groupmode="layer"`, a numeric label, `id="layerN"`), no
fills. A stroke preset's glyphs plot as their centre lines, drawn with the pen; a raster
preset's as their outlines, optionally hatched with parallel lines `hatch` mm apart. Colour
presets plot one layer per ink: a pen per colour.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import torch

from .. import __version__
from ..atomic import write_text
from ..errors import GlyphartError
from ..strokes import centre_lines
from .outline import flatten, glyph_outlines, layer_strokes

MM_PER_INCH = 25.4


def write_plot(preset, z: torch.Tensor, path: str | Path, cells, width: int, height: int,
               paint, params: dict, dpi: float, pen: float = 0.5, hatch: float = 0.0) -> Path:
    """Plot glyph i in its cell (x, y, side) of a width x height px page at `dpi`, in mm."""
    if Path(path).suffix.lower() != ".svg":
        raise GlyphartError(f"--plot {path}: plotter files are SVG; end the name in .svg")
    strokes = preset.spec.model.generator == "strokes"
    if strokes and hatch:
        raise GlyphartError("--hatch fills raster outlines; a strokes preset plots its "
                            "strokes' centre lines (drop --hatch)")
    mm = MM_PER_INCH / dpi
    colour = "#{:02x}{:02x}{:02x}"
    layers = [[] for _ in paint.inks]
    for i, (x, y, side) in enumerate(cells):
        lines = _centre_lines(preset, z[i:i + 1]) if strokes else \
            _outline_lines(preset, z[i:i + 1], side, hatch / mm)
        for layer, polylines in enumerate(lines):
            for line, closed in polylines:
                points = (line * (side if strokes else 1) + (x, y)) * mm
                layers[layer].append(_path(points, closed))
    groups = []
    for number, (ink, paths) in enumerate(zip(paint.inks, layers), 1):
        groups += [f'  <g id="layer{number}" inkscape:groupmode="layer" '
                   f'inkscape:label="{number}" stroke="{colour.format(*ink)}">', *paths, "  </g>"]
    metadata = json.dumps({"glyphart_version": __version__, **params, "pen_mm": pen,
                           "hatch_mm": hatch}, sort_keys=True)
    w, h = width * mm, height * mm
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        f'width="{w:.3f}mm" height="{h:.3f}mm" viewBox="0 0 {w:.3f} {h:.3f}" fill="none" '
        f'stroke-width="{pen}" stroke-linecap="round" stroke-linejoin="round">',
        f"  <metadata>{escape(metadata)}</metadata>",
        *groups,
        "</svg>", ""])
    write_text(path, text)
    return Path(path)


def _centre_lines(preset, z: torch.Tensor) -> list[list[tuple[np.ndarray, bool]]]:
    """Per layer, each stroke's whole centre line in the unit square, (line, closed): a pen
    lifts where the stroke ends, never where it crosses the glyph's square."""
    layers = layer_strokes(preset.strokes(z), preset.spec.model.layers)
    return [[(line.double().numpy(), False) for line in centre_lines(s, 24)[0][0]]
            for s in layers]


def _outline_lines(preset, z: torch.Tensor, side: float, spacing: float
                   ) -> list[list[tuple[np.ndarray, bool]]]:
    """Per layer, the outline's contours (closed) and hatch lines, in the cell's pixels."""
    result = []
    for outline in glyph_outlines(preset, z, side)[0]:
        contours = flatten(outline)
        hatches = hatch_lines(contours, side, spacing) if spacing else []
        result.append([(c, True) for c in contours] + [(h, False) for h in hatches])
    return result


def hatch_lines(contours: list[np.ndarray], side: float, spacing: float) -> list[np.ndarray]:
    """Horizontal lines `spacing` apart across the inside of the contours (even-odd)."""
    if not contours:
        return []
    edges = np.concatenate([np.stack([c, np.roll(c, -1, 0)], 1) for c in contours])
    (x0, y0), (x1, y1) = edges.transpose(1, 2, 0)
    lines = []
    for y in np.arange(spacing / 2, side, spacing):
        hit = (y0 <= y) != (y1 <= y)
        xs = np.sort(x0[hit] + (y - y0[hit]) * (x1[hit] - x0[hit]) / (y1[hit] - y0[hit]))
        lines += [np.array([[a, y], [b, y]]) for a, b in zip(xs[::2], xs[1::2])]
    return lines


def _path(points: np.ndarray, closed: bool) -> str:
    coords = " L".join(f"{px:.3f},{py:.3f}" for px, py in points)
    return f'    <path d="M{coords}{" Z" if closed else ""}"/>'
