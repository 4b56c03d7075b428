"""An installable TrueType font of a strokes preset's glyphs, built with fontTools.

Each glyph's outline (vector.stroke_outline) is drawn on a 1000-unit em: the glyph's square is
800 units tall, from the baseline to the ascender, with 200 below for the descender. Advance
widths follow each glyph's ink, with a tenth of the square as side bearings, so a sentence
sets with even spacing. Characters map A-Z, a-z, 0-9 in seed order, or to the Private Use Area.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch

from ..atomic import atomic_path
from ..errors import GlyphartError
from .vector import stroke_outline

UNITS_PER_EM = 1000
SQUARE = 800  # the glyph's square, baseline to ascender
DESCENT = 200
BEARING = SQUARE // 10
DEFAULT_CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits
PRIVATE_USE = 0xE000


def character_map(count: int, private_use: bool = False) -> list[str]:
    """The characters `count` glyphs stand for, in seed order."""
    if private_use:
        return [chr(PRIVATE_USE + i) for i in range(count)]
    if count > len(DEFAULT_CHARACTERS):
        raise GlyphartError(f"{count} glyphs but only {len(DEFAULT_CHARACTERS)} letters and "
                            "digits to map them to; give fewer seeds or --pua")
    return list(DEFAULT_CHARACTERS[:count])


def build_font(preset, seeds: list[int], path: str | Path, private_use: bool = False) -> Path:
    """Write a .ttf of `seeds`' glyphs, named after the preset; returns its path."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    from ..latent import messages
    path = Path(path)
    if path.suffix.lower() != ".ttf":
        raise GlyphartError(f"--out {path}: fonts are written as TrueType; end the name in .ttf")
    if preset.spec.model.generator != "strokes":
        raise GlyphartError(f"fonts are drawn from strokes; {preset.name!r} draws raster glyphs")
    characters = character_map(len(seeds), private_use)
    with torch.no_grad():
        strokes = preset.generator.strokes(messages(preset, seeds))
    names = [".notdef", "space"] + [f"glyph{seed}" for seed in seeds]
    glyphs, metrics = {".notdef": TTGlyphPen(None).glyph(), "space": TTGlyphPen(None).glyph()}, {
        ".notdef": (SQUARE // 2, 0), "space": (SQUARE // 3, 0)}
    for i, name in enumerate(names[2:]):
        outline = stroke_outline(strokes[i:i + 1], SQUARE)
        left, _, right, _ = outline.bounds if outline.area else (0, 0, SQUARE, 0)
        pen = TTGlyphPen(None)
        # y down on the square -> y up from the baseline, ink moved to start at the bearing
        outline.draw(TransformPen(pen, (1, 0, 0, -1, BEARING - left, SQUARE)))
        glyphs[name] = pen.glyph()
        metrics[name] = (round(right - left) + 2 * BEARING, BEARING)
    family = f"glyphart {preset.name}"
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(" "): "space",
                               **{ord(c): n for c, n in zip(characters, names[2:])}})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=SQUARE, descent=-DESCENT)
    builder.setupNameTable({"familyName": family, "styleName": "Regular",
                            "uniqueFontIdentifier": f"{family} {preset.weights_hash}",
                            "fullName": f"{family} Regular",
                            "psName": family.replace(" ", "-") + "-Regular",
                            "version": "Version 1.0"})
    builder.setupOS2(sTypoAscender=SQUARE, sTypoDescender=-DESCENT, sTypoLineGap=0,
                     usWinAscent=SQUARE, usWinDescent=DESCENT, sxHeight=SQUARE // 2,
                     sCapHeight=SQUARE)
    builder.setupPost()
    with atomic_path(path) as tmp:
        builder.save(str(tmp))
    return path
