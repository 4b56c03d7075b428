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


def test_font_and_sheet_record_the_picked_seeds(tmp_path):
    import json
    from fontTools.ttLib import TTFont
    from PIL import Image
    from conftest import run_cli
    font, sheet = tmp_path / "picked.ttf", tmp_path / "picked.png"
    run_cli("font", "--preset", "gray", "--pick", "10", "--seeds", "0-255", "--out", str(font),
            "-q", check_ok=True)
    run_cli("render", "--preset", "gray", "--pick", "10", "--seeds", "0-255", "--sheet",
            str(sheet), check_ok=True)
    expected = pick(glyphart.load_preset("gray"), 10, list(range(256)))
    made = json.loads(TTFont(font)["name"].getDebugName(10).removeprefix("glyphart "))
    assert made["seeds"] == expected and made["picked_from"] == "0-255"
    params = json.loads(Image.open(sheet).text["glyphart"])
    # The sheet writes its seeds as a seed list (226,227 in a row as 226-227): parse it.
    from glyphart.latent import parse_seeds
    assert parse_seeds(params["seeds"]) == expected and params["picked_from"] == "0-255"
