"""Command line: parse, call the library, report. No logic lives here.

torch is imported inside the commands that need it, so `--help` and `--version` answer fast.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from . import __version__, parse
from .atomic import Terminated, terminate_like_interrupt
from .errors import GlyphartError
from .study import STUDIES  # names and one-line descriptions only: no torch


class Int(click.IntRange):
    """An integer option from lo to hi, read by glyphart.parse (its length and form checked
    before it is converted); click shows the range in --help."""

    def __init__(self, lo: int, hi: int):
        super().__init__(lo, hi)

    def convert(self, value, param, ctx):
        try:
            return parse.integer(value, self.min, self.max)
        except GlyphartError as e:
            self.fail(str(e), param, ctx)


class Number(click.FloatRange):
    """A finite number option from lo (or above it) to hi, read by glyphart.parse."""

    name = "finite number"

    def __init__(self, lo: float, hi: float, lo_open: bool = False):
        super().__init__(lo, hi, min_open=lo_open)

    def convert(self, value, param, ctx):
        try:
            return parse.number(value, self.min, self.max, lo_open=self.min_open)
        except GlyphartError as e:
            self.fail(str(e), param, ctx)


def device_option(what: str):
    return click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu",
                        show_default=True, help=f"Where to {what}; auto takes CUDA when there "
                                                "is one.")


def reports_errors(fn):
    """Turn GlyphartError into one clean line and exit code 2, Ctrl-C into exit code 130 and
    SIGTERM into 143, each after the command's temporaries are removed (atomic.py)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with terminate_like_interrupt():
                return fn(*args, **kwargs)
        except GlyphartError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except Terminated:
            click.echo("terminated", err=True)
            sys.exit(Terminated.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glyphart")
def main():
    """Grow glyphs out of nothing and turn them into art.

    \b
    Quick start:
      glyphart presets                                   list presets
      glyphart render --preset hd-color --video lerp.webm
      glyphart render --preset gray --poster poster.png --size a3
      glyphart render --preset brush --poster 'brush-{seed}.png' --seeds 0-7
      glyphart train my-preset.toml --minutes 20
    """


# ---------------------------------------------------------------------------------------------
# presets


@main.command("presets")
@reports_errors
def presets_cmd():
    """List built-in and user presets."""
    from .presets import available, user_dir
    from .spec import load_spec
    rows = []
    for files in available():
        try:
            spec = load_spec(files.toml)
            m = spec.model
            origin = "built-in, shadowed" if files.shadowed else files.origin
            native = f"{m.size}px" + (" (any)" if m.draws_any_size else "")
            rows.append((files.name, origin, m.kind, native, str(m.message_size),
                         "yes" if files.trained else "no", spec.description))
        except GlyphartError as e:
            rows.append((files.name, files.origin, "?", "?", "?", "?", f"INVALID: {e}"))
    header = ("name", "origin", "kind", "size", "message", "trained", "description")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(6)]
    for row in [header] + rows:
        cells = [c.ljust(w) for c, w in zip(row[:6], widths)]
        click.echo("  ".join(cells) + "  " + _shorten(row[6], 70))
    click.echo(f"\nuser presets folder: {user_dir()} (set GLYPHART_PRESETS to change it)")
    if any(files.shadowed for files in available()):
        click.echo("shadowed: a user preset of the same name is used instead; its built-in "
                   "stays reachable by path (`glyphart preset show` prints it)")


@main.command("palettes")
@reports_errors
def palettes_cmd():
    """List the named palettes: paper, inks (layer 1 first) and blend."""
    from .inks import PALETTES
    for name, p in PALETTES.items():
        blend = p.blend or "preset's"
        inks = ", ".join(p.inks)
        click.echo(f"{name:10}  paper {p.paper}  inks {inks:36}  {blend:9}  {p.about}")


def _shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


@main.group("preset")
def preset_group():
    """Copy and inspect presets."""


