"""Separations: a poster or sheet written as its composite and one master per ink, for a
risograph (one drum per ink), a screen printer or anyone printing one colour a pass.

Each master is black on white (PNG: 8-bit grayscale at the poster's dpi; PDF: vectors in
DeviceGray; SVG: black fills), in print order (layer 1 first), named by its number and
colour (`poster-ink1-0078bf.png`, or wherever `{ink}` stands in the name), on the
composite's very page. With `pages` a PDF holds every master, a page each. With marks, every
file's page grows by a border that carries crop marks and registration targets.

The composite is drawn from the masters (masters.py's proof): what the drums print together,
so their density shows in it. Sheets are separated as posters are; their seed labels and the
shaded gaps between cells are left out (the composite's gaps are paper), so that every mark
of ink on the composite is on a master.

Masters are black on white, so an ink must darken its paper: a palette of light inks on dark
paper (chalk, gold, night...) is refused, with a paper-light palette named instead.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import GlyphartError
from ..inks import PALETTES, Paint
from ..parse import color as parse_color, entries, number
from . import glyphs, marks, masters
from .compose import BAND_ROWS
from .paint import hex_colour, ink_fills
from .writers.metadata import metadata_text
from .writers.pdf import write_gray_pdf, write_pdf
from .writers.png import PngStream
from .writers.svg import write_svg

MODES = ("files", "pages")
INK_FIELD = "{ink}"  # where an output's name says which master a file is
SHEET_DPI = 96  # a sheet's pixels printed as its PDF prints them: millimetres for marks, trap
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass
class Separations:
    """How a poster or sheet is separated: each file records it under "separations"."""
    mode: str = "files"  # files: a file per master; pages: one PDF, a page per master
    marks: bool = False  # crop marks and registration targets on a border round the page
    trap_mm: float = 0.0  # under --blend over, lower inks run this far under upper ones
    density: list[float] | None = None  # per ink, 0-1: each master lightened by it


def options(mode: str | None, marks_too: bool = False, trap: float | None = None,
            density: str | None = None) -> Separations | None:
    """The command line's four options, read: marks, trap and density shape masters, so
    without --separations they are refused."""
    if mode is None:
        given = [flag for flag, value in (("--marks", marks_too), ("--trap", trap is not None),
                                          ("--ink-density", density is not None)) if value]
        if given:
            raise GlyphartError(f"{given[0]} shapes the masters that --separations writes; add "
                                f"--separations or drop {given[0]}")
        return None
    if mode not in MODES:
        raise GlyphartError(f"--separations {mode!r}: use files (a file per ink) or pages (one "
                            "PDF, a page per ink)")
    return Separations(mode, bool(marks_too), trap or 0.0,
                       None if density is None else parse_density(density))


def parse_density(text: str) -> list[float]:
    """'1,0.8,0.6' -> [1.0, 0.8, 0.6]: one value per ink, each from 0 to 1."""
    return [number(entry, 0, 1, "--ink-density value") for entry in entries(text, "--ink-density")]


def check(seps: Separations, paint: Paint, palette: str, path) -> None:
    """Refuse what these masters cannot print, before any drawing."""
    count = len(paint.inks)
    if seps.density is not None and len(seps.density) != count:
        example = ",".join(["1", "0.8", "0.6", "0.5"][:count] + ["0.5"] * (count - 4))
        raise GlyphartError(f"--ink-density gives {len(seps.density)} value(s) but the preset "
                            f"draws {count} ink(s); give {count}, e.g. --ink-density {example}")
    if seps.trap_mm and paint.blend != "over":
        raise GlyphartError("--trap spreads inks under the inks that knock them out, which "
                            "--blend over does; multiply overprints every ink (nothing to "
                            "trap): add --blend over or drop --trap")
    if seps.mode == "pages" and Path(str(path)).suffix.lower() != ".pdf":
        raise GlyphartError("--separations pages puts every master in one PDF; name the output "
                            ".pdf, or write a file per ink with --separations files")
    _check_paper(paint, palette)


def _check_paper(paint: Paint, palette: str) -> None:
    """Black-on-white masters print inks that darken the paper (riso inks are translucent)."""
    paper = float(_LUMA @ paint.paper)
    lighter = [ink for ink in paint.inks if float(_LUMA @ ink) > paper]
    if lighter:
        fits = [name for name, p in PALETTES.items() if len(p.inks) >= len(paint.inks) and
                all(_LUMA @ parse_color(ink) <= _LUMA @ parse_color(p.paper)
                    for ink in p.inks[:len(paint.inks)])]
        raise GlyphartError(
            f"palette {palette!r} lays ink {hex_colour(lighter[0])} on darker paper "
            f"{hex_colour(paint.paper)}, which black-on-white masters cannot print (each ink "
            f"darkens its paper); separate a paper-light palette, e.g. --palette {fits[0]}")


# ---------------------------------------------------------------------------------------------
# names and metadata


def ink_label(k: int, colour) -> str:
    """'ink1-0078bf': the master's place in the print order and its ink."""
    return f"ink{k + 1}-{hex_colour(colour)[1:]}"


