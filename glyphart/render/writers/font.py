"""An installable font of a preset's glyphs (TrueType, OpenType CFF or WOFF2),
built with fontTools.

Each glyph's outline (outline.py; a colour glyph's inks joined) is drawn on a 1000-unit em:
the glyph's square is 800 units tall, from the baseline to the ascender, with 200 below for
the descender. Advance widths follow each glyph's ink, with a tenth of the square as side
bearings, so a sentence sets with even spacing. Characters map A-Z, a-z, 0-9 in seed order,
to the Private Use Area, or as a map file says.
"""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

from ..atomic import atomic_path, write_text
from ..errors import GlyphartError
from ..latent import parse_seed
from ..parse import shown
from .output import write_image
from .outline import glyph_outlines

UNITS_PER_EM = 1000
SQUARE = 800  # the glyph's square, baseline to ascender
DESCENT = 200
BEARING = SQUARE // 10
DEFAULT_CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits
PRIVATE_USE = 0xE000
PRIVATE_USE_SIZE = 0xF900 - PRIVATE_USE  # U+E000-U+F8FF, the Basic Multilingual Plane's


def character_map(count: int, private_use: bool = False) -> list[str]:
    """The characters `count` glyphs stand for, in seed order."""
    if private_use:
        if count > PRIVATE_USE_SIZE:
            raise GlyphartError(f"{count} glyphs but the Private Use Area (U+E000-U+F8FF) holds "
                                f"{PRIVATE_USE_SIZE} characters; give at most "
                                f"{PRIVATE_USE_SIZE} seeds with --pua")
        return [chr(PRIVATE_USE + i) for i in range(count)]
    if count > len(DEFAULT_CHARACTERS):
        raise GlyphartError(f"{count} glyphs but only {len(DEFAULT_CHARACTERS)} letters and "
                            "digits to map them to; give fewer seeds or --pua")
    return list(DEFAULT_CHARACTERS[:count])


def untypable(character: str) -> str:
    """Why a character cannot stand for a glyph ('' when it can): control characters and
    surrogates are not characters anyone types."""
    kind = unicodedata.category(character)
    if kind in ("Cc", "Cs"):
        what = "a control character" if kind == "Cc" else "a surrogate"
        return f"U+{ord(character):04X} is {what}, not a character to type"
    return ""