@preset_group.command("new")
@click.argument("name")
@click.option("--from", "source", default="gray", show_default=True,
              help="Preset (name or .toml path) to copy.")
@click.option("--with-weights", is_flag=True, help="Copy the trained weights and record too.")
@click.option("--force", is_flag=True, help="Overwrite an existing preset of that name.")
@reports_errors
def preset_new(name, source, with_weights, force):
    """Copy a preset to NAME (user presets folder) or to a path ending in .toml."""
    from .presets import copy_preset
    target = copy_preset(source, name, with_weights=with_weights, force=force)
    click.echo(f"wrote {target}" + (" (with weights)" if with_weights else ""))


@preset_group.command("show")
@click.argument("name")
@reports_errors
def preset_show(name):
    """Print a preset's TOML, with where it lives and whether it is trained."""
    from .presets import find
    from .spec import load_spec
    files = find(name)
    load_spec(files.toml)  # validate
    click.echo(f"# {files.toml} ({files.origin}, {'trained' if files.trained else 'untrained'})")
    click.echo(files.toml.read_text(), nl=False)


# ---------------------------------------------------------------------------------------------
# training and evaluation


@main.command("train")
@click.argument("preset")
@click.option("--steps", type=Int(1, 10_000_000),
              help="Training steps (default: the preset's).")
@click.option("--minutes", type=Number(0, 100_000, lo_open=True),
              help="Stop after this many wall-clock minutes.")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Preset TOML to write (weights and record beside it). Default: the preset "
                   "itself when it is a user preset or a path; a built-in trains into the user "
                   "presets folder (built-ins are never written to). Weights already there are "
                   "kept as NAME.safetensors.~N~.")
@click.option("--video", type=click.Path(dir_okay=False),
              help="Also write a training video (.webm/.mp4/.gif) of 64 fixed glyphs.")
@click.option("--preview", type=click.Path(dir_okay=False),
              help="Write the 64 fixed glyphs to this PNG as training goes (renamed into "
                   "place); the .json beside it has the step, speed, time left, loss and bits.")
@click.option("--preview-every", type=Int(0, 10_000_000), default=0, show_default=True,
              help="Steps between --preview sheets; 0: about once a second.")
@device_option("train")
@click.option("--eval-messages", type=Int(0, 1_000_000), default=4096, show_default=True,
              help="Messages of the evaluation after training (0 skips it; the record says so).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def train_cmd(preset, steps, minutes, resume, out, video, preview, preview_every, device,
              eval_messages, quiet):
    """Train PRESET (a name or a .toml path).

    Retraining keeps the previous weights and record as numbered backups
    (NAME.safetensors.~1~, ~2~, ...). Two trainings of one preset at once are refused.
    Under torchrun (`torchrun --nproc-per-node N -m glyphart train ...`) the ranks train
    data-parallel, the batch shared out between them; rank 0 writes."""
    from .presets import find, shadows_builtin, training_destination
    from .spec import load_spec
    from .train import train
    if 0 < eval_messages < 1024:  # identification ranks each message among 1024
        raise GlyphartError(f"--eval-messages {eval_messages}: give 0 (no evaluation) or at "
                            "least 1024")
    files = find(preset)
    spec = load_spec(files.toml)
    out = Path(out) if out else training_destination(files)
    if out.suffix != ".toml":
        raise GlyphartError(f"--out {out}: give a .toml path (weights go beside it)")
    if shadows_builtin(out) and not quiet:
        click.echo(f"note: the user preset {out} shadows the built-in {out.stem!r}: from now "
                   f"on `{out.stem}` means this copy (`glyphart presets` lists both)", err=True)
    record = train(spec, out, steps=steps, minutes=minutes, resume=resume, video=video,
                   device=device, quiet=quiet, eval_messages=eval_messages, preview=preview,
                   preview_every=preview_every)
    if not record:  # a torchrun rank other than 0: rank 0 reports
        return
    for backup in record.get("previous_weights_kept_as", []):
        click.echo(f"kept the previous weights as {out.with_name(backup)}", err=True)
    m = record.get("metrics", {})
    click.echo(f"trained {record['preset']}: {record['steps']} steps in "
               f"{record['wall_minutes']} min, loss {record['loss_first']} -> "
               f"{record['loss_final']}, {m.get('bits_per_glyph_reference', '?')} bits/glyph "
               f"(reference channel); weights {out.with_suffix('.safetensors')}")


