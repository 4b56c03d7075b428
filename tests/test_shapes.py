"""The shapes generator: bold shapes as the level set of a band-limited field, any size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import TINY, run_cli, write_tiny

# A tiny shapes preset: a field of 8 cells a side drawn at 32 px, read back by a small decoder.
TINY_SHAPES = TINY.replace("[model]", "[model]\ngenerator = \"shapes\"").replace(
    "size = 16", "size = 32").replace("widths = [32, 16, 8]", "widths = [32, 16]").replace(
    "[channel.noise]", "[model.shapes]\ngrid = 8\n\n[channel.noise]").replace(
    "steps = 40", "steps = 30\nsharpen = 0.5")


@pytest.fixture(scope="module")
def trained_shapes(tmp_path_factory):
    from glyphart.spec import load_spec
    from glyphart.train import train
    path = write_tiny(tmp_path_factory.mktemp("shapes"), TINY_SHAPES, "tiny-shapes")
    train(load_spec(path), path, quiet=True, eval_messages=1024)
    return path


def test_gradients_reach_every_parameter_through_the_channel():
    from glyphart.channel import build_channel
    from glyphart.models import build_models
    from glyphart.spec import spec_from_dict
    import tomllib
    spec = spec_from_dict(tomllib.loads(TINY_SHAPES.replace("[model.shapes]\ngrid = 8",
                                                            "[model.shapes]\ngrid = 8\n"
                                                            "detail = true")))
    gen, dec = build_models(spec.model)
    torch.nn.init.normal_(gen.field_net.heads[-1].weight, 0, 0.01)  # detail: started
    channel = build_channel(spec.channel, spec.model.size)
    z = torch.randn(8, spec.model.message_size)
    dec(channel(gen(z))).pow(2).mean().backward()
    missing = [n for n, p in gen.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing


def test_a_trained_shapes_preset_draws_the_same_glyph_at_two_sizes(trained_shapes):
    from glyphart.presets import load_preset
    from glyphart.render.glyphs import render_glyphs
    preset = load_preset(str(trained_shapes))
    z = torch.randn(4, preset.spec.model.message_size, generator=torch.Generator().manual_seed(3))
    small = render_glyphs(preset.generator, z, 96) > 0.5
    large = render_glyphs(preset.generator, z, 384) > 0.5
    scaled = torch.nn.functional.avg_pool2d(large.float(), 4) > 0.5
    inter, union = (small & scaled).sum(), (small | scaled).sum()
    assert union > 0 and inter / union >= 0.95
    # Crisp at any size: the edge is about a pixel at every size.
    from glyphart.boldness import grey_per_edge
    assert grey_per_edge(render_glyphs(preset.generator, z, 384)) <= 2.0


def test_the_band_limit_holds_against_white_noise_enlarged_the_same_way(trained_shapes):
    """The field's share of spectral energy above its grid's Nyquist frequency is no more than
    the same B-spline enlargement gives white noise on that grid (measured here: white noise
    REFERENCE below, at 8 cells drawn at 128 px; a smooth trained field less)."""
    from glyphart.kinds.shapes import PAD, basis
    from glyphart.presets import load_preset
    preset = load_preset(str(trained_shapes))
    gen, size, grid = preset.generator, 128, preset.spec.model.shapes.grid

    window = torch.hann_window(size, periodic=False)
    window = window[:, None] * window[None, :]  # no wrap-around edge for the FFT to see

    def above_nyquist(field):
        field = (field - field.mean((-2, -1), keepdim=True)) * window
        power = torch.fft.rfft2(field).abs() ** 2
        fy = torch.fft.fftfreq(size).abs().view(-1, 1) * size
        fx = torch.fft.rfftfreq(size).view(1, -1) * size
        high = torch.maximum(fy, fx) > grid / 2  # cycles per glyph side
        return float((power * high).sum() / power.sum())

    with torch.no_grad():
        z = torch.randn(32, preset.spec.model.message_size)
        trained = above_nyquist(gen.field(z, size))
        b = basis(grid, size)
        noise = torch.randn(32, 1, grid + 2 * PAD, grid + 2 * PAD)
        reference = above_nyquist(b @ noise @ b.T)
    assert 0 < reference < 0.1
    assert trained <= reference, (trained, reference)


def test_a_pdf_poster_of_shapes_matches_its_png_within_a_pixel(trained_shapes, tmp_path):
    import pypdfium2
    from PIL import Image
    from scipy import ndimage
    args = ["render", "--preset", str(trained_shapes), "--seeds", "0-5", "--size", "a5",
            "--dpi", "80"]
    run_cli(*args, "--poster", str(tmp_path / "p.pdf"), check_ok=True)
    run_cli(*args, "--poster", str(tmp_path / "p.png"), check_ok=True)
    pdf = pypdfium2.PdfDocument(tmp_path / "p.pdf")
    vector = np.asarray(pdf[0].render(scale=80 / 72).to_pil().convert("L"), float)
    pdf.close()
    with Image.open(tmp_path / "p.png") as im:
        raster = np.asarray(im.convert("L"), float)
    vector = vector[:raster.shape[0], :raster.shape[1]]
    paper = raster[0, 0]
    ink_v, ink_r = (np.abs(a - paper) > 128 for a in (vector, raster))
    assert ink_r.sum() > 100
    # Within a pixel's width of an edge of either picture (a cell's cut edge may round
    # to the next pixel row in the PDF renderer).
    edge = (ink_r ^ ndimage.binary_erosion(ink_r)) | (ink_v ^ ndimage.binary_erosion(ink_v))
    near_edge = ndimage.binary_dilation(edge, iterations=1)
    assert not ((ink_v ^ ink_r) & ~near_edge).any()


def test_shapes_fields_are_refused_where_they_do_not_fit(tmp_path):
    from glyphart.errors import GlyphartError
    from glyphart.spec import load_spec
    wrong = TINY_SHAPES.replace("grid = 8", "grid = 2")
    with pytest.raises(GlyphartError, match="grid"):
        load_spec(write_tiny(tmp_path, wrong, "w"))
    stray = TINY.replace("[channel.noise]", "[model.shapes]\ngrid = 8\n\n[channel.noise]")
    with pytest.raises(GlyphartError, match=r"\[model.shapes\]"):
        load_spec(write_tiny(tmp_path, stray, "s"))


def test_boldness_tells_rings_corner_marks_and_thickness():
    from glyphart.boldness import boldness, grey_per_edge
    glyphs = torch.zeros(4, 1, 64, 64)
    glyphs[0, :, 4:60, 4:60] = 1
    glyphs[0, :, 12:52, 12:52] = 0                      # a frame: a ring round the middle
    for r, c in ((2, 2), (2, 54), (54, 2), (54, 54)):
        glyphs[1, :, r:r + 8, c:c + 8] = 1               # a mark in each corner
    glyphs[2, :, 8:56, 26:38] = 1                       # a bar 12 x 48 px
    glyphs[3, :, 0:64, 0:20] = 1                        # a shape cut by the edge: no mark
    figures = boldness(glyphs)
    assert figures["rings"] == 1 and figures["corner_marks"] == 1
    # 2 x area / skeleton length, the skeleton a width shorter than the bar
    assert boldness(glyphs[2:3])["thickness"] == pytest.approx(2 * 12 * 48 / 36 / 64, rel=0.1)
    assert boldness(glyphs[3:4])["margin_ratio"] > 1  # ink leans on the frame
    hard = glyphs[2:3].repeat(1, 1, 16, 16)             # 1024 px, edges without grey
    assert grey_per_edge(hard) == 0
    soft = torch.nn.functional.avg_pool2d(hard, 9, 1, 4)  # a 9-px blur: many grey a pixel
    assert grey_per_edge(soft) > 4


def test_the_studio_draws_a_shapes_glyph_exactly_at_its_view_size(trained_shapes, tmp_path):
    """The large view asks the generator for its own pixels at 1024 px (band by band on the
    worker's threads), not an enlargement of the native 32 px: edges a pixel wide."""
    import io
    import os
    import shutil
    from pathlib import Path

    from PIL import Image
    from starlette.testclient import TestClient

    from glyphart.boldness import grey_per_edge
    from glyphart.explore.app import create_app
    user = Path(os.environ["GLYPHART_PRESETS"])
    for suffix in (".toml", ".safetensors", ".json"):
        shutil.copy(trained_shapes.with_suffix(suffix), user)
    port = 8765
    with TestClient(create_app(tmp_path, port=port), base_url=f"http://127.0.0.1:{port}") as c:
        r = c.get("/api/frame?preset=tiny-shapes&keys=3&t=0&size=1024")
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.size == (1024, 1024)
        luminance = np.asarray(im.convert("L"), np.float32) / 255
    coverage = torch.from_numpy(np.abs(luminance - luminance[0, 0]))[None, None]
    assert 0.05 < float((coverage > 0.5).float().mean()) < 0.95
    assert grey_per_edge(coverage) <= 2.0


def test_the_margin_penalty_acts_only_on_ink_leaning_on_the_frame():
    from glyphart.train.penalties import margin_excess
    centred, framed, spread = torch.zeros(3, 1, 64, 64, requires_grad=False).unbind(0)
    centred[:, 20:44, 20:44] = 1
    framed[:, :, :8] = 1
    spread[:] = 0.4
    assert margin_excess(centred[None]) == 0 and margin_excess(spread[None]) == 0
    assert margin_excess(framed[None]) > 0.2


@pytest.mark.parametrize("size", [64, 256])
def test_the_opening_penalty_takes_crumbs_and_leaves_bold_parts_at_any_size(size):
    """A round dot of 1.5 % of the cell (eval counts parts under 2 % as small) and a hairline
    give their ink back, while a bold blob, a hole carved in it and a bold band running off
    the cell cost nothing; the same at 64 and 256 px (the square is a share of the cell), and
    the gradient reaches the dot itself."""
    from glyphart.train.penalties import opening_loss
    s = size // 64
    bold = torch.zeros(1, 1, size, size)
    bold[..., 8 * s:40 * s, 8 * s:40 * s] = 1  # a blob with a hole
    bold[..., 20 * s:26 * s, 20 * s:26 * s] = 0
    bold[..., 48 * s:60 * s, :] = 1  # a band running off the cell
    assert float(opening_loss(bold)) == 0
    y, x = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    dot = ((y - 8 * s) ** 2 + (x - 52 * s) ** 2 < (0.015 * size * size) / torch.pi).float()
    crumbs = torch.maximum(bold, dot)
    crumbs[..., 42 * s:44 * s, 4 * s:30 * s] = 1  # a hairline
    crumbs.requires_grad_(True)
    loss = opening_loss(crumbs)
    assert float(loss.detach()) * size * size >= 0.95 * (float(dot.sum()) + 2 * s * 26 * s)
    loss.backward()
    assert float(crumbs.grad[..., 8 * s, 52 * s]) > 0


def test_the_opening_takes_each_squares_max_as_a_row_then_a_column():
    """The separable max is the square window's max: the same values, and on grey images the
    same gradient; on saturated ones, where windows tie, each window's gradient still goes
    whole to one of its maxima."""
    from torch import nn

    from glyphart.train.penalties import square_max
    torch.manual_seed(0)
    grey, saturated = torch.rand(3, 2, 40, 40), torch.sigmoid(20 * torch.randn(3, 2, 40, 40))
    assert not (grey == 1).any() and (saturated == 1).float().mean() > 0.1
    for images, ties in ((grey, False), (saturated, True)):
        for k, padding in ((7, 0), (7, 3), (5, 2)):
            a, b = images.clone().requires_grad_(), images.clone().requires_grad_()
            square = nn.functional.max_pool2d(a, k, stride=1, padding=padding)
            separable = square_max(b, k, padding)
            assert torch.equal(square, separable)
            weights = torch.rand_like(square)
            (square * weights).sum().backward()
            (separable * weights).sum().backward()
            if not ties:
                assert torch.allclose(a.grad, b.grad)
            assert torch.allclose(a.grad.sum((2, 3)), b.grad.sum((2, 3)))
