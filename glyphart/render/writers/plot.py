"""Pen-plotter SVG: stroke-only paths at the page's real size in millimetres, one layer per pen.

Follows the conventions vpype and AxiDraw's Inkscape extension read: the page size in mm, a
top-level group per layer (`inkscape:groupmode="layer"`, a numeric label, `id="layerN"`), no
fills. Colour presets plot one layer per ink: a pen per colour.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from ...atomic import write_text
from ...errors import GlyphartError
from .metadata import metadata_json


def check_plot_name(path: str | Path) -> None:
    if Path(path).suffix.lower() != ".svg":
        raise GlyphartError(f"--plot {path}: plotter files are SVG; end the name in .svg")


def write_plot(path: str | Path, layers: list[list[tuple[np.ndarray, bool]]],
               width_mm: float, height_mm: float, *, pens: list[str], params: dict,
               pen: float = 0.5) -> Path:
    """layers[k]: (polyline in mm, closed) pairs drawn with pen colour pens[k], `pen` mm wide."""
    check_plot_name(path)
    groups = []
    for number, (colour, lines) in enumerate(zip(pens, layers), 1):
        groups += [f'  <g id="layer{number}" inkscape:groupmode="layer" '
                   f'inkscape:label="{number}" stroke="{colour}">',
                   *(_path(points, closed) for points, closed in lines), "  </g>"]
    w, h = width_mm, height_mm
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        f'width="{w:.3f}mm" height="{h:.3f}mm" viewBox="0 0 {w:.3f} {h:.3f}" fill="none" '
        f'stroke-width="{pen}" stroke-linecap="round" stroke-linejoin="round">',
        f"  <metadata>{escape(metadata_json(params))}</metadata>",
        *groups,
        "</svg>", ""])
    write_text(path, text)
    return Path(path)


def _path(points: np.ndarray, closed: bool) -> str:
    coords = " L".join(f"{px:.3f},{py:.3f}" for px, py in points)
    return f'    <path d="M{coords}{" Z" if closed else ""}"/>'
