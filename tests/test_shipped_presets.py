"""Every shipped preset loads, its weights fit its spec, and its glyph for seed 0 is stable.

The reference numbers in shipped_glyphs.json are written by `python tests/test_shipped_presets.py`
right after a preset is (re)trained; a change to models, loading or weights that alters the
glyphs fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from glyphart.presets import BUILTIN_NAMES, builtin_dir, load_preset
from glyphart.spec import load_spec

REFERENCE = Path(__file__).with_name("shipped_glyphs.json")


def fingerprint(name: str) -> dict:
    preset = load_preset(str(builtin_dir() / f"{name}.toml"))
    with torch.no_grad():
        image = preset.generator(torch.randn(preset.spec.model.message_size,
                                             generator=torch.Generator().manual_seed(0))[None])[0]
    flat = image.flatten()
    idx = torch.linspace(0, flat.numel() - 1, 16).long()
    return {"shape": list(image.shape), "mean": float(image.mean()), "std": float(image.std()),
            "probe": [round(float(v), 5) for v in flat[idx]]}


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_shipped_preset_is_trained_and_stable(name):
    toml = builtin_dir() / f"{name}.toml"
    spec = load_spec(toml)
    assert toml.with_suffix(".safetensors").is_file(), f"{name} has no weights"
    record = json.loads(toml.with_suffix(".json").read_text())
    assert record["model_hash"] == spec.model_hash
    assert record["metrics"]["bits_per_glyph_reference"] > 0
    expected = json.loads(REFERENCE.read_text())[name]
    got = fingerprint(name)
    assert got["shape"] == expected["shape"] == [spec.model.layers, spec.model.size,
                                                 spec.model.size]
    assert got["mean"] == pytest.approx(expected["mean"], abs=2e-3)
    assert got["std"] == pytest.approx(expected["std"], abs=2e-3)
    assert got["probe"] == pytest.approx(expected["probe"], abs=1e-2)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_descriptions_are_a_sentence_or_two_for_an_artist(name):
    text = load_spec(builtin_dir() / f"{name}.toml").description
    sentences = [s for s in text.replace("e.g.", "eg").split(". ") if s.strip()]
    assert 1 <= len(sentences) <= 2 and len(text) <= 240, text


def test_shipped_weights_are_small():
    total = sum(p.stat().st_size for p in builtin_dir().glob("*.safetensors"))
    assert total <= 40 * 1024 * 1024, total


def test_readme_preview_sheets_are_small_pngs_of_every_preset():
    from PIL import Image
    docs = Path(__file__).resolve().parent.parent / "docs"
    for name in BUILTIN_NAMES:
        sheet = docs / f"{name}-sheet.png"
        assert sheet.stat().st_size <= 300_000, f"{sheet.name} is over 300 KB"
        with Image.open(sheet) as image:
            assert image.format == "PNG" and image.width > 3 * image.height  # 4 rows of 16


if __name__ == "__main__":
    REFERENCE.write_text(json.dumps({n: fingerprint(n) for n in BUILTIN_NAMES}, indent=1) + "\n")
    print(f"wrote {REFERENCE}")
