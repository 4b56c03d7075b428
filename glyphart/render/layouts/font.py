"""A font's glyph set: which character types which glyph, and where each glyph sits on the em.

Each glyph is drawn on a 1000-unit em: the glyph's square is 800 units tall, from the baseline
to the ascender, with 200 below for the descender. Advance widths follow each glyph's ink, with
a tenth of the square as side bearings, so a sentence sets with even spacing. Characters map
A-Z, a-z, 0-9 in seed order, to the Private Use Area, or as a map file says.
"""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

from ...errors import GlyphartError
from ...latent import parse_seed
from ...parse import shown

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


def ink_edges(bounds: tuple[float, float, float, float] | None) -> tuple[float, float]:
    """(left, right) of a glyph's ink on the square, from its outline's bounds (None: no ink,
    the whole square stands in)."""
    left, _, right, _ = bounds if bounds is not None else (0, 0, SQUARE, 0)
    return left, right


def letter_metrics(left: float, right: float) -> tuple[int, int, float]:
    """(advance width, left side bearing, x shift) of a letter whose ink spans [left, right]
    on the square: the ink moved to start at the bearing, a bearing either side."""
    return round(right - left) + 2 * BEARING, BEARING, BEARING - left
