"""Seeds -> messages, and looping interpolation paths through them.

Glyph identity is (preset, seed): seed s is `torch.randn(N, generator=manual_seed(s))`, the same
on every machine. Paths are periodic: t = k / F for k = 0..F-1, so a loop never repeats a frame.
"""

from __future__ import annotations

import re
from typing import Iterable

import torch

from .errors import GlyphartError
from .parse import entries, integer, shown

_RANGE = re.compile(r"([0-9]+)\s*(?:-\s*([0-9]+))?")  # ASCII digits; parse_seed bounds them
MAX_SEEDS = 1_000_000


MAX_SEED = 2**63 - 1  # what torch.Generator.manual_seed takes


def parse_seeds(text: str) -> list[int]:
    """'0-15,42,100-103' -> [0, ..., 15, 42, 100, ..., 103] (order kept, duplicates kept)."""
    seeds: list[int] = []
    for part in entries(text, "bad seed list"):
        lo, hi = _seed_range(text, part)
        if len(seeds) + hi - lo + 1 > MAX_SEEDS:
            raise GlyphartError(f"bad seed list {shown(text)}: more than {MAX_SEEDS} seeds")
        seeds.extend(range(lo, hi + 1))
    return seeds


def _seed_range(text: str, part: str) -> tuple[int, int]:
    """'4' -> (4, 4), '0-15' -> (0, 15): each end a seed from 0 to MAX_SEED."""
    match = _RANGE.fullmatch(part)
    if not match:
        raise GlyphartError(
            f"bad seed list {shown(text)}: {shown(part)} is not a number or a range like 0-15 "
            "(use comma-separated non-negative integers and ranges, e.g. 0-15,42)")
    lo, hi = (parse_seed(end, f"bad seed list {shown(text)}: seed")
              for end in (match.group(1), match.group(2) or match.group(1)))
    if hi < lo:
        raise GlyphartError(f"bad seed list {shown(text)}: range {lo}-{hi} runs backwards")
    return lo, hi


def parse_seed(text, what: str = "seed") -> int:
    """One seed, from 0 to MAX_SEED (what torch.Generator.manual_seed takes)."""
    return integer(text, 0, MAX_SEED, what)


def message(size: int, seed: int) -> torch.Tensor:
    return torch.randn(size, generator=torch.Generator().manual_seed(int(seed)))


def messages(preset_or_size, seeds: Iterable[int] | str) -> torch.Tensor:
    """Messages (len(seeds), N) for a preset (or a message size) and seeds or a seed list."""
    size = preset_or_size if isinstance(preset_or_size, int) else \
        preset_or_size.spec.model.message_size
    if isinstance(seeds, str):
        seeds = parse_seeds(seeds)
    seeds = list(seeds)
    if not seeds:
        return torch.empty(0, size)
    return torch.stack([message(size, s) for s in seeds])


# ---------------------------------------------------------------------------------------------
# interpolation: keys (K, N) -> point at phase t in [0, 1) of a closed loop through all keys


def _segment(keys: torch.Tensor, t: float) -> tuple[int, float]:
    n = keys.shape[0]
    pos = (t % 1.0) * n
    i = int(pos) % n
    return i, pos - int(pos)


def lerp(keys: torch.Tensor, t: float) -> torch.Tensor:
    i, u = _segment(keys, t)
    a, b = keys[i], keys[(i + 1) % len(keys)]
    return a + (b - a) * u


def slerp(keys: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: keeps the norm of Gaussian messages (no dim mid-points)."""
    i, u = _segment(keys, t)
    a, b = keys[i], keys[(i + 1) % len(keys)]
    na, nb = a.norm(), b.norm()
    cos = torch.dot(a / na, b / nb).clamp(-1 + 1e-7, 1 - 1e-7)
    omega = torch.arccos(cos)
    if omega < 1e-4:
        return a + (b - a) * u
    direction = (torch.sin((1 - u) * omega) * a / na + torch.sin(u * omega) * b / nb
                 ) / torch.sin(omega)
    return direction * (na + (nb - na) * u)


def cubic(keys: torch.Tensor, t: float) -> torch.Tensor:
    """Periodic Catmull-Rom spline: passes through every key, no corners anywhere in the loop."""
    n = len(keys)
    i, u = _segment(keys, t)
    p0, p1, p2, p3 = keys[(i - 1) % n], keys[i], keys[(i + 1) % n], keys[(i + 2) % n]
    u2, u3 = u * u, u * u * u
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2
                  + (-p0 + 3 * p1 - 3 * p2 + p3) * u3)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp, "cubic": cubic}


def loop_path(keys: torch.Tensor, frames: int, interp: str = "cubic") -> Iterable[torch.Tensor]:
    """Yield `frames` points of a closed loop through keys; frame `frames` would be frame 0."""
    if interp not in INTERPOLATIONS:
        raise GlyphartError(f"unknown interpolation {interp!r}; use one of "
                            + ", ".join(INTERPOLATIONS))
    fn = INTERPOLATIONS[interp]
    for k in range(frames):
        yield fn(keys, k / frames)


def compact_seeds(seeds: Iterable[int]) -> str:
    """[0, 1, 2, 3, 7] -> '0-3,7': the inverse of parse_seeds."""
    seeds = list(seeds)
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(parts)
