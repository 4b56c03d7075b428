"""PDF sheets and posters (fpdf2): true vector outlines at the print size, one path per ink,
the paper a filled page, the glyphart parameters in the document information."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import torch

from .. import __version__
from ..atomic import atomic_path
from .outline import cell_outlines

POINTS_PER_INCH = 72
SCREEN_DPI = 96  # a sheet's pixels, printed: CSS's 96 per inch
FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # byte-identical reruns


def write_pdf(preset, z: torch.Tensor, path: str | Path, cells, width: int, height: int, paint,
              params: dict, dpi: float | None = None) -> Path:
    """One page of width x height pixels at `dpi` (sheets: 96), glyph i's outline filled in
    its cell (x, y, side) in pixels, each ink a path of its own in its colour and blend."""
    from fpdf import FPDF
    from fpdf.drawing import PaintedPath
    from fpdf.enums import BlendMode, PathPaintRule
    from .vector import ink_fills

    scale = POINTS_PER_INCH / (dpi or SCREEN_DPI)
    pdf = FPDF(unit="pt", format=(width * scale, height * scale))
    pdf.set_auto_page_break(False)
    pdf.set_creator(f"glyphart {__version__}")
    pdf.set_title(f"glyphart {params.get('kind', 'page')}: {params.get('preset', '')}")
    pdf.set_subject(json.dumps({"glyphart_version": __version__, **params}, sort_keys=True))
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    pdf.set_fill_color(*paint.paper)
    pdf.rect(0, 0, width * scale, height * scale, style="F")
    outlines = cell_outlines(preset, z, cells)
    for layer, (fill, blend) in enumerate(ink_fills(paint)):
        drawing = PaintedPath()
        drawing.style.paint_rule = PathPaintRule.FILL_NONZERO
        drawing.style.fill_color = fill
        drawing.style.stroke_color = None
        drawing.style.blend_mode = BlendMode.MULTIPLY if blend == "multiply" else BlendMode.NORMAL
        for glyph, (x, y, _) in zip(outlines, cells):
            _trace(drawing, glyph[layer], x, y, scale)
        pdf.draw_path(drawing, copy=False)  # a fresh path: no need for fpdf2's deep copy
    with atomic_path(path) as tmp:
        pdf.output(str(tmp))
    return Path(path)


def _trace(drawing, outline, dx: float, dy: float, scale: float) -> None:
    """Append a pathops Path, shifted by (dx, dy) pixels, to an fpdf2 path in points."""
    def at(point):
        return ((point[0] + dx) * scale, (point[1] + dy) * scale)

    for verb, points in outline.segments:
        pts = [coordinate for p in points for coordinate in at(p)]
        if verb == "moveTo":
            drawing.move_to(*pts)
        elif verb == "lineTo":
            drawing.line_to(*pts)
        elif verb == "curveTo":
            drawing.curve_to(*pts)
        elif verb == "qCurveTo":
            drawing.quadratic_curve_to(*pts)
        elif verb == "closePath":
            drawing.close()
