"""Request parameters and the view's state, validated: every bad value is a GlyphartError with
one line that names the parameter and what is allowed (the app answers it with a 400)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import GlyphartError
from ..latent import INTERPOLATIONS, MAX_SEED

MAX_PX = 2048        # the large view's biggest side; tiles are smaller
MAX_KEYS = 16        # glyphs in one walk
MAX_TEXT = 200       # characters of any one parameter
_COLOUR_LIST = re.compile(r"#[0-9a-fA-F]{6}(,#[0-9a-fA-F]{6}){0,7}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def text(params, key: str, default: str = "") -> str:
    value = params.get(key, default)
    if not isinstance(value, str):
        raise GlyphartError(f"{key}: give text")
    if len(value) > MAX_TEXT:
        raise GlyphartError(f"{key}: at most {MAX_TEXT} characters")
    return value


def integer(params, key: str, lo: int, hi: int, default: int | None = None) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        if default is None:
            raise GlyphartError(f"{key}: missing; give an integer from {lo} to {hi}")
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or \
            not re.fullmatch(r"-?[0-9]{1,19}", str(raw)):
        raise GlyphartError(f"{key}: give an integer from {lo} to {hi}")
    value = int(raw)
    if not lo <= value <= hi:
        raise GlyphartError(f"{key}: {value} is out of range; give {lo} to {hi}")
    return value


def number(params, key: str, lo: float, hi: float, default: float) -> float:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise GlyphartError(f"{key}: give a number from {lo:g} to {hi:g}") from None
    if not lo <= value <= hi:  # NaN fails too
        raise GlyphartError(f"{key}: give a number from {lo:g} to {hi:g}")
    return value


def seeds(params, key: str = "keys") -> tuple[int, ...]:
    """'3,17,40' -> (3, 17, 40): a walk's glyphs, in order."""
    raw = text(params, key)
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not 1 <= len(parts) <= MAX_KEYS:
        raise GlyphartError(f"{key}: give 1 to {MAX_KEYS} seeds separated by commas")
    return tuple(integer({key: p}, key, 0, MAX_SEED) for p in parts)


def preset_name(params) -> str:
    name = text(params, "preset", "")
    if not _NAME.fullmatch(name):
        raise GlyphartError("preset: give a preset name from the picker")
    return name


@dataclass(frozen=True)
class PaintChoice:
    """Palette, inks, paper and blend as the page gives them ("" = the preset's own)."""
    palette: str = ""
    inks: str = ""
    paper: str = ""
    blend: str = ""

    @classmethod
    def from_params(cls, params) -> "PaintChoice":
        from ..inks import BLENDS, PALETTES
        palette, inks = text(params, "palette"), text(params, "inks")
        paper, blend = text(params, "paper"), text(params, "blend")
        if palette and palette not in PALETTES:
            raise GlyphartError(f"palette: unknown {palette[:40]!r}; use one of "
                                + ", ".join(PALETTES))
        if inks and not _COLOUR_LIST.fullmatch(inks):
            raise GlyphartError("inks: give colours as #rrggbb separated by commas")
        if paper and not re.fullmatch(r"#[0-9a-fA-F]{6}", paper):
            raise GlyphartError("paper: give a colour as #rrggbb")
        if blend and blend not in BLENDS:
            raise GlyphartError(f"blend: use one of {', '.join(BLENDS)}")
        return cls(palette, inks.lower(), paper.lower(), blend)

    def options(self) -> dict:
        """As `Render.load` takes them."""
        return {k: v or None for k, v in vars(self).items()}

    def flags(self) -> list[str]:
        """As the `glyphart render` command line gives them."""
        return [f"--{k} {v if v.isalnum() else repr(v)}" for k, v in vars(self).items() if v]


def interp(params) -> str:
    value = text(params, "interp", "slerp")
    if value not in INTERPOLATIONS:
        raise GlyphartError(f"interp: use one of {', '.join(INTERPOLATIONS)}")
    return value
