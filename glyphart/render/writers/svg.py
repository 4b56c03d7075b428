"""SVG pages: every glyph a filled outline in its cell, one group per ink, the paper a
rectangle, the parameters in <metadata>."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from ...atomic import write_text
from .metadata import metadata_json
from .segments import quadratics_split


def svg_path_data(path, dx: float = 0.0, dy: float = 0.0) -> str:
    """SVG path data of a pathops Path, shifted by (dx, dy), to 0.01 units."""
    parts = []
    for verb, points in quadratics_split(path.segments):
        coords = " ".join(f"{x + dx:.2f},{y + dy:.2f}" for x, y in points)
        parts.append({"moveTo": "M", "lineTo": "L", "qCurveTo": "Q", "curveTo": "C",
                      "closePath": "Z", "endPath": ""}[verb] + coords)
    return "".join(parts)


def write_svg(path: str | Path, outlines: list[list], cells, width: int, height: int, *,
              fills: list[tuple[str, str]], paper: str, params: dict,
              dpi: float | None = None) -> Path:
    """An SVG page: glyph i's outline per ink (outlines[i][layer]) in its cell (x, y, side),
    each ink a group in its (fill, blend), the paper a rectangle of colour `paper`. With `dpi`
    the page has its print size in inches (the viewBox stays in pixels at that dpi, so layouts
    match the PNG's exactly)."""
    groups = []
    for layer, (fill, blend) in enumerate(fills):
        style = f' style="mix-blend-mode:{blend}"' if blend != "normal" else ""
        groups.append(f'  <g id="ink-{layer + 1}" fill="{fill}" fill-rule="nonzero"{style}>')
        groups += [f'    <path d="{svg_path_data(glyph[layer], x, y)}"/>'
                   for glyph, (x, y, _) in zip(outlines, cells)]
        groups.append("  </g>")
    size = (f'width="{width / dpi:.4f}in" height="{height / dpi:.4f}in"' if dpi
            else f'width="{width}" height="{height}"')
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {width} {height}">',
        f"  <metadata>{escape(metadata_json(params))}</metadata>",
        f'  <rect width="{width}" height="{height}" fill="{paper}"/>',
        *groups,
        "</svg>", ""])
    write_text(path, text)
    return Path(path)
