"""Inks on paper: compositing, named palettes, and colour presets recoloured at render time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import TINY, assert_one_line_error, run_cli, write_tiny

from glyphart.errors import GlyphartError
from glyphart.inks import PALETTES, composite, contrast, make_paint, parse_color


def _coverage(*layers):
    return torch.tensor(layers, dtype=torch.float32).view(1, -1, 1, 1)


def test_multiply_shows_each_ink_alone_and_overprints_a_third_colour():
    paint = make_paint(3, "riso")
    paper = np.array(paint.paper)
    inks = np.minimum(paint.inks, paper)  # an ink filters the paper: it cannot lighten it
    rgb = lambda *c: paint.composite(_coverage(*c))[0, :, 0, 0].numpy() * 255  # noqa: E731
    assert np.allclose(rgb(0, 0, 0), paper, atol=0.5)
    for k in range(3):
        alone = [0, 0, 0]
        alone[k] = 1
        assert np.allclose(rgb(*alone), inks[k], atol=0.5)
    overprint = rgb(1, 1, 0)
    assert np.allclose(overprint, inks[0] * inks[1] / paper, atol=0.5)
    assert np.linalg.norm(overprint - inks[:2], axis=1).min() > 20  # a colour of its own


def test_over_lays_later_layers_on_top():
    paint = make_paint(3, "screen")
    assert paint.blend == "over"
    top = paint.composite(_coverage(1, 1, 1))[0, :, 0, 0].numpy() * 255
    assert np.allclose(top, paint.inks[2], atol=0.5)


@pytest.mark.parametrize("palette", sorted(PALETTES))
def test_the_compiled_painter_gives_torchs_bytes(palette):
    """Every palette and blend, coverage beyond [0, 1] included (it is clamped): the compiled
    painter and the torch one give the same uint8 pixels, laid out (B, H, W, 3)."""
    from glyphart import stroke_kernel
    assert stroke_kernel.available(), "the compiled kernels need a C compiler (cc)"
    paint = make_paint(len(PALETTES[palette].inks), palette)
    torch.manual_seed(0)
    coverage = torch.rand(3, len(paint.inks), 19, 300) * 1.4 - 0.2
    compiled, plain = paint.to_rgb8(coverage), paint.torch_rgb8(coverage)
    assert compiled.flags.c_contiguous and compiled.shape == (3, 19, 300, 3)
    assert np.array_equal(compiled, plain)


def test_named_palettes_list_layer_one_as_the_ink_that_stands_out_most():
    for name, palette in PALETTES.items():
        paper = parse_color(palette.paper)
        contrasts = [contrast(parse_color(c), paper) for c in palette.inks]
        assert contrasts == sorted(contrasts, reverse=True), name


def test_paints_are_checked():
    with pytest.raises(GlyphartError, match="palette 'chalk' has 1 ink"):
        make_paint(3, "chalk")
    with pytest.raises(GlyphartError, match="gives 2 colour"):
        make_paint(3, "riso", inks="#000000,#ffffff")
    with pytest.raises(GlyphartError, match="bad colour"):
        make_paint(2, "riso", inks="#000000,#ggg000")
    assert make_paint(2, "riso", inks="#102030, #405060").inks == ((16, 32, 48), (64, 80, 96))
    assert make_paint(1, "riso").inks == (parse_color(PALETTES["riso"].inks[0]),)


def test_training_composites_are_differentiable_in_the_coverage():
    coverage = torch.rand(2, 3, 4, 4, requires_grad=True)
    inks, paper = make_paint(3, "sumi").tensors()
    composite(coverage, inks, paper, "multiply").sum().backward()
    assert coverage.grad.abs().sum() > 0


COLOUR = TINY.replace('name = "tiny"', 'name = "inky"').replace(
    "message_size = 16", 'message_size = 16\nchannels = 3\ninks = 3\ngenerator = "strokes"\n'
    "strokes = 1\nsegments = 2").replace("widths = [32, 16, 8]", "widths = [32]").replace(
    "[render]", '[render]\npalette = "riso"')


@pytest.fixture(scope="module")
def inky(tmp_path_factory):
    from glyphart.spec import load_spec
    from glyphart.train import train
    path = write_tiny(tmp_path_factory.mktemp("inky"), COLOUR, "inky")
    record = train(load_spec(path), path, steps=6, quiet=True, eval_messages=1024)
    return path, record


def _colours(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).reshape(-1, 3).astype(float)


def _unmixable(pixels, paint, tolerance=6.0):
    """Share of pixels farther than `tolerance` from every colour the paint can mix."""
    mixes = paint.mixes(steps=41).astype(np.float32)
    colours, index = np.unique(pixels.astype(np.float32), axis=0, return_inverse=True)
    nearest = np.empty(len(colours), np.float32)
    for start in range(0, len(colours), 256):  # squared distances, a block of colours at once
        c = colours[start:start + 256]
        d2 = (c * c).sum(1)[:, None] + (mixes * mixes).sum(1)[None] - 2 * c @ mixes.T
        nearest[start:start + 256] = np.sqrt(np.clip(d2.min(1), 0, None))
    return float((nearest[index.ravel()] > tolerance).mean())


def test_a_colour_preset_renders_in_any_palette_and_in_chosen_inks(inky, tmp_path):
    path, record = inky
    m = record["metrics"]
    assert len(m["small_parts_per_ink"]) == 3 and set(m["bits_per_palette"]) == {"sumi", "harbour"}
    for args in ([], ["--palette", "sumi"], ["--inks", "#e4002b,#00a95c,#ffb511",
                                             "--paper", "#ffffff"]):
        out = tmp_path / f"s{len(args)}.png"
        run_cli("render", "--preset", str(path), "--sheet", str(out), "--gap", "0",
                "--glyph-px", "48", *args, check_ok=True)
        from glyphart.presets import load_preset
        from glyphart.render.look import Look
        look = Look.from_preset(load_preset(str(path)), palette=args[1] if args[:1] == [
            "--palette"] else None, inks=args[1] if args[:1] == ["--inks"] else None,
            paper=args[3] if len(args) > 3 else None)
        assert _unmixable(_colours(out), look.paint(load_preset(str(path)))) < 0.002, args


def test_colour_presets_refuse_one_ink(inky, tmp_path):
    assert_one_line_error(run_cli("render", "--preset", str(inky[0]), "--palette", "chalk",
                                  "--sheet", str(tmp_path / "s.png")), "palette 'chalk'")
    assert not (tmp_path / "s.png").exists()


def test_colour_svg_has_one_group_per_ink(inky, tmp_path):
    import xml.etree.ElementTree as ET
    out = tmp_path / "s.svg"
    run_cli("render", "--preset", str(inky[0]), "--seeds", "0-3", "--sheet", str(out),
            check_ok=True)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    groups = ET.parse(out).getroot().findall("svg:g", ns)
    assert [g.get("id") for g in groups] == ["ink-1", "ink-2", "ink-3"]
    assert all(len(g.findall("svg:path", ns)) == 4 for g in groups)
    assert all("multiply" in g.get("style") for g in groups)


def test_gray_presets_take_inks_and_paper(trained_tiny, tmp_path):
    out = tmp_path / "s.png"
    run_cli("render", "--preset", str(trained_tiny), "--sheet", str(out), "--inks", "#c0392b",
            "--paper", "#fdf6e3", "--gap", "0", check_ok=True)
    pixels = _colours(out)
    assert _unmixable(pixels, make_paint(1, "ink", "#c0392b", "#fdf6e3")) < 0.002


def test_palettes_are_listed():
    out = run_cli("palettes", check_ok=True).stdout
    assert all(name in out for name in PALETTES)


def test_the_headline_loop_is_drawn_in_the_palettes_inks_and_their_overprints(tmp_path):
    import imageio.v3 as iio
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.compose import loop_frames
    from glyphart.render.layouts.video import cell_keys
    from glyphart.render.look import Look
    preset = load_preset("hd-color")
    look = Look.from_preset(preset)
    paint = look.paint(preset)
    assert len(paint.inks) == 3 and paint.blend == "multiply"
    # The frames as drawn: every pixel a mix of paper and inks.
    keys = cell_keys(messages(preset, range(3)), 1)
    frames = list(loop_frames(preset.generator, keys, 6, "cubic", 160, look, paint, 1, 0))
    drawn = np.concatenate([f.reshape(-1, 3) for f in frames]).astype(float)
    assert _unmixable(drawn, paint) < 0.001
    # And as the user gets them, from the VP9 file (chroma subsampling blurs colour edges).
    out = tmp_path / "loop.webm"
    run_cli("render", "--preset", "hd-color", "--video", str(out), "--seeds", "0-2",
            "--seconds", "0.5", "--video-px", "160", check_ok=True)
    decoded = np.concatenate([f.reshape(-1, 3) for f in iio.imread(out)]).astype(float)
    assert _unmixable(decoded, paint, tolerance=24.0) < 0.02


RASTER_INKS = TINY.replace('name = "tiny"', 'name = "rasterinks"').replace(
    "message_size = 16", "message_size = 16\nchannels = 3\ninks = 2").replace(
    "[render]", '[render]\npalette = "sumi"\nblend = "over"')


def test_a_raster_colour_preset_draws_ink_layers_too(tmp_path):
    from glyphart.presets import load_preset
    from glyphart.spec import load_spec
    from glyphart.train import train
    path = write_tiny(tmp_path, RASTER_INKS, "rasterinks")
    train(load_spec(path), path, steps=4, quiet=True, eval_messages=1024)
    preset = load_preset(str(path))
    z = torch.randn(2, 16)
    assert preset.generator(z).shape == (2, 2, 16, 16)
    assert preset.picture(z).shape == (2, 3, 16, 16)
    out = tmp_path / "s.png"
    run_cli("render", "--preset", str(path), "--sheet", str(out), "--gap", "0", check_ok=True)
    assert _unmixable(_colours(out), preset.paint()) < 0.002
    svg = tmp_path / "s.svg"
    run_cli("render", "--preset", str(path), "--sheet", str(svg), "--seeds", "0-1", check_ok=True)
    assert svg.read_text().count('<g id="ink-') == 2