@main.command("eval")
@click.argument("preset")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--messages", "n", type=Int(1024, 1_000_000), default=4096,
              show_default=True, help="Fresh messages sent through the channels.")
@device_option("run the generator, channels and decoder")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@reports_errors
def eval_cmd(preset, as_json, n, device, quiet):
    """Measure PRESET: bits per glyph, identification accuracy, high-frequency fraction, and
    the look (parts per glyph, small parts, composition, shared layout, distinctness, and for
    strokes presets each stroke's homes; see docs/measurements.md)."""
    from .distributed import resolve_device
    from .metrics import evaluate
    from .presets import load_preset
    dev = resolve_device(device)
    loaded = load_preset(preset, device=str(dev))
    result = {"preset": loaded.name, **evaluate(loaded, n=n, quiet=quiet, device=dev)}
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"preset                          {loaded.name}")
    click.echo(f"bits per glyph (own channel)    {result['bits_per_glyph']}")
    click.echo(f"bits per glyph (reference)      {result['bits_per_glyph_reference']}")
    click.echo(f"identification among 1024       {100 * result['identification_accuracy']:.2f} %")
    click.echo(f"high-frequency fraction         {result['high_frequency_fraction']}")
    click.echo("the look (seeds 0-63, native size):")
    click.echo(f"  parts per glyph               {result['parts']}")
    click.echo(f"  small parts                   {result['small_parts']}")
    click.echo(f"  composition                   {result['composition']}  "
               "(the source's sheet: 0.79)")
    click.echo(f"  shared layout                 {result['shared_layout']}")
    click.echo(f"  distinctness                  {result['distinctness']}")
    click.echo(f"  ink, share of the cell        {result['ink']}  (the source's sheet: 0.48)")
    click.echo(f"  thickness, share of the side  {result['thickness']}  (the source's: 0.41)")
    click.echo(f"  rings, corner marks (of 64)   {result['rings']}, {result['corner_marks']}")
    click.echo(f"  margin ink / middle ink       {result['margin_ratio']}")
    click.echo(f"  grey pixels per edge, 1024 px {result['grey_per_edge']}")
    if "stroke_homes" in result:
        click.echo(f"  homes, each stroke            {result['stroke_homes']}")
    if "small_parts_per_ink" in result:
        click.echo(f"  small parts, each ink         {result['small_parts_per_ink']}")
        click.echo(f"  shared layout, each ink       {result['shared_layout_per_ink']}")
        click.echo("bits per glyph (reference) under other palettes:")
        for name, bits in result["bits_per_palette"].items():
            click.echo(f"  {name:29} {bits}")


@main.command("invert")
@click.argument("image", type=click.Path(dir_okay=False))
@click.option("--preset", "preset_name", required=True, help="Preset name or .toml path.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Message file to write (.npy), for `render --message`.")
@click.option("--steps", type=Int(1, 100_000), default=300, show_default=True,
              help="Optimisation steps per starting message.")
@click.option("--restarts", type=Int(1, 256), default=8, show_default=True,
              help="Random starting messages optimised side by side; the best one is kept.")
