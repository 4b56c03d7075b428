"""What a user types, read strictly: numbers, comma-separated lists and colours.

One reader for each, used by every option, preset value and file that holds one. A number's
length and form are checked before it is converted (int() of 5,000 digits raises, float() of a
400-digit width is infinity), then its range; a list refuses an empty entry (a stray comma is
a mistake, never nothing); a colour is #rrggbb or #rgb and nothing else ('#-1-1-1' passes
int(t, 16)). No torch here: the command line imports it to read its options.
"""

from __future__ import annotations

import math
import re
import sys

from .errors import GlyphartError

MAX_CHARS = 32  # '9223372036854775807' and '1.5e-12' fit; 400 digits is a typo or an attack

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


def shown(value) -> str:
    """A value as an error message quotes it (repr): a long one cut short, with its length."""
    try:
        full = repr(value)
    except ValueError:  # an int of over sys.get_int_max_str_digits() digits
        return f"an integer of over {sys.get_int_max_str_digits()} digits"
    if len(full) <= MAX_CHARS + 2:
        return full
    text = str(value)
    return f"{text[:12]!r}... ({len(text)} characters)"


def integer(text, lo: int, hi: int, what: str = "") -> int:
    """An integer from lo to hi, written in ASCII digits with an optional sign."""
    if isinstance(text, int) and not isinstance(text, bool):
        return _in_range(text, text, lo, hi, what, "an integer")
    body = str(text).strip()
    if not _INTEGER.fullmatch(body):
        raise _refused(text, "is not an integer", lo, hi, what, "an integer")
    if len(body) > MAX_CHARS:
        raise _refused(text, "is too small" if body.startswith("-") else "is too large",
                       lo, hi, what, "an integer")
    return _in_range(int(body), text, lo, hi, what, "an integer")


def number(text, lo: float, hi: float, what: str = "", lo_open: bool = False) -> float:
    """A finite number from lo to hi (above lo, not at it, when lo_open)."""
    noun = "a number above" if lo_open else "a number"
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        body = str(text).strip()
        if len(body) > MAX_CHARS:
            raise _refused(text, "is too long", lo, hi, what, noun)
        if not _NUMBER.fullmatch(body):
            raise _refused(text, "is not a finite number", lo, hi, what, noun)
        value = float(body)
    if not math.isfinite(value):
        raise _refused(text, "is not a finite number", lo, hi, what, noun)
    if lo_open and value == lo:
        raise _refused(text, "is too small", lo, hi, what, noun)
    return _in_range(value, text, lo, hi, what, noun)


def _in_range(value, text, lo, hi, what: str, noun: str):
    if value < lo:
        raise _refused(text, "is too small", lo, hi, what, noun)
    if value > hi:
        raise _refused(text, "is too large", lo, hi, what, noun)
    return value


def _refused(text, problem: str, lo, hi, what: str, noun: str) -> GlyphartError:
    span = f"{noun} {_plain(lo)} and at most {_plain(hi)}" if noun.endswith("above") else \
        f"{noun} from {_plain(lo)} to {_plain(hi)}"
    return GlyphartError(f"{what + ' ' if what else ''}{shown(text)} {problem}; use {span}")


def _plain(x) -> str:
    return str(x) if isinstance(x, int) or not float(x).is_integer() else str(int(x))


def entries(text: str, what: str) -> list[str]:
    """The entries of a comma-separated list, stripped; an empty one is refused by its place."""
    items = [item.strip() for item in str(text).split(",")]
    for i, item in enumerate(items, 1):
        if not item:
            raise GlyphartError(f"{what} {shown(text)}: entry {i} of {len(items)} is empty; "
                                "separate the entries with single commas, none at either end")
    return items


def color(text: str, what: str = "colour") -> tuple[int, int, int]:
    """'#rrggbb' or '#rgb' (the # optional) -> (r, g, b) in 0-255."""
    match = _COLOUR.fullmatch(str(text).strip())
    if not match:
        raise GlyphartError(f"bad {what} {shown(text)}: use #rrggbb, e.g. #ffcc00")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