def named(path, label: str) -> Path:
    """The output's name with `label` where {ink} stands, else before the extension."""
    text = str(path)
    if INK_FIELD in text:
        return Path(text.replace(INK_FIELD, label))
    plain = Path(text)
    return plain.with_name(f"{plain.stem}-{label}{plain.suffix}")


def composite_path(path) -> Path:
    return named(path, "composite") if INK_FIELD in str(path) else Path(path)


def outputs(params: dict, seps: Separations, paint: Paint, path) -> list[tuple[Path, dict]]:
    """(file, metadata) of the composite and then of its masters, in print order."""
    composite = composite_path(path)
    density = seps.density or [1.0] * len(paint.inks)
    inks = [{"ink": k + 1, "colour": hex_colour(colour), "density": d}
            for k, (colour, d) in enumerate(zip(paint.inks, density))]
    shared = {"composite": composite.name, "inks": len(inks), "blend": paint.blend}
    if seps.mode == "pages":
        return [(composite, params), (named(path, "separations"),
                                      params | {"separation": shared | {"pages": inks}})]
    return [(composite, params)] + [
        (named(path, ink_label(k, paint.inks[k])), params | {"separation": shared | ink})
        for k, ink in enumerate(inks)]


# ---------------------------------------------------------------------------------------------
# the page the files share


@dataclass
class Frame:
    """The page of the composite and its masters: the layout's, or with marks that page grown
    by a border (the trim is the layout's page, `border` px in)."""
    width: int
    height: int
    cells: list
    dpi: float  # pixels per inch, for millimetres (trap, marks)
    written_dpi: float | None  # what the files say (a sheet's pixels state none)
    marks: list
    border: int = 0


def frame(width: int, height: int, cells: list, dpi: float | None, with_marks: bool) -> Frame:
    per_inch = dpi or SHEET_DPI
    if not with_marks:
        return Frame(width, height, list(cells), per_inch, dpi, [])
    width, height, cells, border = marks.framed(width, height, cells, per_inch)
    return Frame(width, height, cells, per_inch, dpi, marks.shapes(width, height, per_inch),
                 border)


def trap_px(seps: Separations, page: Frame) -> float:
    return seps.trap_mm / 25.4 * page.dpi


# ---------------------------------------------------------------------------------------------
# drawing: posters and sheets


def draw_poster(preset, plan, path, look) -> list[Path]:
    """A separated poster (plan: api.PosterPlan): the composite and its masters."""
    page = plan.page
    frame_ = frame(page.width, page.height, plan.cells, page.dpi, plan.separations.marks)
    if Path(path).suffix.lower() in (".svg", ".pdf"):
        return _draw_vector(preset, plan.z, plan.cells, frame_, look, plan.separations,
                            plan.params, path)
    rows = glyphs.row_painter(preset.generator, plan.z, [side for *_, side in plan.cells],
                              look.style)
    return _draw_pixels(rows, frame_, look.paint(preset), plan.separations, plan.params, path)


def draw_sheet(preset, z: torch.Tensor, layout, look, seps: Separations, params: dict,
               path) -> list[Path]:
    """A separated sheet (layout: layouts.sheet.SheetLayout): its gaps paper, no labels."""
    frame_ = frame(layout.width, layout.height, layout.cells, None, seps.marks)
    if Path(path).suffix.lower() in (".svg", ".pdf"):
        return _draw_vector(preset, z, layout.cells, frame_, look, seps, params, path)
    images = glyphs.render_glyphs(preset.generator, z, layout.glyph_px, look.style)
    return _draw_pixels(lambda i, side, first, end: images[i:i + 1, :, first:end], frame_,
                        look.paint(preset), seps, params, path)


def _draw_pixels(glyph_rows, page: Frame, paint: Paint, seps: Separations, params: dict,
                 path) -> list[Path]:
    """PNG composite (RGB) and masters (grayscale), band by band from one pass of drawing."""
    files = outputs(params, seps, paint, path)
    with contextlib.ExitStack() as stack:
        composite = stack.enter_context(PngStream(
            files[0][0], page.width, page.height, dpi=page.written_dpi,
            text=metadata_text(files[0][1])))
        drums = [stack.enter_context(PngStream(name, page.width, page.height, gray=True,
                                               dpi=page.written_dpi, text=metadata_text(meta)))
                 for name, meta in files[1:]]
        for band in master_bands(glyph_rows, page, paint, seps):
            composite.write(masters.proof_rgb8(band, paint, seps.density))
            for drum, master in zip(drums, band):
                drum.write(master)
    return [name for name, _ in files]