def read_character_map(path: str | Path) -> tuple[list[str], list[int]]:
    """A map file: one `CHARACTER SEED` pair per line (e.g. `A 12`, `ß 40`), # comments.
    Returns the characters and their seeds, in the file's order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GlyphartError(f"cannot read map file {path}: {e}") from None
    characters, seeds = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            character, seed = _map_line(line, characters)
        except GlyphartError as e:
            raise GlyphartError(f"map file {path}, line {number}: {e}") from None
        characters.append(character)
        seeds.append(seed)
    if not characters:
        raise GlyphartError(f"map file {path} maps no characters; write lines such as 'A 12'")
    return characters, seeds


def _map_line(line: str, taken: list[str]) -> tuple[str, int]:
    """'A 12' -> ('A', 12): one typable character, not mapped before, and a seed."""
    parts = line.split()
    if len(parts) != 2 or len(parts[0]) != 1:
        raise GlyphartError(f"{shown(line.strip())}; write one character, a space and a seed, "
                            "e.g. 'A 12'")
    problem = untypable(parts[0])
    if problem:
        raise GlyphartError(f"{problem}; map letters, digits, symbols or Private Use Area "
                            "characters")
    if parts[0] in taken:
        raise GlyphartError(f"{parts[0]!r} is mapped twice")
    return parts[0], parse_seed(parts[1])


FORMATS = (".ttf", ".otf", ".woff2")


def build_font(preset, seeds: list[int], path: str | Path, private_use: bool = False,
               characters: list[str] | None = None, picked_from: str = "") -> Path:
    """Write a font of `seeds`' glyphs, named after the preset: TrueType (.ttf), OpenType CFF
    (.otf) or WOFF2 for the web (.woff2), by the name's extension; glyph i types as
    characters[i] (default: A-Z a-z 0-9, or the Private Use Area). Its description (name ID
    10) records the preset, the seeds and the pool they were `picked_from`. Returns its path."""
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in FORMATS:
        raise GlyphartError(f"--out {path}: fonts are written as .ttf, .otf or .woff2; end the "
                            "name in one of those")
    font = _builder(preset, seeds, characters or character_map(len(seeds), private_use),
                    cff=kind == ".otf", picked_from=picked_from).font
    return _save(font, path, "woff2" if kind == ".woff2" else None)


def _save(font, path: Path, flavor: str | None) -> Path:
    """Write a fontTools TTFont atomically, as WOFF2 when `flavor` says so."""
    font.flavor = flavor
    with atomic_path(path) as tmp:
        font.save(str(tmp))
    return path


def _outlines(preset, seeds: list[int]):
    """(name, outline, left, right) per glyph: the outline on the square, y down."""
    import pathops
    from ..latent import messages
    z = messages(preset, seeds)
    for i, seed in enumerate(seeds):
        layers = glyph_outlines(preset, z[i:i + 1], SQUARE, clip=False)[0]
        outline = layers[0]
        if len(layers) > 1:  # a colour glyph types as one shape: all its inks together
            outline = pathops.Path()
            pathops.union(layers, outline.getPen())
        left, _, right, _ = outline.bounds if outline.area else (0, 0, SQUARE, 0)
        yield f"glyph{seed}", outline, left, right


def _builder(preset, seeds: list[int], characters: list[str], cff: bool,
             picked_from: str = ""):
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def new_pen(width):
        return T2CharStringPen(width, None) if cff else TTGlyphPen(None)

    def finish(pen):
        return pen.getCharString() if cff else pen.glyph()

    names = [".notdef", "space"]
    metrics = {".notdef": (SQUARE // 2, 0), "space": (SQUARE // 3, 0)}
    shapes = {name: finish(new_pen(metrics[name][0])) for name in names}
    for name, outline, left, right in _outlines(preset, seeds):
        metrics[name] = (round(right - left) + 2 * BEARING, BEARING)
        pen = new_pen(metrics[name][0])
        # TrueType draws quadratic curves only: cubic ones (traced raster outlines) are
        # converted to within one font unit.
        target = pen if cff else Cu2QuPen(pen, max_err=1.0)
        # y down on the square -> y up from the baseline, ink moved to start at the bearing
        outline.draw(TransformPen(target, (1, 0, 0, -1, BEARING - left, SQUARE)))
        shapes[name] = finish(pen)
        names.append(name)
    family = f"glyphart {preset.name}"
    ps_name = family.replace(" ", "-") + "-Regular"
    builder = FontBuilder(UNITS_PER_EM, isTTF=not cff)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(" "): "space",
                               **{ord(c): n for c, n in zip(characters, names[2:])}})
    if cff:
        builder.setupCFF(ps_name, {"FullName": f"{family} Regular"}, shapes, {})
    else:
        builder.setupGlyf(shapes)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=SQUARE, descent=-DESCENT)
    builder.setupNameTable({"familyName": family, "styleName": "Regular",
                            "uniqueFontIdentifier": f"{family} {preset.weights_hash}",
                            "fullName": f"{family} Regular", "psName": ps_name,
                            "version": "Version 1.0",
                            "description": _description(preset, seeds, picked_from)})
    builder.setupOS2(sTypoAscender=SQUARE, sTypoDescender=-DESCENT, sTypoLineGap=0,
                     usWinAscent=SQUARE, usWinDescent=DESCENT, sxHeight=SQUARE // 2,
                     sCapHeight=SQUARE)
    builder.setupPost()
    return builder


def _description(preset, seeds: list[int], picked_from: str) -> str:
    import json
    made = {"preset": preset.name, "seeds": seeds} | \
        ({"picked_from": picked_from} if picked_from else {})
    return "glyphart " + json.dumps(made, separators=(",", ":"))


PANGRAM = "Sphinx of black quartz judge my vow"


def write_specimen(preset, seeds: list[int], font_path: Path, private_use: bool = False,
                   characters: list[str] | None = None) -> list[Path]:
    """Beside a font: NAME.woff2 (unless the font is one), an HTML page that loads it and sets
    a pangram and the alphabet, and a PNG of the same set by FreeType. Returns the paths."""
    import io

    characters = characters or character_map(len(seeds), private_use)
    typed = set(characters) | {" "}
    lines = ["".join(c for c in PANGRAM if c in typed).strip() or "".join(characters[:12]),
             "".join(characters)]
    font = _builder(preset, seeds, characters, cff=False).font  # drawn once, saved twice
    written = []
    woff2 = font_path.with_suffix(".woff2")
    if woff2 != font_path:
        written.append(_save(font, woff2, "woff2"))
    page = font_path.with_name(font_path.stem + ".specimen.html")
    write_text(page, _specimen_page(f"glyphart {preset.name}", woff2.name, lines, seeds,
                                    characters))
    truetype = io.BytesIO()
    font.flavor = None
    font.save(truetype)
    png = font_path.with_name(font_path.stem + ".specimen.png")
    write_image(png, _specimen_image(truetype, lines))
    return written + [page, png]


def _specimen_page(family: str, woff2_name: str, lines: list[str], seeds: list[int],
                   characters: list[str]) -> str:
    from html import escape
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(family)}</title>",
        f"<style>@font-face {{ font-family: 'specimen'; src: url('{woff2_name}') "
        "format('woff2'); }",
        "body { background: #f3eee3; color: #16140f; margin: 3em; font-family: sans-serif; }",
        ".set { font-family: 'specimen'; font-size: 64px; line-height: 1.3; "
        "overflow-wrap: anywhere; }</style></head><body>",
        f"<h1>{escape(family)}</h1>",
        *[f'<p class="set">{escape(line)}</p>' for line in lines],
        f"<p>{len(seeds)} glyphs, seeds {seeds[0]}&ndash;{seeds[-1]}, typed as "
        f"{escape(''.join(characters))}</p>",
        "</body></html>", ""])


def _specimen_image(truetype, lines: list[str]):
    """The lines set by FreeType (Pillow) in the font, ink on paper: (H, W, 3) uint8."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    truetype.seek(0)
    font = ImageFont.truetype(truetype, 56)
    width = max(int(font.getlength(line)) for line in lines) + 48
    image = Image.new("RGB", (width, 96 * len(lines) + 24), (243, 238, 227))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((24, 18 + 96 * i), line, font=font, fill=(22, 20, 15))
    return np.asarray(image)
