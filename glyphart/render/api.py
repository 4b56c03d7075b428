"""`Render`: one render job (a preset, its glyphs and a look) with a method per output. The
CLI's `render` and `font` commands are thin shells over it, and Python users share it:

    job = Render.load("hd-color", seeds="0-7")
    job.video("lerp.webm")

Each output is the way of a glyph, one plain call per stage: messages -> glyphs (coverage or
outlines, glyphs.py) -> paint (paint.py) -> a layout (layouts/) -> pixels (compose.py) -> a
writer (writers/) -> a file, atomic, carrying its parameters. Options are resolved here once,
into the dataclasses the files record.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import distributed
from ..atomic import write_text
from ..errors import GlyphartError
from ..latent import compact_seeds, messages, parse_seeds
from ..presets import safe_file_name
from ..progress import Progress
from . import compose, glyphs, separations as separate
from .layouts import font as font_layout
from .layouts.grid import parse_grid
from .layouts.page import page_size
from .layouts.plot import PLOT_DPI, plot_layout
from .layouts.poster import GAP_FRAC, poster_layout
from .layouts.sheet import sheet_layout
from .layouts.video import cell_keys, check_interp, frame_count, frame_side
from .look import Look
from .paint import hex_colour, ink_fills
from .writers.font import Em, Letter, check_font_name, write_font, write_specimen
from .writers.metadata import metadata_text
from .writers.pdf import write_pdf
from .writers.plot import check_plot_name, write_plot
from .writers.png import png_is_complete, read_metadata, write_image, write_png
from .writers.svg import write_svg
from .writers.video import DEFAULT_SPEED, FORMATS as VIDEO_FORMATS, VideoWriter

PAGE_FORMATS = (".png", ".svg", ".pdf")


MAX_MESSAGE_VALUE = 100.0  # a standard normal number never comes near it


def load_message_file(path: str | Path, size: int) -> torch.Tensor:
    """A .npy file of one message (N,) or several (K, N) of finite real numbers -> (K, N)."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise GlyphartError(f"message file {path}: give a .npy file (from `glyphart invert` or "
                            "numpy.save)")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise GlyphartError(f"cannot read message file {path}: {e}") from None
    if not isinstance(array, np.ndarray):
        raise GlyphartError(f"message file {path} is not a single array; save one with "
                            "numpy.save")
    if array.ndim == 1:
        array = array[None]
    kind = array.dtype.kind
    if kind not in "fiu":
        raise GlyphartError(f"message file {path} holds {array.dtype} values; messages are "
                            "real numbers (float32)")
    if array.ndim != 2 or array.shape[1] != size or array.shape[0] == 0:
        raise GlyphartError(f"message file {path} holds shape {array.shape}; this preset "
                            f"needs messages of {size} numbers")
    array = array.astype(np.float64)
    if not np.isfinite(array).all() or np.abs(array).max() > MAX_MESSAGE_VALUE:
        raise GlyphartError(f"message file {path} holds NaN, infinite or huge values (beyond "
                            f"±{MAX_MESSAGE_VALUE:g}); messages are standard normal numbers")
    return torch.from_numpy(array.astype(np.float32))


# ---------------------------------------------------------------------------------------------
# options, resolved once: what each file records under "options" (in this order)


@dataclass
class SheetOptions:
    grid: str  # ROWSxCOLS or "auto"
    glyph_px: int | str  # or "native"
    gap: int
    labels: bool


@dataclass
class PageOptions:
    """A poster's page, or a plotter file's."""
    size: str
    dpi: float
    pixels: str
    landscape: bool
    layout: str
    grid: str
    margin_px: int
    gap: float


@dataclass
class VideoOptions:
    grid: str
    frames: int
    fps: int
    interp: str
    px: int
    crf: int
    speed: int


def provenance(kind: str, preset, seeds, options, look: Look, extra: dict | None = None
               ) -> dict:
    """The parameters a file carries: what made it, and every option that shaped it."""
    return {"kind": kind, "preset": preset.name, "weights": preset.weights_hash,
            "seeds": compact_seeds(seeds), **(extra or {}),
            "options": asdict(options) | asdict(look)}


# ---------------------------------------------------------------------------------------------
# the job