def master_bands(glyph_rows, page: Frame, paint: Paint, seps: Separations):
    """Yield the masters (K, rows, width) uint8 a band of rows at a time. A trap looks past
    the band by its reach, so each band draws that many rows more above and below."""
    trap = trap_px(seps, page)
    reach = math.ceil(trap)
    density = torch.tensor(seps.density or [1.0] * len(paint.inks)).view(-1, 1, 1)
    for y0 in range(0, page.height, BAND_ROWS):
        y1 = min(y0 + BAND_ROWS, page.height)
        a0, a1 = max(0, y0 - reach), min(page.height, y1 + reach)
        coverage = page_coverage(glyph_rows, page.cells, page.width, a0, a1, len(paint.inks))
        ink = masters.amounts(coverage, paint.blend, trap)[:, y0 - a0:y1 - a0]
        if page.marks:  # on every master, over whatever the knockout left
            ink = torch.maximum(ink, torch.from_numpy(
                marks.coverage_rows(page.marks, page.width, y0, y1)))
        yield masters.to_gray(ink * density)


def page_coverage(glyph_rows, cells: list, width: int, first: int, end: int, layers: int
                  ) -> torch.Tensor:
    """(layers, end - first, width) coverage of the page's rows [first, end): each glyph's
    rows there, drawn by `glyph_rows(i, side, first, end)` (glyphs.row_painter's contract)."""
    band = torch.zeros(layers, end - first, width)
    for i, (x, y, side) in enumerate(cells):
        r0, r1 = max(first, y), min(end, y + side)
        if r0 < r1:
            band[:, r0 - first:r1 - first, x:x + side] = glyph_rows(i, side, r0 - y, r1 - y)[0]
    return band


def _draw_vector(preset, z: torch.Tensor, cells: list, page: Frame, look,
                 seps: Separations, params: dict, path) -> list[Path]:
    """PDF or SVG: the composite in the inks (lightened by their density) and a master per
    ink, each glyph's layers knocked out as the blend says, the marks on every layer."""
    paint = look.paint(preset)
    files = outputs(params, seps, paint, path)
    outlines = glyphs.cell_outlines(preset, z, cells)
    per_glyph = [masters.knocked_out_outlines(glyph, paint.blend, trap_px(seps, page))
                 for glyph in outlines]
    per_ink = [[glyph[k] for glyph in per_glyph] for k in range(len(paint.inks))]
    cells = page.cells
    if page.marks:  # one more "glyph": the marks, in page pixels, on every layer
        outline = marks.outline(page.marks)
        outlines = [*outlines, [outline] * len(paint.inks)]
        per_ink = [layer + [outline] for layer in per_ink]
        cells = [*cells, (0, 0, 0)]
    _write_composite(files[0], outlines, cells, page, masters.lightened(paint, seps.density))
    density = seps.density or [1.0] * len(per_ink)
    if seps.mode == "pages":
        name, meta = files[1]
        write_gray_pdf(name, list(zip(per_ink, density)), cells, page.width, page.height,
                       params=meta, dpi=page.written_dpi)
    else:
        for (name, meta), layer, amount in zip(files[1:], per_ink, density):
            _write_master(name, meta, layer, amount, cells, page)
    return [name for name, _ in files]


def _write_composite(file: tuple[Path, dict], outlines, cells, page: Frame, paint: Paint
                     ) -> None:
    name, meta = file
    size = (page.width, page.height)
    if name.suffix.lower() == ".pdf":
        write_pdf(name, outlines, cells, *size, fills=ink_fills(paint), paper=paint.paper,
                  params=meta, dpi=page.written_dpi)
    else:
        write_svg(name, outlines, cells, *size, fills=ink_fills(paint),
                  paper=hex_colour(paint.paper), params=meta, dpi=page.written_dpi)


def _write_master(name: Path, meta: dict, layer: list, amount: float, cells,
                  page: Frame) -> None:
    if name.suffix.lower() == ".pdf":
        write_gray_pdf(name, [(layer, amount)], cells, page.width, page.height, params=meta,
                       dpi=page.written_dpi)
        return
    gray = round(255 * (1 - amount))
    write_svg(name, [[outline] for outline in layer], cells, page.width, page.height,
              fills=[(hex_colour((gray, gray, gray)), "normal")], paper="#ffffff", params=meta,
              dpi=page.written_dpi)
