"""Font files of glyph outlines (fontTools): TrueType (.ttf), OpenType CFF (.otf) or WOFF2,
and a specimen beside a font: its WOFF2, an HTML page that sets it and a PNG of the same.

The letters come placed on the em already (layouts/font.py): each with its outline on the
square (y down), advance width, left side bearing and the shift that moves its ink there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...atomic import atomic_path, write_text
from ...errors import GlyphartError
from .png import write_image

FORMATS = (".ttf", ".otf", ".woff2")


@dataclass
class Letter:
    name: str  # the glyph's name in the font, e.g. glyph12
    character: str
    outline: object  # a pathops Path on the square, y down
    advance: int
    bearing: int  # left side bearing
    shift: float  # x shift that puts the ink at the bearing


@dataclass
class Em:
    units: int  # units per em
    square: int  # the glyph's square: baseline to ascender
    descent: int


def check_font_name(path: str | Path) -> str:
    """The font's kind (its extension), refused unless .ttf, .otf or .woff2."""
    kind = Path(path).suffix.lower()
    if kind not in FORMATS:
        raise GlyphartError(f"--out {path}: fonts are written as .ttf, .otf or .woff2; end the "
                            "name in one of those")
    return kind


def write_font(path: str | Path, letters: list[Letter], em: Em, *, family: str,
               unique_id: str, description: str) -> Path:
    """Write a font of the letters, by the name's extension (.ttf, .otf or .woff2)."""
    path = Path(path)
    kind = check_font_name(path)
    font = font_builder(letters, em, family=family, unique_id=unique_id,
                        description=description, cff=kind == ".otf").font
    return save_font(font, path, "woff2" if kind == ".woff2" else None)


def save_font(font, path: Path, flavor: str | None) -> Path:
    """Write a fontTools TTFont atomically, as WOFF2 when `flavor` says so."""
    font.flavor = flavor
    with atomic_path(path) as tmp:
        font.save(str(tmp))
    return path


def font_builder(letters: list[Letter], em: Em, *, family: str, unique_id: str,
                 description: str, cff: bool):
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def new_pen(width):
        return T2CharStringPen(width, None) if cff else TTGlyphPen(None)

    def finish(pen):
        return pen.getCharString() if cff else pen.glyph()

    square = em.square
    names = [".notdef", "space"]
    metrics = {".notdef": (square // 2, 0), "space": (square // 3, 0)}
    shapes = {name: finish(new_pen(metrics[name][0])) for name in names}
    for letter in letters:
        metrics[letter.name] = (letter.advance, letter.bearing)
        pen = new_pen(letter.advance)
        # TrueType draws quadratic curves only: cubic ones (traced raster outlines) are
        # converted to within one font unit.
        target = pen if cff else Cu2QuPen(pen, max_err=1.0)
        # y down on the square -> y up from the baseline, ink moved to start at the bearing
        letter.outline.draw(TransformPen(target, (1, 0, 0, -1, letter.shift, square)))
        shapes[letter.name] = finish(pen)
        names.append(letter.name)
    ps_name = family.replace(" ", "-") + "-Regular"
    builder = FontBuilder(em.units, isTTF=not cff)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(" "): "space",
                               **{ord(letter.character): letter.name for letter in letters}})
    if cff:
        builder.setupCFF(ps_name, {"FullName": f"{family} Regular"}, shapes, {})
    else:
        builder.setupGlyf(shapes)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=square, descent=-em.descent)
    builder.setupNameTable({"familyName": family, "styleName": "Regular",
                            "uniqueFontIdentifier": unique_id,
                            "fullName": f"{family} Regular", "psName": ps_name,
                            "version": "Version 1.0",
                            "description": description})
    builder.setupOS2(sTypoAscender=square, sTypoDescender=-em.descent, sTypoLineGap=0,
                     usWinAscent=square, usWinDescent=em.descent, sxHeight=square // 2,
                     sCapHeight=square)
    builder.setupPost()
    return builder


PANGRAM = "Sphinx of black quartz judge my vow"


def write_specimen(font_path: Path, letters: list[Letter], em: Em, *, family: str,
                   unique_id: str, description: str, seeds: list[int]) -> list[Path]:
    """Beside a font: NAME.woff2 (unless the font is one), an HTML page that loads it and sets
    a pangram and the alphabet, and a PNG of the same set by FreeType. Returns the paths."""
    import io

    characters = [letter.character for letter in letters]
    typed = set(characters) | {" "}
    # In the case the font has: a font of capitals (the default 26 glyphs) sets it in capitals.
    pangram = max((PANGRAM, PANGRAM.upper()), key=lambda p: sum(c in typed for c in p))
    lines = ["".join(c for c in pangram if c in typed).strip() or "".join(characters[:12]),
             "".join(characters)]
    font = font_builder(letters, em, family=family, unique_id=unique_id,
                        description=description, cff=False).font  # drawn once, saved twice
    written = []
    woff2 = font_path.with_suffix(".woff2")
    if woff2 != font_path:
        written.append(save_font(font, woff2, "woff2"))
    page = font_path.with_name(font_path.stem + ".specimen.html")
    write_text(page, _specimen_page(family, woff2.name, lines, seeds, characters))
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
