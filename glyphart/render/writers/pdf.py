"""PDF pages (fpdf2): true vector outlines at the print size, one path per ink, the paper a
filled page, the glyphart parameters in the document information."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ... import __version__
from ...atomic import atomic_path
from .metadata import metadata_json
from .segments import quadratics_split

POINTS_PER_INCH = 72
SCREEN_DPI = 96  # a sheet's pixels, printed: CSS's 96 per inch
FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # byte-identical reruns


def write_pdf(path: str | Path, outlines: list[list], cells, width: int, height: int, *,
              fills: list[tuple[str, str]], paper: tuple[int, int, int], params: dict,
              dpi: float | None = None) -> Path:
    """One page of width x height pixels at `dpi` (sheets: 96), glyph i's outline per ink
    (outlines[i][layer]) filled in its cell (x, y, side) in pixels, each ink a path of its own
    in its (fill, blend)."""
    from fpdf.enums import BlendMode

    pdf, scale = _document(width, height, params, dpi)
    pdf.add_page()
    pdf.set_fill_color(*paper)
    pdf.rect(0, 0, width * scale, height * scale, style="F")
    for layer, (fill, blend) in enumerate(fills):
        mode = BlendMode.MULTIPLY if blend == "multiply" else BlendMode.NORMAL
        _fill(pdf, [glyph[layer] for glyph in outlines], cells, scale, fill, mode)
    return _save(pdf, path)


def write_gray_pdf(path: str | Path, pages: list[tuple[list, float]], cells, width: int,
                   height: int, *, params: dict, dpi: float | None = None) -> Path:
    """Masters for a printer: one page per (outlines, amount), glyph i's outline filled in its
    cell in DeviceGray at that amount of black (1: 100 % black), on white (no paper drawn)."""
    from fpdf.drawing import DeviceGray
    from fpdf.enums import BlendMode

    pdf, scale = _document(width, height, params, dpi)
    for outlines, amount in pages:
        pdf.add_page()
        _fill(pdf, outlines, cells, scale, DeviceGray(1 - amount), BlendMode.NORMAL)
    return _save(pdf, path)


def _document(width: int, height: int, params: dict, dpi: float | None):
    """A PDF of pages width x height pixels at `dpi`, carrying `params`; and points per pixel."""
    from fpdf import FPDF

    scale = POINTS_PER_INCH / (dpi or SCREEN_DPI)
    pdf = FPDF(unit="pt", format=(width * scale, height * scale))
    pdf.set_auto_page_break(False)
    pdf.set_creator(f"glyphart {__version__}")
    pdf.set_title(f"glyphart {params.get('kind', 'page')}: {params.get('preset', '')}")
    pdf.set_subject(metadata_json(params))
    pdf.set_creation_date(FIXED_DATE)
    return pdf, scale


def _fill(pdf, outlines: list, cells, scale: float, colour, blend) -> None:
    """One path of outlines (outlines[i] in cell i) filled in `colour` with `blend`."""
    from fpdf.drawing import PaintedPath
    from fpdf.enums import PathPaintRule

    drawing = PaintedPath()
    drawing.style.paint_rule = PathPaintRule.FILL_NONZERO
    drawing.style.fill_color = colour
    drawing.style.stroke_color = None
    drawing.style.blend_mode = blend
    for outline, (x, y, _) in zip(outlines, cells):
        _trace(drawing, outline, x, y, scale)
    pdf.draw_path(drawing, copy=False)  # a fresh path: no need for fpdf2's deep copy


def _save(pdf, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        pdf.output(str(tmp))
    return Path(path)


def _trace(drawing, outline, dx: float, dy: float, scale: float) -> None:
    """Append a pathops Path, shifted by (dx, dy) pixels, to an fpdf2 path in points."""
    def at(point):
        return ((point[0] + dx) * scale, (point[1] + dy) * scale)

    for verb, points in quadratics_split(outline.segments):
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
