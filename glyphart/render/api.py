"""One render job: a preset, its glyphs (seeds and message files) and a look, with a method
per output. The CLI's `render` command is a thin shell over this; notebooks can use it too:

    job = Render.load("hd-color", seeds="0-7")
    job.video("lerp.webm")
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import GlyphartError
from ..latent import messages, parse_seeds
from ..presets import safe_file_name
from ..progress import Progress
from .sheet import Look, parse_grid, render_sheet
from .video import DEFAULT_SPEED


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


@dataclass
class Render:
    preset: object
    seeds: list[int] | None = None          # None: use each output's default from [render]
    extra: torch.Tensor | None = None       # messages from files, after the seeds
    extra_names: list[str] = field(default_factory=list)
    look: Look = None  # type: ignore[assignment]
    skipped: list[Path] = field(default_factory=list)  # batch posters already done
    picked_from: str = ""                   # the pool `pick` chose the seeds from

    @classmethod
    def load(cls, preset: str, seeds: str | None = None, message_files=(), palette=None,
             inks=None, paper=None, blend=None, style=None, pick: int | None = None
             ) -> "Render":
        """`pick`: the glyphs are the `pick` most distinct of `seeds` (default 0-4095)."""
        from ..presets import load_preset
        loaded = load_preset(preset)
        seed_list = parse_seeds(seeds) if seeds is not None else None
        pool = ""
        if pick is not None:
            from ..alphabet import DEFAULT_POOL, pick as pick_distinct
            pool = seeds or DEFAULT_POOL
            seed_list = pick_distinct(loaded, pick, parse_seeds(pool))
        size = loaded.spec.model.message_size
        extra = torch.cat([load_message_file(f, size) for f in message_files]) \
            if message_files else None
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

    def sheet(self, path, grid=None, glyph_px=None, gap=None, labels=False) -> Path:
        if Path(path).suffix.lower() not in (".png", ".svg", ".pdf"):
            raise GlyphartError(f"--sheet {path}: sheets are written as PNG, SVG or PDF; end "
                                "the name in .png, .svg or .pdf")
        if labels and self.extra is not None:
            raise GlyphartError("--labels prints seed numbers, which --message glyphs do not "
                                "have; drop --labels or --message")
        seeds, z = self.glyphs(self.preset.spec.render.sheet_seeds)
        return render_sheet(self.preset, seeds, path, grid=grid, glyph_px=glyph_px, gap=gap,
                            labels=labels, look=self.look, z=z,
                            extra=self._extra_params())

    def posters(self, template, size="a3", dpi=300.0, landscape=False, margin=None,
                layout=None, grid=None, per_page=24, force=False, quiet=False):
        """Write one poster, or one per seed / page when the name holds {seed} or {page}.
        Yields the paths written; files already done with the same parameters are skipped."""
        from .poster import draw_poster, page_size, plan_poster

        page_size(size, dpi, landscape)  # validate before any work
        seeds, z = self.glyphs(self.preset.spec.render.sheet_seeds)
        fields = _template_fields(template)
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
        with Progress(len(jobs), "posters", quiet=quiet or len(jobs) == 1, unit="file") as bar:
            for values, job_seeds, job_z in jobs:
                path = Path(template.format(preset=preset_name, **values))
                plan = plan_poster(self.preset, job_seeds, size=size, dpi=dpi,
                                   landscape=landscape, layout=layout, margin_in=margin,
                                   grid=shape, look=self.look, z=job_z,
                                   extra=self._extra_params())
                # Batch exports resume: a complete poster with this very metadata is kept.
                if fields - {"preset"} and not force and _already_done(path, plan.params):
                    self.skipped.append(path)
                    bar.update()
                    continue
                yield draw_poster(self.preset, plan, path, self.look)
                bar.update()

    def plot(self, path, size="a3", landscape=False, margin=None, grid=None, pen=0.5,
             hatch=0.0) -> Path:
        """Pen-plotter SVG of the glyphs, laid out as a grid poster of that page size."""
        from .plot import write_plot
        from .poster import plan_poster
        seeds, z = self.glyphs(self.preset.spec.render.sheet_seeds)
        plan = plan_poster(self.preset, seeds, size=size, dpi=PLOT_DPI, landscape=landscape,
                           margin_in=margin, grid=parse_grid(grid), look=self.look, z=z,
                           extra=self._extra_params())
        plan.params["kind"] = "plot"
        return write_plot(self.preset, z, path, plan.cells.cells, plan.page.width,
                          plan.page.height, self.look.paint(self.preset), plan.params,
                          PLOT_DPI, pen=pen, hatch=hatch)

    def video(self, path, grid="1x1", seconds=None, frames_per_key=None, fps=None, interp=None,
              px=None, gap=None, crf=30, speed=DEFAULT_SPEED, quiet=False) -> Path:
        from .video_loop import render_video
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


PLOT_DPI = 1000  # the layout's grid in plotter files: 0.025 mm


def _template_fields(template: str) -> set[str]:
    """The fields of a poster name; it must format with plain {preset}, {seed} and {page}."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise GlyphartError(f"bad poster name {template!r}: {e}") from None
    found = {f for _, f, _, _ in parsed if f is not None}
    unknown = found - {"preset", "seed", "page"}
    if unknown:
        raise GlyphartError(f"bad poster name {template!r}: unknown field "
                            f"{{{sorted(unknown)[0]}}}; use {{preset}}, {{seed}} or {{page}}")
    if {"seed", "page"} <= found:
        raise GlyphartError("use {seed} or {page} in a poster name, not both")
    try:
        names = {template.format(preset="p", seed=s, page=s + 1) for s in (0, 1, 10)}
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise GlyphartError(f"bad poster name {template!r}: {e}; write fields plainly, e.g. "
                            "{seed} or {seed:04d}") from None
    if found & {"seed", "page"} and len(names) < 3:
        raise GlyphartError(f"bad poster name {template!r}: different seeds or pages would "
                            "share one file name")
    if Path(template.format(preset="p", seed=0, page=1)).suffix.lower() not in (
            ".png", ".svg", ".pdf"):
        raise GlyphartError(f"bad poster name {template!r}: posters are written as PNG, SVG or "
                            "PDF; end the name in .png, .svg or .pdf")
    return found


def _already_done(path: Path, params: dict) -> bool:
    """True when `path` is a complete PNG carrying exactly the metadata this poster would."""
    import json
    from .output import metadata_text, png_is_complete, read_metadata
    if not path.is_file() or not png_is_complete(path):
        return False
    try:
        return read_metadata(path) == json.loads(metadata_text(params)["glyphart"])
    except (OSError, ValueError):
        return False