@dataclass
class Render:
    preset: object
    seeds: list[int] | None = None          # None: use each output's default from [render]
    extra: torch.Tensor | None = None       # messages from files, after the seeds
    extra_names: list[str] = field(default_factory=list)
    look: Look = None  # type: ignore[assignment]  # None: the preset's own
    skipped: list[Path] = field(default_factory=list)  # batch posters already done
    picked_from: str = ""                   # the pool `pick` chose the seeds from

    def __post_init__(self):
        if self.look is None:
            self.look = Look.from_preset(self.preset)

    @classmethod
    def load(cls, preset: str, seeds: str | None = None, message_files=(), palette=None,
             inks=None, paper=None, blend=None, style=None, pick: int | None = None,
             device: str = "cpu") -> "Render":
        """`pick`: the glyphs are the `pick` most distinct of `seeds` (default 0-4095);
        `device`: auto, cpu or cuda, where the generator draws."""
        from ..presets import load_preset
        loaded = load_preset(preset, device=str(distributed.resolve_device(device)))
        seed_list = parse_seeds(seeds) if seeds is not None else None
        pool = ""
        if pick is not None:
            from ..alphabet import DEFAULT_POOL, pick as pick_distinct
            pool = seeds or DEFAULT_POOL
            seed_list = pick_distinct(loaded, pick, parse_seeds(pool))
        size = loaded.spec.model.message_size
        extra = torch.cat([load_message_file(f, size) for f in message_files]) \
            if message_files else None
        glyphs.check_style(loaded, style)
        look = Look.from_preset(loaded, palette=palette, inks=inks, paper=paper, blend=blend,
                                style=style)
        return cls(loaded, seed_list, extra, [Path(f).name for f in message_files], look,
                   picked_from=pool)

    def glyphs(self, default_seeds: str) -> tuple[list[int], torch.Tensor]:
        seeds = self.seeds if self.seeds is not None else (
            [] if self.extra is not None else parse_seeds(default_seeds))
        z = messages(self.preset, seeds)
        if self.extra is not None:
            z = torch.cat([z, self.extra])
        if len(z) == 0:
            raise GlyphartError("no glyphs to draw: give --seeds or --message")
        return seeds, z

    def _extra_params(self) -> dict:
        return ({"messages": self.extra_names} if self.extra_names else {}) | \
            ({"picked_from": self.picked_from} if self.picked_from else {})

    # -- outputs ------------------------------------------------------------------------------

    def sheet(self, path, grid=None, glyph_px=None, gap=None, labels=False,
              separations: separate.Separations | None = None) -> Path | list[Path]:
        """The sheet's path; with `separations`, the composite's and its masters' paths."""
        one_process("a sheet")
        if Path(path).suffix.lower() not in PAGE_FORMATS:
            raise GlyphartError(f"--sheet {path}: sheets are written as PNG, SVG or PDF; end "
                                "the name in .png, .svg or .pdf")
        if labels and self.extra is not None:
            raise GlyphartError("--labels prints seed numbers, which --message glyphs do not "
                                "have; drop --labels or --message")
        seeds, z = self.glyphs(self.preset.spec.render.sheet_seeds)
        return render_sheet(self.preset, seeds, path, grid=grid, glyph_px=glyph_px, gap=gap,
                            labels=labels, look=self.look, z=z, extra=self._extra_params(),
                            separations=separations)

    def posters(self, template, size="a3", dpi=300.0, landscape=False, margin=None,
                layout=None, grid=None, per_page=24, force=False, quiet=False,
                separations: separate.Separations | None = None):
        """Write one poster, or one per seed / page when the name holds {seed} or {page}.
        Yields the paths written (with `separations`, each composite's and then its masters');
        files already done with the same parameters are skipped."""
        page_size(size, dpi, landscape)  # validate before any work
        seeds, z = self.glyphs(self.preset.spec.render.sheet_seeds)
        fields = template_fields(template)
        self._check_separations(separations, template, "ink" in fields)
        layout = layout or ("hero" if "seed" in fields else "grid")
        shape = parse_grid(grid)
        if "seed" in fields:
            if self.extra is not None:
                raise GlyphartError("{seed} posters take seeds only, not --message files")
            jobs = [({"seed": s}, [s], z[i:i + 1]) for i, s in enumerate(seeds)]
        elif "page" in fields:
            step = shape[0] * shape[1] if shape else per_page
            jobs = [({"page": p + 1}, seeds[i:i + step], z[i:i + step])
                    for p, i in enumerate(range(0, len(z), step))]
        else:
            jobs = [({}, seeds, z)]
        preset_name = safe_file_name(self.preset.name)
        batch = bool(fields - {"preset", "ink"})
        if not batch:
            one_process("a single poster")
        plan = functools.partial(plan_poster, self.preset, size=size, dpi=dpi,
                                 landscape=landscape, layout=layout, margin_in=margin,
                                 grid=shape, look=self.look, extra=self._extra_params(),
                                 separations=separations)
        # Under torchrun each rank draws its share of a batch (distributed.shard).
        mine = distributed.shard(jobs) if batch else jobs
        if batch:
            distributed.start(torch.device(self.preset.device), distributed.EXPORT_TIMEOUT)
        with Progress(len(mine), "posters", quiet=quiet or len(jobs) == 1 or
                      not distributed.is_main(), unit="file") as bar:
            for values, job_seeds, job_z in mine:
                path = Path(template.format(preset=preset_name, ink=separate.INK_FIELD, **values))
                poster = plan(job_seeds, z=job_z)
                # Batch exports resume: a complete poster with this very metadata is kept.
                if batch and not force and all(already_done(*file) for file in
                                               self._files(poster, path)):
                    self.skipped.append(path)
                    bar.update()
                    continue
                written = draw_poster(self.preset, poster, path, self.look)
                yield from written if isinstance(written, list) else [written]
                bar.update()
        if batch:  # once every rank's files are written, rank 0 lists them all
            distributed.barrier()
            if distributed.is_main():
                first = plan(jobs[0][1], z=jobs[0][2])
                write_manifest([(self._files(first, Path(template.format(
                    preset=preset_name, ink=separate.INK_FIELD, **values))), job_seeds)
                    for values, job_seeds, _ in jobs], template, first.params)
            distributed.stop()

    def _check_separations(self, seps, path, named_by_ink: bool) -> None:
        if named_by_ink and not seps:
            raise GlyphartError("{ink} in a poster name stands for each master's ink; add "
                                "--separations or drop {ink}")
        if seps:
            separate.check(seps, self.look.paint(self.preset), self.look.palette, path)

    def _files(self, poster: "PosterPlan", path: Path) -> list[tuple[Path, dict]]:
        """(file, metadata) of each file a poster is written as: itself, or with separations
        its composite and masters."""
        if not poster.separations:
            return [(path, poster.params)]
        return separate.outputs(poster.params, poster.separations,
                                self.look.paint(self.preset), path)

    def plot(self, path, size="a3", landscape=False, margin=None, grid=None, pen=0.5,
             hatch=0.0) -> Path:
        """Pen-plotter SVG of the glyphs, laid out as a grid poster of that page size."""
        one_process("a plot")
        seeds, z = self.glyphs(self.preset.spec.render.sheet_seeds)
        return render_plot(self.preset, seeds, path, size=size, landscape=landscape,
                           margin_in=margin, grid=parse_grid(grid), look=self.look, z=z,
                           pen=pen, hatch=hatch, extra=self._extra_params())

    def video(self, path, grid="1x1", seconds=None, frames_per_key=None, fps=None, interp=None,
              px=None, gap=None, crf=30, speed=DEFAULT_SPEED, quiet=False) -> Path:
        one_process("a video")
        shape = parse_grid(grid) or (1, 1)
        cells = shape[0] * shape[1]
        default = self.preset.spec.render.video_seeds
        if self.seeds is None and self.extra is None and cells > 1:
            keys = max(2, len(parse_seeds(default)) // cells)
            default = f"0-{keys * cells - 1}"
        seeds, z = self.glyphs(default)
        return render_video(self.preset, seeds, path, grid=shape, frames_per_key=frames_per_key,
                            seconds=seconds, fps=fps, interp=interp, px=px, gap=gap,
                            look=self.look, crf=crf, speed=speed, z=z, quiet=quiet,
                            extra=self._extra_params())

    def font(self, path, characters: list[str]) -> Path:
        """A font of the job's seeds (glyph i types as characters[i]): .ttf, .otf or .woff2.
        Its description (name ID 10) records the preset, the seeds and the pool they were
        picked from."""
        one_process("a font")
        check_font_name(path)
        letters = self._letters(characters)
        return write_font(Path(path), letters, _EM, family=self._family(),
                          unique_id=self._unique_id(),
                          description=self._description(self.picked_from))

    def specimen(self, font_path, characters: list[str]) -> list[Path]:
        """Beside a font: NAME.woff2 (unless the font is one), NAME.specimen.html and
        NAME.specimen.png, setting a pangram and the alphabet. Returns their paths."""
        return write_specimen(Path(font_path), self._letters(characters), _EM,
                              family=self._family(), unique_id=self._unique_id(),
                              description=self._description(""), seeds=self.seeds)

    def _letters(self, characters: list[str]) -> list[Letter]:
        letters = []
        for character, (name, outline, left, right) in zip(
                characters, compose.font_glyphs(self.preset, self.seeds, font_layout.SQUARE)):
            advance, bearing, shift = font_layout.letter_metrics(left, right)
            letters.append(Letter(name, character, outline, advance, bearing, shift))
        return letters

    def _family(self) -> str:
        return f"glyphart {self.preset.name}"

    def _unique_id(self) -> str:
        return f"{self._family()} {self.preset.weights_hash}"

    def _description(self, picked_from: str) -> str:
        import json
        made = {"preset": self.preset.name, "seeds": self.seeds} | \
            ({"picked_from": picked_from} if picked_from else {})
        return "glyphart " + json.dumps(made, separators=(",", ":"))


_EM = Em(font_layout.UNITS_PER_EM, font_layout.SQUARE, font_layout.DESCENT)


# ---------------------------------------------------------------------------------------------
# each output: glyphs -> paint -> layout -> pixels or outlines -> writer


def render_sheet(preset, seeds: str | list[int], path: str | Path, grid: str | None = None,
                 glyph_px: int | None = None, gap: int | None = None, labels: bool = False,
                 look: Look | None = None, z: torch.Tensor | None = None,
                 extra: dict | None = None,
                 separations: separate.Separations | None = None) -> Path | list[Path]:
    """Write a glyph sheet (PNG, SVG or PDF) for `seeds` (or messages `z`); returns its path
    (with `separations`: the composite's and its masters')."""
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
    options = SheetOptions(grid or "auto", glyph_px or "native", gap, labels)
    params = provenance("sheet", preset, seed_list, options, look, extra)
    if separations:
        if labels:
            raise GlyphartError("--labels prints seed numbers that no master carries (a "
                                "separated sheet is its glyphs alone); drop --labels")
        separate.check(separations, look.paint(preset), look.palette, path)
        params["separations"] = asdict(separations)
    z = messages(preset, seed_list) if z is None else z
    paint = look.paint(preset)
    vector = _is_vector(path)
    if vector and labels:
        raise GlyphartError("--labels prints seed numbers on PNG sheets; drop it for "
                            "SVG and PDF")
    layout = sheet_layout(len(z), cols, glyph_px or preset.spec.model.size, gap,
                          check_pixels=not vector)
    if separations:
        return separate.draw_sheet(preset, z, layout, look, separations, params, path)
    if vector:
        return _write_page(path, glyphs.cell_outlines(preset, z, layout.cells), layout.cells,
                           layout.width, layout.height, paint, params)
    image = compose.sheet_picture(preset.generator, z, layout, look.style, paint,
                                  labels=seed_list if labels else None)
    return write_image(path, image, text=metadata_text(params))


@dataclass
class PosterPlan:
    """Everything that decides a poster's pixels, worked out before any drawing."""
    page: object  # layouts.page.PageSize
    cells: list
    z: torch.Tensor
    params: dict  # the metadata the poster carries
    separations: separate.Separations | None = None  # written with a master per ink


def plan_poster(preset, seeds: list[int], size: str = "a3", dpi: float = 300,
                landscape: bool = False, layout: str = "grid", margin_in: float | None = None,
                gap: float = GAP_FRAC, grid: tuple[int, int] | None = None,
                look: Look | None = None, z: torch.Tensor | None = None,
                extra: dict | None = None,
                separations: separate.Separations | None = None) -> PosterPlan:
    look = look or Look.from_preset(preset)
    page_size(size, dpi, landscape)  # a bad size is refused before the glyphs are made
    z = messages(preset, seeds) if z is None else z
    placed = poster_layout(len(z), size=size, dpi=dpi, landscape=landscape, layout=layout,
                           margin_in=margin_in, gap_frac=gap, grid=grid)
    page = placed.page
    options = PageOptions(size, dpi, f"{page.width}x{page.height}", landscape, layout,
                          f"{grid[0]}x{grid[1]}" if grid else "auto", placed.margin_px, gap)
    params = provenance("poster", preset, seeds, options, look, extra)
    if separations:
        params["separations"] = asdict(separations)
    return PosterPlan(page, placed.cells, z, params, separations)


def draw_poster(preset, plan: PosterPlan, path: str | Path, look: Look) -> Path | list[Path]:
    if plan.separations:
        return separate.draw_poster(preset, plan, path, look)
    paint = look.paint(preset)
    page = plan.page
    if _is_vector(path):
        return _write_page(path, glyphs.cell_outlines(preset, plan.z, plan.cells), plan.cells,
                           page.width, page.height, paint, plan.params, dpi=page.dpi)
    rows = glyphs.row_painter(preset.generator, plan.z, [side for _, _, side in plan.cells],
                              look.style)
    return write_png(path, page.width, page.height,
                     compose.poster_bands(rows, plan.cells, page.width, page.height, paint),
                     dpi=page.dpi, text=metadata_text(plan.params))


def render_poster(preset, seeds: list[int], path: str | Path, look: Look | None = None,
                  **options) -> Path:
    """Write one poster (PNG, SVG or PDF) of the given glyphs (options as plan_poster's)."""
    look = look or Look.from_preset(preset)
    return draw_poster(preset, plan_poster(preset, seeds, look=look, **options), path, look)


def render_plot(preset, seeds: list[int], path: str | Path, size: str = "a3",
                landscape: bool = False, margin_in: float | None = None,
                grid: tuple[int, int] | None = None, look: Look | None = None,
                z: torch.Tensor | None = None, pen: float = 0.5, hatch: float = 0.0,
                extra: dict | None = None) -> Path:
    """Plot glyph i in its cell of a grid page, in mm: a pen per ink (plotter SVG)."""
    look = look or Look.from_preset(preset)
    z = messages(preset, seeds) if z is None else z
    placed = plot_layout(len(z), size=size, landscape=landscape, margin_in=margin_in,
                         grid=grid)
    page = placed.page
    options = PageOptions(size, PLOT_DPI, f"{page.width}x{page.height}", landscape, "grid",
                          f"{grid[0]}x{grid[1]}" if grid else "auto", placed.margin_px,
                          GAP_FRAC)
    params = provenance("plot", preset, seeds, options, look, extra)
    check_plot_name(path)
    glyphs.check_hatch(preset, hatch)
    paint = look.paint(preset)
    layers = [[] for _ in paint.inks]
    for i, cell in enumerate(placed.cells):
        for layer, lines in enumerate(glyphs.pen_lines(preset, z[i:i + 1], cell[2],
                                                       hatch / placed.mm)):
            layers[layer] += [(placed.to_mm(line, cell), closed) for line, closed in lines]
    return write_plot(path, layers, page.width * placed.mm, page.height * placed.mm,
                      pens=[hex_colour(ink) for ink in paint.inks],
                      params=params | {"pen_mm": pen, "hatch_mm": hatch}, pen=pen)


def render_video(preset, seeds: list[int], path: str | Path, grid: tuple[int, int] = (1, 1),
                 frames_per_key: int | None = None, seconds: float | None = None,
                 fps: int | None = None, interp: str | None = None, px: int | None = None,
                 gap: int | None = None, look: Look | None = None, crf: int = 30,
                 speed: int = DEFAULT_SPEED, z: torch.Tensor | None = None, quiet: bool = False,
                 extra: dict | None = None) -> Path:
    """Write a looping interpolation video (.webm VP9, .mp4 H.264 or .gif)."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_FORMATS:
        raise GlyphartError(f"unsupported video format {path.suffix or '(none)'!r} for {path}; "
                            f"use {', '.join(VIDEO_FORMATS)}")
    r = preset.spec.render
    look = look or Look.from_preset(preset)
    fps = fps or r.fps
    interp = interp or r.interp
    check_interp(interp)
    px = px or r.video_px or 2 * preset.spec.model.size
    gap = (r.gap if gap is None else gap) if grid != (1, 1) else 0
    cells = grid[0] * grid[1]
    z = messages(preset, seeds) if z is None else z
    frame_side(max(grid), px, gap)
    keys = cell_keys(z, cells)
    frames = frame_count(keys.shape[1], fps, frames_per_key or r.frames_per_key, seconds)
    paint = look.paint(preset)
    options = VideoOptions(f"{grid[0]}x{grid[1]}", frames, fps, interp, px, crf, speed)
    params = provenance("video", preset, seeds, options, look, extra)
    with VideoWriter(path, fps=fps, crf=crf, speed=speed,
                     comment=metadata_text(params)["glyphart"]) as writer, \
            Progress(frames, f"video {path.name}", quiet=quiet, unit="frame") as bar, \
            beside_the_encoder():
        for frame in compose.loop_frames(preset.generator, keys, frames, interp, px, look,
                                         paint, grid[1], gap):
            writer.write(frame)
            bar.update()
    return path


@contextlib.contextmanager
def beside_the_encoder():
    """Generate with one torch thread fewer while ffmpeg encodes on its own core: on two cores
    the README's headline took 3.9-4.3 s with both threads contending with the encoder and
    3.4-3.6 s with one (`python bench/run.py startup`)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads - 1))
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def glyph_grid(images: torch.Tensor, cols: int | None = None, gap: int = 2, scale: int = 1,
               paint=None) -> np.ndarray:
    """Glyph coverage already drawn (training videos, study figures) as a uint8 grid."""
    from .paint import CHALK
    return compose.glyph_grid(images, cols=cols, gap=gap, scale=scale, paint=paint or CHALK)


