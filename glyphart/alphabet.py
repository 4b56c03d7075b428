"""Curated alphabets: out of many seeds, the few glyphs that differ most from each other.

A font of 26 letters wants 26 compositions, not 26 draws of whatever seeds 0-25 happen to be.
`pick` draws every seed of a pool at native size, blurs its ink to the coarse structure the
composition measure sees (metrics.composition), and chooses greedily the glyph farthest from
all chosen so far (farthest-point sampling on 1 - correlation). The same pool and N give the
same seeds on every machine: the messages are seeded and ties go to the lower seed.
"""

from __future__ import annotations

import torch

from .errors import GlyphartError
from .latent import messages
from .metrics import blurred_ink, ink_masks

BATCH = 256  # glyphs drawn at once: memory stays flat however large the pool
DEFAULT_POOL = "0-4095"  # where --pick looks unless --seeds says otherwise


@torch.no_grad()
def coarse_ink(preset, seeds: list[int]) -> torch.Tensor:
    """(len(seeds), pixels): each glyph's ink blurred to its coarse composition, centred and
    of unit norm, so a dot product is the correlation of two compositions."""
    maps = []
    for start in range(0, len(seeds), BATCH):
        z = messages(preset, seeds[start:start + BATCH])
        maps.append(blurred_ink(ink_masks(preset.generator(z.to(preset.device)).float().cpu())))
    return torch.cat(maps)


def pick(preset, n: int, pool: list[int]) -> list[int]:
    """The n seeds of `pool` whose glyphs differ most from each other, in the order chosen
    (the first is the glyph least like the rest)."""
    if not 1 <= n <= len(pool):
        raise GlyphartError(f"--pick {n}: choose between 1 and the {len(pool)} seeds of the "
                            "pool (give more with --seeds, e.g. --seeds 0-4095)")
    maps = coarse_ink(preset, pool)
    first = int((maps @ maps.mean(0)).argmin())  # the least typical composition
    chosen = [first]
    nearest = 1 - maps @ maps[first]  # distance of every glyph to the chosen set
    for _ in range(n - 1):
        nearest[chosen] = -1
        best = int(nearest.argmax())  # argmax returns the first: ties to the lower seed
        chosen.append(best)
        nearest = torch.minimum(nearest, 1 - maps @ maps[best])
    return [pool[i] for i in chosen]