@click.option("--seed", type=Int(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the random starting messages.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@reports_errors
def invert_cmd(image, preset_name, out, steps, restarts, seed, quiet):
    """Find the glyph (message) of PRESET closest to IMAGE."""
    from .invert import invert_image
    from .presets import load_preset
    path, mse = invert_image(load_preset(preset_name), image, out, steps=steps,
                             restarts=restarts, seed=seed, quiet=quiet)
    if not quiet:
        click.echo(f"wrote {path} (mean squared error {mse:.4f}); render it with "
                   f"`glyphart render --preset {preset_name} --message {path}`")


@main.command("study")
@click.argument("name", type=click.Choice(list(STUDIES)))
@click.option("--preset", "preset_name",
              help="Preset to study (default gray; the sweep trains gray and color recipes).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Folder for figures and numbers [default: outputs/studies/NAME].")
@click.option("--minutes", type=Number(0, 100_000, lo_open=True),
              help="sweep: training budget of the whole study, split evenly over its runs "
                   "[default: 10].")
@click.option("--repeats", type=Int(1, 100),
              help="Independent repeats: probe runs [5], random-weight draws for reconstruct "
                   "[5] and invert [3], training seeds per size for sweep [1].")
@click.option("--quick", is_flag=True, help="Tiny settings: a smoke run in seconds.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@reports_errors
def study_cmd(name, preset_name, out, minutes, repeats, quick, quiet):
    """Run one of the source's experiments: sweep, reconstruct, probe or invert.

    \b
    sweep        bits per glyph and artifacts against message size
    reconstruct  digits through decoder -> generator; is the class still readable?
    probe        linear probe on the decoder: pretrained/random x frozen/trainable
    invert       optimise messages to redraw digits: trained vs random generator

    Needs the study extra: pip install -c constraints.txt ".[study]" (from the glyphart checkout).
    """
    from .study import run_study
    result = run_study(name, preset=preset_name, out=out, minutes=minutes, repeats=repeats,
                       quick=quick, quiet=quiet)
    folder = out or f"outputs/studies/{name}"
    if not quiet:
        click.echo(f"wrote {folder}/{name}.json and figures")
    return result


# ---------------------------------------------------------------------------------------------
# rendering


@main.command("render")
@click.option("--preset", "preset_name", required=True, help="Preset name or .toml path.")
@click.option("--seeds", help="Seeds, e.g. 0-63,100 (default: the preset's for each output).")
@click.option("--message", "message_files", multiple=True, type=click.Path(dir_okay=False),
              help="A .npy message file (from `glyphart invert`), used as glyphs/keyframes "
                   "after the seeds. Repeatable.")
@click.option("--pick", type=Int(1, 100_000),
              help="Draw the N most distinct glyphs (by coarse composition) out of --seeds "
                   "(default 0-4095), chosen reproducibly.")
@click.option("--sheet", type=click.Path(dir_okay=False), help="Write a glyph sheet PNG.")
@click.option("--poster", type=click.Path(dir_okay=False),
              help="Write a poster PNG. {preset}, {seed} or {page} in the name write one per "
                   "seed / page.")
@click.option("--video", type=click.Path(dir_okay=False),
              help="Write a looping video: .webm (VP9), .mp4 (H.264) or .gif.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Write pen-plotter paths (.svg, mm, a layer per ink) laid out as the poster.")
@click.option("--pen", type=Number(0.05, 10), default=0.5, show_default=True,
              help="Plotter pen width in mm.")
@click.option("--hatch", type=Number(0.1, 50), help="Plot raster glyphs' outlines hatched "
              "with lines this many mm apart.")
@click.option("--palette", help="Paper and inks by name (`glyphart palettes` lists them): "
              "chalk, ink, ... for gray presets; riso, sumi, screen, night for colour ones.")
@click.option("--inks", "--fg", "inks", help="Ink colours, one per layer: '#rrggbb' for a gray "
              "preset, '#rrggbb,#rrggbb,#rrggbb' for a 3-ink colour preset.")
@click.option("--paper", "--bg", "paper", help="Paper (background) colour #rrggbb.")
@click.option("--blend", type=click.Choice(["multiply", "over"]),
              help="How inks meet: multiply overprints (risograph), over lays flat layers "
                   "(screen print). Default: the palette's, else the preset's.")
@click.option("--style", type=click.Choice(["ink", "smooth", "nearest"]),
              help="Enlarging: ink (crisp edges at any size), smooth (bicubic), nearest.")
@click.option("--grid", help="Sheet/poster grid ROWSxCOLS (default: automatic).")
@click.option("--glyph-px", type=Int(4, 4096), help="Sheet glyph size in pixels.")
@click.option("--gap", type=Int(0, 1024), help="Pixels between glyphs.")
@click.option("--labels", is_flag=True, help="Print seed numbers under sheet glyphs.")
@click.option("--size", default="a3", show_default=True,
              help="Poster size: a0-a5, letter, tabloid, WxHpx, WxHin, WxHmm, WxHcm.")
@click.option("--dpi", type=Number(1, 10000), default=300, show_default=True,
              help="Poster print resolution: pixels per inch.")
@click.option("--landscape", is_flag=True, help="Poster in landscape orientation.")
@click.option("--margin", type=Number(0, 1000), help="Poster margin in inches.")
@click.option("--layout", type=click.Choice(["grid", "hero"]),
              help="Poster layout (default: hero with {seed} in the name, else grid).")
@click.option("--per-page", type=Int(1, 1_000_000), default=24, show_default=True,
              help="Glyphs per poster page with {page} in the name.")
@click.option("--force", is_flag=True, help="Batch posters: redo files that are already done.")
@click.option("--separations", type=click.Choice(["files", "pages"]), is_flag=False,
              flag_value="files", help="Also write one master per ink for a printer (riso, "
              "screen): black-on-white grayscale PNG, DeviceGray PDF or SVG, named NAME-ink1-"
              "0078bf.png or where {ink} stands in the name; `pages`: one PDF, a page per ink.")
@click.option("--marks", is_flag=True, help="Separations: crop marks and registration targets "
              "on a border round the page (the composite's too).")
@click.option("--trap", type=Number(0, 10), help="Separations with --blend over: lower inks "
              "run this many mm under the inks that knock them out.")
@click.option("--ink-density", help="Separations: each master lightened, one value per ink "
              "from 0 to 1, e.g. 1,0.8,0.6.")
@click.option("--video-grid", default="1x1", show_default=True,
              help="Video cells ROWSxCOLS; each cell morphs along its own path.")
@click.option("--seconds", type=Number(0, 1e9, lo_open=True), help="Video length.")
@click.option("--frames-per-key", type=Int(1, 10_000), help="Video frames per keyframe.")
@click.option("--fps", type=Int(1, 240), help="Video frames per second "
              "(default: the preset's).")
@click.option("--interp", type=click.Choice(["lerp", "slerp", "cubic"]),
              help="Path between keyframes: straight (lerp), on the sphere (slerp) or a smooth "
                   "periodic curve (cubic). Default: the preset's.")
@click.option("--video-px", type=Int(8, 4096), help="Video cell size in pixels.")
@click.option("--crf", type=Int(0, 63), default=30, show_default=True,
              help="Video quality: lower is better and larger.")
@click.option("--speed", type=Int(0, 8), default=5, show_default=True,
              help="VP9 encoder speed: higher is faster and larger; 0-4 use libvpx's good "
                   "deadline, 5-8 its realtime one (about 3x less CPU at 5 than at 4).")
@device_option("draw the glyphs")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@reports_errors
def render_cmd(preset_name, seeds, message_files, pick, sheet, poster, video, plot, pen, hatch,
               palette, inks, paper,
               blend, style,
               grid, glyph_px, gap, labels, size, dpi, landscape, margin, layout, per_page,
               force, separations, marks, trap, ink_density, video_grid, seconds, frames_per_key,
               fps, interp, video_px, crf, speed, device, quiet):
    """Render glyph sheets, print posters and looping videos from a trained preset.

    Under torchrun (`torchrun --nproc-per-node N -m glyphart render ... --poster
    'posters/{seed}.png'`) the ranks share out the batch's files; rank 0 then writes
    manifest.json beside them."""
    from .presets import safe_file_name
    from .render.api import Render
    from .render.separations import options as separation_options
    _refuse_ignored_options(click.get_current_context(), sheet=sheet, poster=poster, video=video,
                            plot=plot)
    seps = separation_options(separations, marks, trap, ink_density)
    job = Render.load(preset_name, seeds=seeds, message_files=message_files, palette=palette,
                      inks=inks, paper=paper, blend=blend, style=style, pick=pick,
                      device=device)
    if not (sheet or poster or video or plot):
        sheet = str(Path("outputs") / f"{safe_file_name(job.preset.name)}-sheet.png")
    if sheet:
        _done(job.sheet(sheet, grid=grid, glyph_px=glyph_px, gap=gap, labels=labels,
                        separations=seps), quiet)
    if poster:
        for path in job.posters(poster, size=size, dpi=dpi, landscape=landscape, margin=margin,
                                layout=layout, grid=grid, per_page=per_page, force=force,
                                quiet=quiet, separations=seps):
            _done(path, quiet)
        if job.skipped and not quiet:
            click.echo(f"skipped {len(job.skipped)} poster(s) already done with these "
                       "parameters (--force redoes them)")
    if plot:
        _done(job.plot(plot, size=size, landscape=landscape, margin=margin, grid=grid, pen=pen,
                       hatch=hatch or 0.0), quiet)
    if video:
        path = job.video(video, grid=video_grid, seconds=seconds, frames_per_key=frames_per_key,
                         fps=fps, interp=interp, px=video_px, gap=gap, crf=crf, speed=speed,
                         quiet=quiet)
        _done(path, quiet)


# Which output each render option shapes: given without that output, it would be ignored.
_OPTION_OUTPUTS = {
    "glyph_px": ("sheet",), "labels": ("sheet",), "gap": ("sheet", "video"),
    "grid": ("sheet", "poster", "plot"), "size": ("poster", "plot"), "dpi": ("poster",),
    "landscape": ("poster", "plot"), "margin": ("poster", "plot"), "layout": ("poster",),
    "pen": ("plot",), "hatch": ("plot",),
    "per_page": ("poster",), "force": ("poster",), "video_grid": ("video",),
    "separations": ("sheet", "poster"), "marks": ("sheet", "poster"),
    "trap": ("sheet", "poster"), "ink_density": ("sheet", "poster"),
    "seconds": ("video",), "frames_per_key": ("video",), "fps": ("video",), "interp": ("video",),
    "video_px": ("video",), "crf": ("video",), "speed": ("video",),
}


def _refuse_ignored_options(ctx, **outputs):
    """An option given for an output this command does not write is an error, not a no-op."""
    from click.core import ParameterSource
    wanted = {name for name, value in outputs.items() if value} or {"sheet"}
    for name, applies_to in _OPTION_OUTPUTS.items():
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE and \
                not wanted & set(applies_to):
            flag = "--" + name.replace("_", "-")
            needs = " or ".join(f"--{o}" for o in applies_to)
            raise GlyphartError(f"{flag} applies to {needs}, which this command does not "
                                f"write; add {needs} FILE or drop {flag}")
    poster = outputs.get("poster") or ""
    for name, fields in (("per_page", ("{page",)), ("force", ("{seed", "{page"))):
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE and \
                not any(f in poster for f in fields):
            flag = "--" + name.replace("_", "-")
            named = " or ".join(f + "}" for f in fields)
            raise GlyphartError(f"{flag} applies to batch posters named with {named}; "
                                f"put it in the --poster name or drop {flag}")


@main.command("font")
@click.option("--preset", "preset_name", required=True, help="Preset name or .toml path.")
@click.option("--seeds", default="0-25", show_default=True,
              help="Seeds of the glyphs, mapped in order to A-Z, then a-z, then 0-9.")
@click.option("--map", "map_file", type=click.Path(dir_okay=False),
              help="A text file mapping characters to seeds, one 'A 12' per line (instead of "
                   "--seeds).")
@click.option("--pick", type=Int(1, 100_000),
              help="The N most distinct glyphs (by coarse composition) out of --seeds "
                   "(default 0-4095), chosen reproducibly.")
@click.option("--pua", is_flag=True, help="Map the glyphs to the Private Use Area (U+E000...) "
                                          "instead of letters and digits.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The font file to write: .ttf (TrueType), .otf (OpenType CFF) or .woff2 "
                   "(the web).")
@click.option("--specimen", is_flag=True,
              help="Also write beside it NAME.woff2, NAME.specimen.html (a page that loads it "
                   "and sets a pangram and the alphabet) and NAME.specimen.png.")
@device_option("draw the glyphs")
@click.option("-q", "--quiet", is_flag=True, help="No output but errors.")
@reports_errors
def font_cmd(preset_name, seeds, map_file, pick, pua, out, specimen, device, quiet):
    """Build an installable font of a preset's glyphs."""
    from click.core import ParameterSource
    from .latent import parse_seeds
    from .presets import load_preset
    from .alphabet import DEFAULT_POOL, pick as pick_distinct
    from .distributed import resolve_device
    from .render.api import Render
    from .render.layouts.font import character_map, read_character_map
    given = click.get_current_context().get_parameter_source("seeds")
    pool = seeds if given == ParameterSource.COMMANDLINE else DEFAULT_POOL
    if map_file:
        if pua or pick or given == ParameterSource.COMMANDLINE:
            raise GlyphartError("--map says which character types which seed; drop --seeds, "
                                "--pick and --pua")
        characters, seed_list = read_character_map(map_file)
    else:
        seed_list = parse_seeds(pool if pick else seeds)
        characters = character_map(pick or len(seed_list), pua)  # refused before any work
    preset = load_preset(preset_name, device=str(resolve_device(device)))
    if pick:
        seed_list = pick_distinct(preset, pick, seed_list)
    job = Render(preset, seed_list, picked_from=pool if pick else "")
    path = job.font(out, characters)
    _done(path, quiet)
    if specimen:
        for extra in job.specimen(path, characters):
            _done(extra, quiet)


# ---------------------------------------------------------------------------------------------
# explorer and gallery


@main.command("explore")
@click.option("--preset", "preset_name", default="", help="Preset to open first.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but 127.0.0.1/localhost lets other machines in "
                   "(a warning is printed).")
@click.option("--port", type=Int(1, 65535), default=8765, show_default=True,
              help="Port to listen on.")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open the page in the browser.")
@click.option("--export-dir", default="outputs/explore", show_default=True,
              type=click.Path(file_okay=False), help="Where exports are written (only there).")
@click.option("--threads", type=Int(1, 256), default=2, show_default=True,
              help="Threads of the one render worker: a large glyph's row bands, an "
                   "export's torch threads.")
@device_option("draw the live glyphs")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@reports_errors
def explore_cmd(preset_name, host, port, open_browser, export_dir, threads, device, quiet):
    """A local web studio: browse, walk and export a preset's glyphs."""
    from .distributed import resolve_device
    from .explore.serve import serve
    serve(preset=preset_name, host=host, port=port, export_dir=export_dir,
          open_browser=open_browser, threads=threads, device=str(resolve_device(device)),
          say=(lambda *_: None) if quiet else click.echo)


@main.command("gallery")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("-q", "--quiet", is_flag=True, help="No output but errors.")
@reports_errors
def gallery_cmd(folder, quiet):
    """Write FOLDER/index.html: thumbnails, parameters and commands of a batch export."""
    from .explore.gallery import write_gallery
    _done(write_gallery(folder), quiet)


def _done(paths, quiet):
    """Report a file written, or each of a list (a composite and its masters)."""
    for path in paths if isinstance(paths, list) else [paths]:
        if not quiet:
            click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