# ---------------------------------------------------------------------------------------------
# helpers


def _is_vector(path) -> bool:
    return Path(path).suffix.lower() in (".svg", ".pdf")


def _write_page(path, outlines, cells, width, height, paint, params, dpi=None) -> Path:
    """An SVG or PDF page (by the name's extension) of outlines in cells (x, y, side)."""
    fills = ink_fills(paint)
    if Path(path).suffix.lower() == ".pdf":
        return write_pdf(path, outlines, cells, width, height, fills=fills, paper=paint.paper,
                         params=params, dpi=dpi)
    return write_svg(path, outlines, cells, width, height, fills=fills,
                     paper=hex_colour(paint.paper), params=params, dpi=dpi)


def template_fields(template: str) -> set[str]:
    """The fields of a poster name; it must format with plain {preset}, {seed} and {page}."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise GlyphartError(f"bad poster name {template!r}: {e}") from None
    found = {f for _, f, _, _ in parsed if f is not None}
    unknown = found - {"preset", "seed", "page", "ink"}
    if unknown:
        raise GlyphartError(f"bad poster name {template!r}: unknown field "
                            f"{{{sorted(unknown)[0]}}}; use {{preset}}, {{seed}}, {{page}} or "
                            "{ink}")
    if {"seed", "page"} <= found:
        raise GlyphartError("use {seed} or {page} in a poster name, not both")
    try:
        names = {template.format(preset="p", seed=s, page=s + 1, ink="i") for s in (0, 1, 10)}
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise GlyphartError(f"bad poster name {template!r}: {e}; write fields plainly, e.g. "
                            "{seed} or {seed:04d}") from None
    if found & {"seed", "page"} and len(names) < 3:
        raise GlyphartError(f"bad poster name {template!r}: different seeds or pages would "
                            "share one file name")
    if Path(template.format(preset="p", seed=0, page=1, ink="i")).suffix.lower() not in (
            ".png", ".svg", ".pdf"):
        raise GlyphartError(f"bad poster name {template!r}: posters are written as PNG, SVG or "
                            "PDF; end the name in .png, .svg or .pdf")
    return found


MANIFEST_FORMAT = "glyphart-manifest-1"


def write_manifest(files: list[tuple[list[tuple[Path, dict]], list[int]]], template: str,
                   params: dict) -> Path:
    """manifest.json in the batch's folder: every file of the export (relative to it) with its
    seeds and its separations, if any, and what they share (the preset, its weights, the
    options). The same export gives the same manifest however many processes drew it."""
    folder = Path(os.path.commonpath([path.parent.absolute() for written, _ in files
                                      for path, _ in written]))

    def shown(path: Path) -> str:
        return path.absolute().relative_to(folder).as_posix()

    shared = {k: v for k, v in params.items() if k != "seeds"}
    manifest = {"format": MANIFEST_FORMAT, **shared, "template": Path(template).name,
                "files": [{"file": shown(written[0][0]), "seeds": compact_seeds(seeds)} |
                          ({"separations": [shown(path) for path, _ in written[1:]]}
                           if written[1:] else {})
                          for written, seeds in files]}
    path = folder / "manifest.json"
    write_text(path, json.dumps(manifest, indent=1) + "\n")
    return path


def one_process(what: str) -> None:
    """Under torchrun only batch posters are shared out; anything else would be written by
    every rank at once."""
    if distributed.world().size > 1:
        raise GlyphartError(f"under torchrun, render shares out batch posters ({{seed}} or "
                            f"{{page}} in --poster); write {what} with one process")


def already_done(path: Path, params: dict) -> bool:
    """True when `path` is a complete PNG carrying exactly the metadata this poster would."""
    import json
    if not path.is_file() or not png_is_complete(path):
        return False
    try:
        return read_metadata(path) == json.loads(metadata_text(params)["glyphart"])
    except (OSError, ValueError):
        return False
