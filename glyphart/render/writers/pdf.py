"""PDF pages (fpdf2): true vector outlines at the print size, one path per ink, the paper a
filled page, the glyphart parameters in the document information."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ... import __version__
from ...atomic import atomic_path
from .metadata import metadata_json

POINTS_PER_INCH = 72
SCREEN_DPI = 96  # a sheet's pixels, printed: CSS's 96 per inch
FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # byte-identical reruns


def write_pdf(path: str | Path, outlines: list[list], cells, width: int, height: int, *,
              fills: list[tuple[str, str]], paper: tuple[int, int, int], params: dict,
              dpi: float | None = None) -> Path:
    """One page of width x height pixels at `dpi` (sheets: 96), glyph i's outline per ink
    (outlines[i][layer]) filled in its cell (x, y, side) in pixels, each ink a path of its own
    in its (fill, blend)."""
    from fpdf import FPDF
    from fpdf.drawing import PaintedPath
    from fpdf.enums import BlendMode, PathPaintRule

    scale = POINTS_PER_INCH / (dpi or SCREEN_DPI)
    pdf = FPDF(unit="pt", format=(width * scale, height * scale))
    pdf.set_auto_page_break(False)
    pdf.set_creator(f"glyphart {__version__}")
    pdf.set_title(f"glyphart {params.get('kind', 'page')}: {params.get('preset', '')}")
    pdf.set_subject(metadata_json(params))
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    pdf.set_fill_color(*paper)
    pdf.rect(0, 0, width * scale, height * scale, style="F")
    for layer, (fill, blend) in enumerate(fills):
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
