"""Regenerate the generated tables (between <!-- name --> and <!-- /name --> markers) and the
preview images in docs/ from the shipped presets, their training records and the latest bench
run (figures are read, never typed in). Each table lives in one file (GENERATED):

    README.md               sheets (a sheet per preset, the loop), palettes
    docs/measurements.md    presets (every figure of every preset), inks
    docs/performance.md     performance (bench/latest.json)
    docs/studies.md         study:sweep, study:reconstruct, study:probe, study:invert

    python tools/docs.py                 # tables, missing previews, studies
    python tools/docs.py --render brush,gray   # also render these presets' previews again
    python tools/docs.py --table-only    # the tables only
    python tools/docs.py --studies-only  # docs/studies.md's tables only
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glyphart.presets import BUILTIN_NAMES, load_preset  # noqa: E402
from glyphart.render.api import Render  # noqa: E402

# Bits floors (issues 29 and 38): an hd preset carries 1.5x its low-resolution parent's; seed
# is the baseline (None); a preset not named here has no floor.
FLOORS = {"seed": None, "brush": 56, "gray": 48, "color": 40, "hd-gray": ("gray", 1.5),
          "hd-color": ("color", 1.5), "script": 56, "hd-script": ("script", 1.5)}
SOURCE_COMPOSITION = 0.79  # the source's trained sheet, cut into its 64 glyphs (metrics.py)


def _floor(name: str) -> float | None:
    """The bits floor; an hd preset's is 1.5x its parent's, once it is grown from the parent
    as shipped (an hd preset grown from an earlier parent has no floor to meet but a rebuild:
    NaN, marked as missed)."""
    floor = FLOORS.get(name)
    if isinstance(floor, tuple):
        parent, factor = floor
        grown = load_preset(name, require_weights=False).spec.model
        source = load_preset(parent, require_weights=False)
        if (grown.generator, grown.exchangeable) != (source.spec.model.generator,
                                                     source.spec.model.exchangeable):
            return float("nan")
        bits = source.record.get("metrics", {})
        return round(factor * bits.get("bits_per_glyph_reference", float("nan")), 1)
    return floor


def table() -> str:
    rows = ["| preset | kind | native | message | bits (ref) | floor | ident. /1024 | HF | "
            "parts | small | composition | distinct | homes (max) | steps | "
            "train min (wall / CPU) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in BUILTIN_NAMES:
        preset = load_preset(name, require_weights=False)
        m, rec = preset.spec.model, preset.record
        met = rec.get("metrics", {})
        floor = _floor(name)
        bits = met.get("bits_per_glyph_reference", float("nan"))
        ident = met.get("identification_accuracy", 0)
        verdict = "–" if name not in FLOORS else "baseline" if floor is None else (
            "1.5x parent: rebuild ✗" if math.isnan(floor) else
            f"≥ {floor} ✓" if bits >= floor else f"≥ {floor} ✗")
        ident_verdict = "" if floor is None else (" ✓" if ident >= 0.99 else " ✗")  # 99 % floor
        native = f"{m.size} px" + (" (draws at any size)" if m.draws_any_size else "")
        rows.append(f"| `{name}` | {m.kind} | {native} | "
                    f"{m.message_size} | {bits:.1f} | {verdict} | "
                    f"{100 * ident:.1f} %{ident_verdict} | "
                    f"{met.get('high_frequency_fraction', float('nan')):.3f} | "
                    f"{_look(met, 'parts', '<=', 3.5)} | "
                    f"{_look(met, 'small_parts', '<=', 0.10)} | "
                    f"{_composition(preset)} | "
                    f"{_look(met, 'distinctness', '>=', 0.85)} | {_homes(preset)} | "
                    f"{rec.get('steps', '?')} | {rec.get('wall_minutes', '?')} / "
                    f"{rec.get('cpu_minutes', '?')} |")
    return "\n".join(rows)


def _homes(preset) -> str:
    """Strokes presets: the most any stroke keeps a home over seeds 0-63 (measured now, as
    `glyphart eval` does; about 0.3 when strokes trade places freely; floor 0.6)."""
    from glyphart.render.glyphs import has_strokes
    if not has_strokes(preset.generator):
        return "–"
    from glyphart.latent import messages
    from glyphart.metrics import stroke_homes
    most = max(stroke_homes(preset.generator, messages(preset, range(64))))
    return f"{most:.2f} {'✓' if most <= 0.6 else '✗'}"


def _composition(preset) -> str:
    """How differently glyphs 0-63 compose their ink (measured now; floor: the source's
    trained sheet, 0.79)."""
    import torch
    from glyphart.latent import messages
    from glyphart.metrics import composition, ink_masks
    with torch.no_grad():
        value = composition(ink_masks(preset.generator(messages(preset, range(64))).float()))
    return f"{value:.2f} {'✓' if value >= SOURCE_COMPOSITION else '✗'}"


# Issue 38's floors for bold shapes; the source's trained sheet, cut into its 64 glyphs, for scale.
SOURCE_BOLDNESS = "| the source's sheet | 0.48 | 0.41 | 1 | 0 | 0.93 | – |"


def boldness_table() -> str:
    """Every preset's boldness, frames and crispness (measured now, as `glyphart eval` does:
    seeds 0-63 at native size, 8 of them at 1024 px)."""
    import torch
    from glyphart.boldness import LARGE_PX, boldness
    from glyphart.latent import messages
    from glyphart.render.glyphs import render_glyphs
    rows = ["| preset | ink (0.35-0.60) | thickness (>= 0.30) | rings (0) | corner marks (0) | "
            "margin / middle (<= 1) | grey per edge at 1024 px (<= 2) |",
            "|---|---|---|---|---|---|---|"]
    for name in BUILTIN_NAMES:
        preset = load_preset(name)
        z = messages(preset, range(64))
        with torch.no_grad():
            b = boldness(preset.generator(z).float(), render_glyphs(preset.generator, z[:8],
                                                                    LARGE_PX))
        marks = [("✓" if ok else "✗") for ok in (
            0.35 <= b["ink"] <= 0.60, b["thickness"] >= 0.30, b["rings"] == 0,
            b["corner_marks"] == 0, b["margin_ratio"] <= 1, b["grey_per_edge"] <= 2)]
        rows.append(f"| `{name}` | {b['ink']:.2f} {marks[0]} | {b['thickness']:.2f} {marks[1]} | "
                    f"{b['rings']} {marks[2]} | {b['corner_marks']} {marks[3]} | "
                    f"{b['margin_ratio']:.2f} {marks[4]} | {b['grey_per_edge']:.2f} {marks[5]} |")
    return "\n".join(rows + [SOURCE_BOLDNESS])


def ink_table() -> str:
    """Colour presets: bits under their own palette and two others (floor: within 15 %), and
    small parts of each ink alone (floor: <= 0.15)."""
    rows = ["| preset | palette (own) | bits | other palettes: bits | within 15 % | small parts "
            "per ink |", "|---|---|---|---|---|---|"]
    for name in BUILTIN_NAMES:
        preset = load_preset(name, require_weights=False)
        met = preset.record.get("metrics", {})
        if not preset.spec.model.inks or "bits_per_palette" not in met:
            continue
        own = met["bits_per_glyph_reference"]
        others = met["bits_per_palette"]
        within = all(b >= 0.85 * own for b in others.values())
        small = met["small_parts_per_ink"]
        rows.append(f"| `{name}` | {met.get('palette', '')} | {own:.1f} | "
                    + ", ".join(f"{k} {v:.1f}" for k, v in others.items())
                    + f" | {'✓' if within else '✗'} | "
                    + ", ".join(f"{v:.2f}" for v in small)
                    + f" {'✓' if max(small) <= 0.15 else '✗'} |")
    return "\n".join(rows)


def palettes_table() -> str:
    from glyphart.inks import PALETTES
    rows = ["| palette | paper | inks (layer 1 first) | blend | |", "|---|---|---|---|---|"]
    singles = [name for name, p in PALETTES.items() if len(p.inks) == 1]
    for name, p in PALETTES.items():
        if len(p.inks) > 1:
            rows.append(f"| `{name}` | `{p.paper}` | {' '.join(f'`{c}`' for c in p.inks)} | "
                        f"{p.blend or 'preset'} | {p.about} |")
    rows.append(f"| {', '.join(f'`{n}`' for n in singles)} | | one ink each | | gray "
                "presets' classics (a colour preset needs one ink per layer) |")
    return "\n".join(rows)


def plot_preview(svg: Path, png: Path, px_per_mm: float = 2.0) -> None:
    """A PNG of what a pen plotter draws from a `glyphart render --plot` file: each path a
    line of the pen's width in its layer's colour, on white."""
    import xml.etree.ElementTree as ET
    from PIL import Image, ImageDraw
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    pen = max(1, round(float(root.get("stroke-width")) * px_per_mm))
    image = Image.new("RGB", (round(width * px_per_mm), round(height * px_per_mm)), "white")
    draw = ImageDraw.Draw(image)
    for group in root.findall(f"{ns}g"):
        for path in group.findall(f"{ns}path"):
            d = path.get("d")
            points = [tuple(float(c) * px_per_mm for c in p.split(","))
                      for p in d.strip("MZ ").replace(" L", " ").split()]
            if d.endswith("Z"):
                points.append(points[0])
            draw.line(points, fill=group.get("stroke"), width=pen, joint="curve")
    image.save(png, optimize=True)


def _look(metrics: dict, key: str, sense: str, floor: float) -> str:
    """A look measure with a mark against the script floor (parts <= 3.5, small <= 0.10,
    layout <= 0.45, distinctness >= 0.85)."""
    value = metrics.get(key)
    if value is None:
        return "?"
    ok = value <= floor if sense == "<=" else value >= floor
    return f"{value:.2f}{' ✓' if ok else ' ✗'}"


# The README's sheets: the headline first, the baseline last; presets not named here before it.
SHEET_ORDER = ("hd-color", "gray", "hd-gray", "brush", "color", "script", "hd-script", "seed")


def sheets(render: set[str]) -> str:
    """The README's pictures: a sheet per preset (SHEET_ORDER) and hd-color's loop, as
    a strip of its frames and the video; only presets in `render`, or whose preview is
    missing, are rendered again."""
    docs = ROOT / "docs"
    lines = []
    last = len(SHEET_ORDER) - 1  # the baseline's place
    for name in sorted(BUILTIN_NAMES, key=lambda n: SHEET_ORDER.index(n) if n in SHEET_ORDER
                       else last - 0.5):
        path = docs / f"{name}-sheet.png"
        if name in render or not path.is_file():
            job = Render.load(name, seeds="0-63")
            # many antialiased edges (brush's, seed's) and overprinted inks need smaller cells
            # to stay within the 300 KB a README preview may weigh
            colour = load_preset(name, require_weights=False).spec.model.inks
            px = 52 if colour else 56 if name in ("seed", "brush") else 64
            job.sheet(path, grid="4x16", glyph_px=px, gap=3)
        lines.append(f"**{name}** — seeds 0–63\n\n![{name}](docs/{path.name})\n")
    video, strip = docs / "hd-color-loop.webm", docs / "hd-color-loop.png"
    if "hd-color" in render or not video.is_file():
        Render.load("hd-color", seeds="0-5").video(video, px=256, frames_per_key=24, crf=36,
                                                   quiet=True)
    if "hd-color" in render or not strip.is_file():
        loop_strip(video, strip)
    lines.append(f"**hd-color**, a loop through seeds 0–5 (every 18th frame; the video: "
                 f"[docs/{video.name}](docs/{video.name}), a 256 px preview of the 512 px "
                 f"default)\n\n![hd-color's loop, frame by frame](docs/{strip.name})\n")
    return "\n".join(lines)


def loop_strip(video: Path, out: Path, frames: int = 8, px: int = 160, gap: int = 4) -> None:
    """A strip of `frames` evenly spaced frames of a loop video, each `px` wide."""
    import imageio_ffmpeg
    from PIL import Image
    reader = imageio_ffmpeg.read_frames(str(video))
    width, height = next(reader)["size"]
    decoded = [Image.frombytes("RGB", (width, height), f) for f in reader]
    step = len(decoded) / frames
    picked = [decoded[int(k * step)].resize((px, round(px * height / width)), Image.LANCZOS)
              for k in range(frames)]
    image = Image.new("RGB", (frames * (px + gap) - gap, picked[0].height), "#16140f")
    for k, frame in enumerate(picked):
        image.paste(frame, (k * (px + gap), 0))
    image.save(out, optimize=True)


# The README's poster: one glyph of the bold shapes' hd preset, alone on an A4 page, drawn at
# 72 dpi (the very render a 300 dpi print is, at screen size).
POSTER = {"preset": "hd-gray", "seeds": "7", "size": "a4", "dpi": 72, "layout": "hero"}


def poster_preview(out: Path) -> None:
    """docs/poster.png: `glyphart render --preset hd-gray --seeds 7 --poster poster.png
    --size a4 --layout hero --dpi 72`."""
    options = {k: v for k, v in POSTER.items() if k not in ("preset", "seeds")}
    for _ in Render.load(POSTER["preset"], seeds=POSTER["seeds"]).posters(
            str(out), quiet=True, **options):
        pass


def separations_preview(out: Path, width: int = 300) -> None:
    """docs/separations.png: a riso poster of `color` beside its three masters (and marks),
    as `glyphart render --preset color --seeds 0-5 --size a5 --poster p.png --separations
    --marks` writes them, each scaled to `width` px with a caption under it."""
    import tempfile
    from PIL import Image, ImageDraw
    from glyphart.render.separations import Separations
    with tempfile.TemporaryDirectory() as tmp:
        files = list(Render.load("color", seeds="0-5").posters(
            str(Path(tmp) / "p.png"), size="a5", dpi=100, quiet=True,
            separations=Separations(marks=True)))
        pictures = []
        for path in files:
            with Image.open(path) as im:
                pictures.append(im.convert("RGB").resize(
                    (width, round(im.height * width / im.width)), Image.LANCZOS))
    captions = ["composite"] + [f"ink {k} master (#{path.stem.rsplit('-', 1)[1]})"
                                for k, path in enumerate(files[1:], 1)]
    gap, strip = 12, 22
    sheet = Image.new("RGB", (len(pictures) * (width + gap) + gap,
                              pictures[0].height + 2 * gap + strip), "#d8d4cc")
    draw = ImageDraw.Draw(sheet)
    for i, (picture, caption) in enumerate(zip(pictures, captions)):
        x = gap + i * (width + gap)
        sheet.paste(picture, (x, gap))
        draw.text((x + width // 2, gap + picture.height + strip // 2 + 2), caption,
                  fill="#16140f", anchor="mm")
    sheet.save(out, optimize=True)


def performance() -> str:
    """The latest `python bench/run.py --json bench/latest.json` as a table."""
    path = ROOT / "bench" / "latest.json"
    if not path.is_file():
        return "_No benchmark run recorded yet: `python bench/run.py --json bench/latest.json`._"
    data = json.loads(path.read_text())
    rows = [f"Measured {data['date']} on {data.get('machine', 'this machine')} with "
            "`python bench/run.py --json bench/latest.json`.\n",
            "| section | what | value | unit | target | |", "|---|---|---|---|---|---|"]
    for r in data["results"]:
        verdict = "" if r["ok"] is None else ("✓" if r["ok"] else "**missed**")
        rows.append(f"| {r['section']} | {r['what']} | {r['value']} | {r['unit']} | "
                    f"{r['target']} | {verdict} {r['note']} |")
    return "\n".join(rows)


def study_tables() -> dict[str, str]:
    """docs/studies.md's tables, from the JSON each `glyphart study NAME --out
    docs/studies/NAME` wrote."""
    def load(name):
        path = ROOT / "docs" / "studies" / name / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    tables = {}
    if (d := load("sweep")):
        rows = [f"{d['minutes_per_run']:.2f} training minutes per run.\n",
                "| recipe | message size | steps | bits (ref) | bits per number | ident. /1024 "
                "| HF |", "|---|---|---|---|---|---|---|"]
        rows += [f"| {r['recipe']} | {r['message_size']} | {r['steps']} | "
                 f"{r['bits_reference']:.1f} | {r['bits_per_dimension']:.3f} | "
                 f"{100 * r['identification_accuracy']:.1f} % | "
                 f"{r['high_frequency_fraction']:.3f} |" for r in d["runs"]]
        tables["sweep"] = "\n".join(rows)
    if (d := load("reconstruct")):
        tables["reconstruct"] = "\n".join([
            f"Nearest-neighbour class agreement, {d['held_out']} held-out digits "
            f"(preset `{d['preset']}`, {d['repeats']} random draws).\n",
            "| reconstructions by | class agreement |", "|---|---|",
            f"| {d['preset']} (trained) | {100 * d['agreement_trained']:.1f} % |",
            f"| random weights | {100 * d['agreement_random_mean']:.1f} % "
            f"({100 * d['agreement_random_min']:.1f}–{100 * d['agreement_random_max']:.1f}) |",
            f"| the digits themselves (ceiling) | {100 * d['agreement_inputs']:.1f} % |",
            f"| chance | {100 * d['chance']:.0f} % |"])
    if (d := load("probe")):
        rows = [f"Validation accuracy after {d['epochs']} epochs, mean ± std of "
                f"{d['repeats']} repeats; representation: {d['representation']}.\n",
                "| decoder | accuracy |", "|---|---|"]
        rows += [f"| {k} | {100 * c['final_mean']:.1f} ± {100 * c['final_std']:.1f} % |"
                 for k, c in d["configs"].items()]
        tables["probe"] = "\n".join(rows)
    if (d := load("invert")):
        tables["invert"] = "\n".join([
            f"Mean squared error over {d['targets']} digits ({d['steps']} steps, "
            f"{d['restarts']} restarts; random: {d['repeats']} draws).\n",
            "| generator | MSE |", "|---|---|",
            f"| {d['preset']} (trained) | {d['mse_trained_mean']:.4f} |",
            f"| random weights | {d['mse_random_mean']:.4f} |",
            f"| a black image | {d['mse_blank']:.4f} |"])
    return tables


def fill(text: str, marker: str, generated: str) -> str:
    """`text` with what stands between the lines <!-- marker --> and <!-- /marker --> replaced
    (each marker alone on its line, so prose that names a marker is left alone)."""
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    pattern = re.compile(rf"^([ \t]*){re.escape(start)}[ \t]*\n.*?^[ \t]*{re.escape(end)}[ \t]*$",
                         re.S | re.M)
    if not pattern.search(text):
        raise SystemExit(f"tools/docs.py: no {start} ... {end} lines to fill")
    return pattern.sub(lambda m: f"{m[1]}{start}\n{generated}\n{end}", text)


# Which file holds each generated table: (file, marker, what writes it).
TABLES = [("README.md", "palettes", palettes_table),
          ("docs/measurements.md", "presets", table),
          ("docs/measurements.md", "inks", ink_table),
          ("docs/measurements.md", "boldness", boldness_table),
          ("docs/performance.md", "performance", performance)]


def fill_file(path: Path, filled: list[tuple[str, str]]) -> None:
    text = path.read_text()
    for marker, generated in filled:
        text = fill(text, marker, generated)
    path.write_text(text)


def previews(chosen: list[str]) -> None:
    """The README's other pictures drawn by this script: the brush plot, the separations and
    the poster (each when missing, or when its preset is in --render)."""
    preview = ROOT / "docs" / "brush-plot.png"
    if "brush" in chosen or not preview.is_file():
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            plot = Render.load("brush", seeds="0-11").plot(
                Path(tmp) / "brush-plot.svg", size="a5", landscape=True, pen=0.6)
            plot_preview(plot, preview, px_per_mm=3)
    separations = ROOT / "docs" / "separations.png"
    if "color" in chosen or not separations.is_file():
        separations_preview(separations)
    poster = ROOT / "docs" / "poster.png"
    if POSTER["preset"] in chosen or not poster.is_file():
        poster_preview(poster)


if __name__ == "__main__":
    studies_path = ROOT / "docs" / "studies.md"
    if studies_path.is_file():
        fill_file(studies_path, [(f"study:{name}", text)
                                 for name, text in study_tables().items()])
    if "--studies-only" in sys.argv:
        sys.exit()
    by_file: dict[str, list[tuple[str, str]]] = {}
    for file, marker, make in TABLES:
        by_file.setdefault(file, []).append((marker, make()))
    if "--table-only" not in sys.argv:
        # --render NAME,NAME: render those presets' previews again (missing ones always are)
        chosen = sys.argv[sys.argv.index("--render") + 1] if "--render" in sys.argv else ""
        by_file["README.md"].append(("sheets", sheets(set(filter(None, chosen.split(","))))))
        previews(chosen.split(","))
    for file, filled in by_file.items():
        fill_file(ROOT / file, filled)
    done = [f"{file} ({', '.join(marker for marker, _ in filled)})"
            for file, filled in by_file.items()]
    print("updated:", "; ".join(done))
