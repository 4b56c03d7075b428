"""Vector outlines of stroke glyphs: the outline is the raster glyph, and SVG sheets are real
SVG with the glyphart metadata."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import torch

from conftest import assert_one_line_error, run_cli
from glyphart.presets import BUILTIN_NAMES


def test_a_stroke_outline_matches_the_raster_glyph():
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.glyphs import exact_images
    from glyphart.render.outline import stroke_outline
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


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_shipped_presets_outlines_fill_back_to_its_raster_glyphs(name):
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.glyphs import render_glyphs
    from glyphart.render.glyphs import glyph_outlines
    from glyphart.render.outline import outline_mask
    preset = load_preset(name)
    z = messages(preset, range(6))
    raster = render_glyphs(preset.generator, z, 512) > 0.5
    for i, layers in enumerate(glyph_outlines(preset, z, 512)):
        for k, outline in enumerate(layers):
            vector = torch.from_numpy(outline_mask(outline, 512))
            union = max((raster[i, k] | vector).sum().item(), 1)
            iou = (raster[i, k] & vector).sum().item() / union
            assert iou >= 0.95, (name, i, k, iou)


def test_a_raster_outline_keeps_holes_and_drops_specks():
    import pathops
    from glyphart.render.outline import field_outline, outline_mask
    y, x = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 32), indexing="ij")
    r = (x * x + y * y).sqrt()
    ring = 8 * torch.minimum(r - 0.3, 0.7 - r)  # a ring: ink between radii 0.3 and 0.7
    speck = 8 * (0.04 - ((x - 0.9) ** 2 + (y - 0.9) ** 2).sqrt())
    outline = field_outline(torch.maximum(ring, speck), 256)
    assert len(list(outline.contours)) == 2  # outer edge and hole, the speck dropped
    mask = outline_mask(outline, 256)
    assert not mask[128, 128] and mask[128, 128 + 64] and not mask[250, 250]
    assert isinstance(outline, pathops.Path)


def test_an_svg_poster_has_the_print_size_and_the_png_posters_layout(tmp_path):
    out = tmp_path / "poster.svg"
    run_cli("render", "--preset", "brush", "--seeds", "0-3", "--poster", str(out), "--size",
            "a4", "--dpi", "100", check_ok=True)
    root = ET.parse(out).getroot()
    assert root.get("width") == f"{827 / 100:.4f}in"
    assert root.get("height") == f"{1169 / 100:.4f}in"
    assert root.get("viewBox") == "0 0 827 1169"
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert len(root.findall("svg:g/svg:path", ns)) == 4
    assert json.loads(root.find("svg:metadata", ns).text)["options"]["pixels"] == "827x1169"


def _ink_crop(mask: torch.Tensor) -> torch.Tensor:
    ys, xs = mask.nonzero(as_tuple=True)
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _aligned_iou(a: torch.Tensor, b: torch.Tensor, reach: int = 2) -> float:
    """IoU of two ink masks, the best over shifts of up to `reach` pixels (a font places a
    glyph on its own pixel grid, to within a pixel)."""
    h, w = max(a.shape[0], b.shape[0]) + 2 * reach, max(a.shape[1], b.shape[1]) + 2 * reach
    pa = torch.zeros(h, w, dtype=torch.bool)
    pa[reach:reach + a.shape[0], reach:reach + a.shape[1]] = a
    best = 0.0
    for dy in range(2 * reach + 1):
        for dx in range(2 * reach + 1):
            pb = torch.zeros(h, w, dtype=torch.bool)
            pb[dy:dy + b.shape[0], dx:dx + b.shape[1]] = b[:h - dy, :w - dx]
            best = max(best, (pa & pb).sum().item() / (pa | pb).sum().item())
    return best


def test_a_font_installs_and_types_each_glyph_as_drawn(tmp_path):
    """Typed by FreeType, each letter within its glyph square is the raster glyph (strokes
    that run past the square overhang it in the font, ending in their own caps)."""
    import numpy as np
    from fontTools.ttLib import TTFont
    from PIL import Image, ImageDraw, ImageFont
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.compose import font_glyphs
    from glyphart.render.layouts.font import BEARING, SQUARE
    from glyphart.render.glyphs import exact_images
    out = tmp_path / "brush.ttf"
    run_cli("font", "--preset", "brush", "--seeds", "0-25", "--out", str(out), check_ok=True)
    cmap = TTFont(out).getBestCmap()
    assert {chr(c) for c in cmap} >= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
    preset = load_preset("brush")
    font = ImageFont.truetype(str(out), 320)  # 1000 units = 320 px: the glyph square is 256
    drawn = exact_images(preset.generator, messages(preset, range(26)), 256)[:, 0] > 0.5
    lefts = [left for _, _, left, _ in font_glyphs(preset, list(range(26)), SQUARE)]
    for seed, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        canvas = Image.new("L", (700, 600), 0)
        ImageDraw.Draw(canvas).text((100, 20), char, font=font, fill=255)  # ascender at y 20
        x0 = 100 + round((BEARING - lefts[seed]) * 0.32)  # where the glyph's square begins
        typed = torch.from_numpy(np.asarray(canvas)[20:276, x0:x0 + 256] > 127)
        assert _aligned_iou(typed, drawn[seed]) >= 0.9, char


def test_fonts_refuse_other_formats_and_too_many_glyphs(tmp_path):
    assert_one_line_error(run_cli("font", "--preset", "brush", "--out", str(tmp_path / "f.eot")),
                          ".ttf, .otf or .woff2")
    assert_one_line_error(run_cli("font", "--preset", "brush", "--seeds", "0-99", "--out",
                                  str(tmp_path / "f.ttf")), "--pua")
    assert list(tmp_path.iterdir()) == []


def test_otf_and_woff2_fonts_and_a_specimen(tmp_path):
    from fontTools.ttLib import TTFont
    out = tmp_path / "brush.otf"
    proc = run_cli("font", "--preset", "brush", "--seeds", "0-9", "--out", str(out),
                   "--specimen", check_ok=True)
    assert proc.stdout.count("wrote") == 4
    otf, woff2 = TTFont(out), TTFont(tmp_path / "brush.woff2")
    assert "CFF " in otf and woff2.flavor == "woff2"
    for font in (otf, woff2):
        assert {chr(c) for c in font.getBestCmap()} == set("ABCDEFGHIJ ")
    page = (tmp_path / "brush.specimen.html").read_text()
    assert "url('brush.woff2')" in page and "ABCDEFGHIJ" in page
    from PIL import Image
    with Image.open(tmp_path / "brush.specimen.png") as image:
        assert image.format == "PNG" and image.width > 300


def test_a_font_of_capitals_sets_its_specimen_pangram_in_capitals(tmp_path):
    """The default font is 26 glyphs on A-Z: its specimen sets the whole pangram, not the
    one capital the sentence as written has."""
    run_cli("font", "--preset", "brush", "--out", str(tmp_path / "caps.ttf"), "--specimen",
            check_ok=True)
    assert "SPHINX OF BLACK QUARTZ JUDGE MY VOW" in (tmp_path / "caps.specimen.html").read_text()


def test_a_pdf_poster_is_the_png_poster_in_vectors(tmp_path):
    import numpy as np
    import pypdfium2
    from PIL import Image
    for name in ("seed", "color"):
        args = ["render", "--preset", name, "--seeds", "0-5", "--size", "a5", "--dpi", "60"]
        run_cli(*args, "--poster", str(tmp_path / f"{name}.pdf"), check_ok=True)
        run_cli(*args, "--poster", str(tmp_path / f"{name}.png"), check_ok=True)
        pdf = pypdfium2.PdfDocument(tmp_path / f"{name}.pdf")
        width, height = pdf[0].get_size()
        assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (148, 210)  # A5 in mm
        meta = json.loads(pdf.get_metadata_dict()["Subject"])
        assert meta["preset"] == name and meta["options"]["pixels"] == "350x496"
        vector = np.asarray(pdf[0].render(scale=60 / 72).to_pil().convert("RGB"), float)
        pdf.close()
        with Image.open(tmp_path / f"{name}.png") as im:
            raster = np.asarray(im.convert("RGB"), float)
        assert abs(vector.shape[0] - raster.shape[0]) <= 1  # the renderer rounds the page up
        vector = vector[:raster.shape[0], :raster.shape[1]]
        # The same picture: the same ink in the same place, and the same colours.
        paper = raster[0, 0]
        ink_v, ink_r = (np.abs(a - paper).max(-1) > 60 for a in (vector, raster))
        assert (ink_v & ink_r).sum() / (ink_v | ink_r).sum() > 0.9, name
        assert np.abs(vector - raster).mean() < 6, name


def test_plotter_files_have_a_layer_per_ink_at_the_page_size(tmp_path):
    import vpype
    for name, layers, extra in (("brush", [1], []), ("color", [1, 2, 3], []),
                                ("seed", [1], ["--hatch", "1"])):
        out = tmp_path / f"{name}.svg"
        run_cli("render", "--preset", name, "--seeds", "0-5", "--plot", str(out), "--size",
                "a5", "--landscape", *extra, check_ok=True)
        doc = vpype.read_multilayer_svg(str(out), 0.1)
        assert sorted(doc.layers) == layers, name
        mm = [round(v / 96 * 25.4) for v in doc.page_size]  # vpype works in CSS pixels
        assert mm == [210, 148] and doc.length() > 0, name
        assert 'fill="none"' in out.read_text() and "<rect" not in out.read_text()


def test_hatching_fills_raster_outlines_with_lines(tmp_path):
    import vpype
    lengths = {}
    for hatch in ([], ["--hatch", "0.5"]):
        out = tmp_path / f"seed{len(hatch)}.svg"
        run_cli("render", "--preset", "seed", "--seeds", "0-3", "--plot", str(out), *hatch,
                check_ok=True)
        lengths[len(hatch)] = vpype.read_multilayer_svg(str(out), 0.1).length()
    assert lengths[2] > 2 * lengths[0]
    assert_one_line_error(run_cli("render", "--preset", "brush", "--plot", str(tmp_path / "b.svg"),
                                  "--hatch", "1"), "--hatch fills raster outlines")
    assert_one_line_error(run_cli("render", "--preset", "brush", "--hatch", "1"),
                          "--hatch applies to --plot")


def test_a_font_from_a_map_file_and_from_a_raster_preset(tmp_path):
    from fontTools.ttLib import TTFont
    mapping = tmp_path / "map.txt"
    mapping.write_text("# my script\nA 7\nß 3\n\u05d0 12\n", encoding="utf-8")
    out = tmp_path / "seed.ttf"
    run_cli("font", "--preset", "seed", "--map", str(mapping), "--out", str(out), check_ok=True)
    font = TTFont(out)
    cmap = font.getBestCmap()
    assert {chr(c) for c in cmap} == {"A", "ß", "\u05d0", " "}
    assert font["glyf"][cmap[ord("A")]].numberOfContours > 0  # traced from the logit field
    assert cmap[ord("A")] == "glyph7"
    mapping.write_text("A 7\nA 8\n")
    assert_one_line_error(run_cli("font", "--preset", "seed", "--map", str(mapping), "--out",
                                  str(tmp_path / "x.ttf")), "mapped twice")
    assert_one_line_error(run_cli("font", "--preset", "seed", "--map", str(mapping), "--seeds",
                                  "0-3", "--out", str(tmp_path / "x.ttf")), "drop --seeds")
    assert not (tmp_path / "x.ttf").exists()


def _edges_on_square(outline, side: float) -> int:
    """Outline edges (longer than a unit) that lie along the glyph's square: flat cuts."""
    import numpy as np
    from glyphart.render.outline import flatten
    count = 0
    for ring in flatten(outline):
        a, b = ring, np.roll(ring, -1, 0)
        long = np.hypot(*(b - a).T) > 1
        for axis in (0, 1):
            for line in (0.0, side):
                count += int((long & (abs(a[:, axis] - line) < 0.01)
                              & (abs(b[:, axis] - line) < 0.01)).sum())
    return count


def test_a_fonts_strokes_end_in_their_own_caps_never_cut_by_the_square():
    """brush's strokes run past the glyph's square (inset < 0): on a sheet they are cut there,
    in a font they end in their own caps and tapers, overhanging."""
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.compose import font_glyphs
    from glyphart.render.glyphs import glyph_outlines
    from glyphart.render.layouts.font import SQUARE
    preset = load_preset("brush")
    seeds = list(range(16))
    cut = sum(_edges_on_square(layers[0], SQUARE)
              for layers in glyph_outlines(preset, messages(preset, seeds), SQUARE))
    assert cut > 0  # the sheet's outlines are cut: the check sees flat edges
    kept = [outline for _, outline, _, _ in font_glyphs(preset, seeds, SQUARE)]
    assert sum(_edges_on_square(outline, SQUARE) for outline in kept) == 0
