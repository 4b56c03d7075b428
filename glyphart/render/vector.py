"""Vector outlines of stroke glyphs and SVG sheets.

A stroke preset's glyph is vectors already: every polyline piece of a stroke, with its two
radii, is the convex hull of two circles (a tapered capsule); skia-pathops joins the pieces and
the strokes into one outline with the overlaps removed, clipped to the glyph's square (strokes
may run off it). The outline's zero level is the rasteriser's, so a vector glyph and a raster
glyph of the same seed agree (the soft union's small swelling where strokes meet aside).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from .. import __version__
from ..atomic import write_text
from ..strokes import Strokes, centre_lines, samples_per_segment

ARC_POINTS = 24  # points on each half circle of a capsule: under 1/200 of a radius off


def _capsule(a, b, ra: float, rb: float) -> list[tuple[float, float]]:
    """The convex hull of two circles (a, ra) and (b, rb) as a polygon, counter-clockwise."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length <= abs(ra - rb):  # one circle holds the other
        centre, r = (a, ra) if ra >= rb else (b, rb)
        return [(centre[0] + r * math.cos(t), centre[1] + r * math.sin(t))
                for t in (2 * math.pi * i / (2 * ARC_POINTS) for i in range(2 * ARC_POINTS))]
    angle = math.atan2(dy, dx)
    spread = math.acos((ra - rb) / length)  # where the tangent lines touch each circle
    points = []
    for centre, r, start, end in ((b, rb, angle - spread, angle + spread),
                                  (a, ra, angle + spread, angle + 2 * math.pi - spread)):
        for i in range(ARC_POINTS + 1):
            t = start + (end - start) * i / ARC_POINTS
            points.append((centre[0] + r * math.cos(t), centre[1] + r * math.sin(t)))
    return points


def stroke_outline(strokes: Strokes, size: float):
    """One glyph's strokes (a Strokes of batch 1) as a skia-pathops Path in a square of side
    `size`, y down, overlaps removed and clipped to the square."""
    import pathops
    pts, rad = centre_lines(strokes, samples_per_segment(strokes, int(size)))
    pts, rad = pts[0].double() * size, rad[0].double() * size
    pieces = pathops.Path()
    pen = pieces.getPen()
    for stroke_pts, stroke_rad in zip(pts.tolist(), rad.tolist()):
        for i in range(len(stroke_pts) - 1):
            polygon = _capsule(stroke_pts[i], stroke_pts[i + 1], stroke_rad[i], stroke_rad[i + 1])
            pen.moveTo(polygon[0])
            for point in polygon[1:]:
                pen.lineTo(point)
            pen.closePath()
    square = pathops.Path()
    square_pen = square.getPen()
    square_pen.moveTo((0, 0))
    for corner in ((size, 0), (size, size), (0, size)):
        square_pen.lineTo(corner)
    square_pen.closePath()
    joined = pathops.Path()
    pathops.union([pieces], joined.getPen())
    return pathops.op(joined, square, pathops.PathOp.INTERSECTION)


def svg_path_data(path, dx: float = 0.0, dy: float = 0.0) -> str:
    """SVG path data of a pathops Path, shifted by (dx, dy), to 0.01 units."""
    parts = []
    for verb, points in path.segments:
        coords = " ".join(f"{x + dx:.2f},{y + dy:.2f}" for x, y in points)
        parts.append({"moveTo": "M", "lineTo": "L", "qCurveTo": "Q", "curveTo": "C",
                      "closePath": "Z", "endPath": ""}[verb] + coords)
    return "".join(parts)


def layer_strokes(strokes: Strokes, layers: int) -> list[Strokes]:
    """The strokes of each ink layer (strokes are shared out among layers in order)."""
    k = strokes.points.shape[1] // layers
    return [Strokes(strokes.points[:, i * k:(i + 1) * k], strokes.radii[:, i * k:(i + 1) * k],
                    strokes.taper) for i in range(layers)]


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


def write_svg_sheet(preset, z: torch.Tensor, path: str | Path, cols: int, glyph_px: int,
                    gap: int, paint, params: dict) -> Path:
    """An SVG glyph sheet (pixel units), laid out as the PNG sheet is."""
    rows = -(-len(z) // cols)
    cells = [(gap + (i % cols) * (glyph_px + gap), gap + (i // cols) * (glyph_px + gap), glyph_px)
             for i in range(len(z))]
    return write_svg(preset, z, path, cells, cols * glyph_px + (cols + 1) * gap,
                     rows * glyph_px + (rows + 1) * gap, paint, params)


def write_svg(preset, z: torch.Tensor, path: str | Path, cells, width: int, height: int, paint,
              params: dict, dpi: float | None = None) -> Path:
    """An SVG page: glyph i a filled outline in its cell (x, y, side), one group per ink, the
    paper a rectangle, the parameters in <metadata>. With `dpi` the page has its print size
    in inches (the viewBox stays in pixels at that dpi, so layouts match the PNG's exactly)."""
    layers = layer_strokes(preset.strokes(z), len(paint.inks))  # a raster preset has none
    groups = []
    for number, (strokes, (fill, blend)) in enumerate(zip(layers, ink_fills(paint)), 1):
        style = f' style="mix-blend-mode:{blend}"' if blend != "normal" else ""
        groups.append(f'  <g id="ink-{number}" fill="{fill}" fill-rule="nonzero"{style}>')
        groups += [f'    <path d="{svg_path_data(stroke_outline(strokes[i:i + 1], side), x, y)}"/>'
                   for i, (x, y, side) in enumerate(cells)]
        groups.append("  </g>")
    size = (f'width="{width / dpi:.4f}in" height="{height / dpi:.4f}in"' if dpi
            else f'width="{width}" height="{height}"')
    colour = "#{:02x}{:02x}{:02x}"
    metadata = json.dumps({"glyphart_version": __version__, **params}, sort_keys=True)
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {width} {height}">',
        f"  <metadata>{_escape(metadata)}</metadata>",
        f'  <rect width="{width}" height="{height}" fill="{colour.format(*paint.paper)}"/>',
        *groups,
        "</svg>", ""])
    write_text(path, text)
    return Path(path)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
