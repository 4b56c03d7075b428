"""Vector outlines of stroke glyphs: the outline is the raster glyph, and SVG sheets are real
SVG with the glyphart metadata."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import torch

from conftest import assert_one_line_error, run_cli


def test_a_stroke_outline_matches_the_raster_glyph():
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.frames import exact_images
    from glyphart.render.vector import stroke_outline
    preset = load_preset("brush")
    z = messages(preset, [0, 5, 11])
    strokes = preset.strokes(z)
    size = 128
    for i in range(len(z)):
        outline = stroke_outline(strokes[i:i + 1], size)
        raster = exact_images(preset.generator, z[i:i + 1], size)[0, 0] > 0.5
        vector = torch.tensor([[outline.contains((x + 0.5, y + 0.5)) for x in range(size)]
                               for y in range(size)])
        iou = (raster & vector).sum().item() / (raster | vector).sum().item()
        assert iou >= 0.97, (i, iou)


def test_an_svg_sheet_is_svg_with_a_path_per_glyph_and_its_parameters(tmp_path):
    out = tmp_path / "sheet.svg"
    run_cli("render", "--preset", "brush", "--seeds", "0-5", "--grid", "2x3", "--glyph-px", "80",
            "--sheet", str(out), check_ok=True)
    root = ET.parse(out).getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert root.get("width") == str(3 * 80 + 4 * 4) and root.get("height") == str(2 * 80 + 3 * 4)
    assert len(root.findall("svg:g/svg:path", ns)) == 6
    meta = json.loads(root.find("svg:metadata", ns).text)
    assert meta["preset"] == "brush" and meta["seeds"] == "0-5" and "glyphart_version" in meta


def test_raster_presets_say_svg_needs_strokes(tmp_path):
    assert_one_line_error(run_cli("render", "--preset", "gray", "--sheet",
                                  str(tmp_path / "s.svg")), "strokes")
    assert not (tmp_path / "s.svg").exists()


def test_an_svg_poster_has_the_print_size_and_the_png_posters_layout(tmp_path):
    out = tmp_path / "poster.svg"
    run_cli("render", "--preset", "brush", "--seeds", "0-3", "--poster", str(out), "--size",
            "a4", "--dpi", "100", check_ok=True)
    root = ET.parse(out).getroot()
    assert root.get("width") == f"{827 / 100:.4f}in" and root.get("height") == f"{1169 / 100:.4f}in"
    assert root.get("viewBox") == "0 0 827 1169"
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert len(root.findall("svg:g/svg:path", ns)) == 4
    assert json.loads(root.find("svg:metadata", ns).text)["options"]["pixels"] == "827x1169"
