"""Curated alphabets: --pick N chooses, reproducibly, glyphs more varied than the first N."""

from __future__ import annotations

import pytest
import torch

import glyphart
from glyphart.alphabet import pick
from glyphart.errors import GlyphartError
from glyphart.latent import messages
from glyphart.metrics import composition, ink_masks


def _composition(preset, seeds) -> float:
    with torch.no_grad():
        return composition(ink_masks(preset.generator(messages(preset, seeds))))


def test_pick_is_reproducible_and_more_varied_than_the_first_seeds():
    preset = glyphart.load_preset("gray")
    pool = list(range(512))
    chosen = pick(preset, 12, pool)
    assert chosen == pick(preset, 12, pool)
    assert len(set(chosen)) == 12 and set(chosen) <= set(pool)
    assert _composition(preset, chosen) > _composition(preset, list(range(12))) + 0.05


def test_pick_more_than_the_pool_is_refused():
    with pytest.raises(GlyphartError, match="--pick 9"):
        pick(glyphart.load_preset("gray"), 9, list(range(8)))
