"""The stroke generator: exact fields, gradients to every stroke parameter through every
channel transformation, any-size rendering, and the strokes in the Python API."""

from __future__ import annotations

import pytest
import torch

from glyphart import strokes as S
from glyphart.channel import build_channel
from glyphart.models import build_models
from glyphart.spec import spec_from_dict

from conftest import assert_one_line_error, run_cli, write_tiny
from test_train import ALL_TRANSFORMS

STROKES_MODEL = {"generator": "strokes", "size": 16, "message_size": 8, "widths": [32],
                 "decoder_widths": [8, 8], "strokes": 3, "segments": 2}


def _random_strokes(batch=3, k=3, segments=2, seed=0) -> S.Strokes:
    g = torch.Generator().manual_seed(seed)
    points = torch.rand(batch, k, 3 * segments + 1, 2, generator=g,
                        dtype=torch.float64) * 0.6 + 0.2
    radii = torch.rand(batch, k, segments + 1, generator=g, dtype=torch.float64) * 0.04 + 0.02
    return S.Strokes(points, radii)


def test_the_field_and_its_gradients_match_a_brute_force_rasteriser():
    strokes = _random_strokes()
    strokes.points.requires_grad_()
    strokes.radii.requires_grad_()
    fast = S.stroke_field(strokes, 24, 0.01, reach=10.0)  # reach everything: exact everywhere
    slow = S.reference_field(strokes, 24, 0.01)
    assert torch.allclose(fast, slow, atol=1e-7)
    weights = torch.randn_like(fast)
    g_fast = torch.autograd.grad((fast * weights).sum(), [strokes.points, strokes.radii])
    g_slow = torch.autograd.grad((slow * weights).sum(), [strokes.points, strokes.radii])
    for x, y in zip(g_fast, g_slow):
        assert torch.allclose(x, y, atol=1e-6)


def _degenerate_strokes() -> S.Strokes:
    """Random strokes (float64) with the cases a kernel gets wrong first: a stroke whose
    control points all coincide (pieces of no length), a segment with coincident control
    points, radii at the [model] width bounds, a stroke entirely off the glyph."""
    strokes = _random_strokes(batch=4, k=3, seed=1)
    p, r = strokes.points.clone(), strokes.radii.clone()
    p[0, 0] = p[0, 0, :1]                      # a dot: every piece of no length
    p[1, 1, 1] = p[1, 1, 0]                    # first control point on the joint
    p[1, 1, 4:6] = p[1, 1, 3]                  # a zero-length first half of segment 2
    r[2, 0] = torch.tensor([0.09, 0.17, 0.09]) / 2  # gray's width bounds
    r[2, 1] = torch.tensor([0.005, 0.5, 0.005]) / 2  # the spec's own bounds
    p[3, 2] = p[3, 2] + 1.6                    # off the glyph (down and to the right)
    return S.Strokes(p, r)


@pytest.mark.skipif(not S.uses_kernel(torch.zeros(1, dtype=torch.float64)),
                    reason="no C compiler for the stroke kernel")
@pytest.mark.parametrize("degenerate", [False, True])
def test_the_kernel_matches_the_reference_field_and_gradients(degenerate):
    """float64: the compiled kernel's field and its closed-form gradients against the dense
    reference with autograd, random strokes and the degenerate ones."""
    strokes = _degenerate_strokes() if degenerate else _random_strokes(batch=4, seed=3)
    strokes.points.requires_grad_()
    strokes.radii.requires_grad_()
    fast = S.stroke_field(strokes, 24, 0.01, reach=10.0, path="kernel")
    slow = S.reference_field(strokes, 24, 0.01)
    assert torch.allclose(fast, slow, atol=1e-10)
    weights = torch.randn_like(fast)
    g_fast = torch.autograd.grad((fast * weights).sum(), [strokes.points, strokes.radii])
    g_slow = torch.autograd.grad((slow * weights).sum(), [strokes.points, strokes.radii])
    for x, y in zip(g_fast, g_slow):
        assert torch.isfinite(x).all()
        assert torch.allclose(x, y, atol=1e-9), (x - y).abs().max()


@pytest.mark.skipif(not S.uses_kernel(torch.zeros(1)), reason="no C compiler")
@pytest.mark.parametrize("layers", [1, 3])
def test_kernel_and_torch_rasterisers_agree_where_strokes_reach(layers):
    """The training case: small reach, strokes joined per ink layer or one per layer, a band
    of rows; the kernel and the torch path draw the same field with the same gradients."""
    strokes = _random_strokes(batch=5, k=3, seed=4)
    strokes.points.requires_grad_()
    strokes.radii.requires_grad_()
    fields = {path: S.stroke_field(strokes, 40, 0.01, reach=0.05, layers=layers, path=path)
              for path in ("kernel", "torch")}
    assert torch.allclose(fields["kernel"], fields["torch"], atol=1e-12)
    weights = torch.randn_like(fields["torch"])
    grads = [torch.autograd.grad((f * weights).sum(), [strokes.points, strokes.radii])
             for f in fields.values()]
    for x, y in zip(*grads):
        assert torch.allclose(x, y, atol=1e-9)
    with torch.no_grad():
        band = S.stroke_field(strokes, 40, 0.01, reach=0.05, rows=(9, 31), layers=layers,
                              path="kernel")
    assert torch.equal(band, fields["kernel"].detach()[:, :, 9:31])


@pytest.mark.parametrize("path", ["kernel", "torch"])
def test_under_bf16_autocast_strokes_are_placed_and_differentiated_in_float32(path):
    """Training runs under bf16 autocast where the CPU has it; the strokes' geometry stays in
    float32 there: bf16 keeps 8 bits (a pixel at 256 px), and the torch rasteriser's
    gradients through points so placed were noise (hd-gray trained on them read nothing)."""
    strokes = _random_strokes(batch=4, k=3, seed=7)
    strokes = S.Strokes(strokes.points.float().requires_grad_(), strokes.radii.float(),
                        strokes.taper)
    weights = torch.randn(4, 1, 256, 256)
    grads = []
    for bf16 in (False, True):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            field = S.stroke_field(strokes, 256, 0.002, reach=0.02, path=path)
        grads.append(torch.autograd.grad((field.float() * weights).sum(), strokes.points)[0])
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-6)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # [model] detail's halves, likewise
        halves = S.split_segments(strokes)
    assert halves.points.dtype == torch.float32
    assert torch.equal(halves.points, S.split_segments(strokes).points)


@pytest.mark.skipif(not S.uses_kernel(torch.zeros(1)), reason="no C compiler")
def test_a_render_is_the_same_with_the_kernel_and_the_torch_rasteriser(monkeypatch):
    """A shipped preset's glyphs at their sheet size, as uint8 pixels: the compiled path and
    the fallback differ by at most one level (float32 rounding near a level's edge)."""
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    from glyphart.render.glyphs import exact_images
    from glyphart.render.paint import to_rgb8
    preset = load_preset("brush")
    z = messages(preset, range(6))
    pixels = {}
    for path in ("kernel", "torch"):
        monkeypatch.setattr(S, "rasteriser", path)
        pixels[path] = to_rgb8(exact_images(preset.generator, z, 96)).astype(int)
    assert abs(pixels["kernel"] - pixels["torch"]).max() <= 1


def test_precision_follows_what_the_cpu_computes_natively(monkeypatch):
    """bf16 autocast only where the CPU has bf16 arithmetic; fp32 on an AVX2-only CPU, and
    always with [train] bf16 = false."""
    from glyphart import precision
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "fma"})
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    assert precision.training_precision(True) == "fp32"
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert precision.training_precision(True) == "bf16"
    assert precision.training_precision(False) == "fp32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: set())
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AMX_BF16")
    assert precision.training_precision(True) == "bf16"


def test_cost_goes_only_where_strokes_reach_and_bands_match_the_whole():
    strokes = _random_strokes()
    with torch.no_grad():
        whole = S.stroke_field(strokes, 48, 0.01, reach=0.05)
        exact = S.reference_field(strokes, 48, 0.01)
        band = S.stroke_field(strokes, 48, 0.01, reach=0.05, rows=(7, 30))
    inside = exact > 0
    assert torch.allclose(whole[inside], exact[inside], atol=1e-4)
    clear = exact.abs() > 1e-3
    assert torch.equal(whole[clear] > 0, exact[clear] > 0)  # the same ink, pixel for pixel
    assert torch.equal(band, whole[:, :, 7:30])
    assert (whole[exact < -0.06] < -0.05).all()  # beyond reach: plain paper


def test_split_segments_draw_the_same_curves_and_widths():
    """Every cubic split at its middle (de Casteljau): twice the control points, and the
    centre line sampled 2n a segment before is, point for point, the halves sampled n each."""
    torch.manual_seed(0)
    for segments in (1, 3):
        strokes = S.Strokes(torch.rand(2, 3, 3 * segments + 1, 2, dtype=torch.float64),
                            0.02 + 0.05 * torch.rand(2, 3, segments + 1, dtype=torch.float64),
                            taper=0.3)
        halves = S.split_segments(strokes)
        assert halves.segments == 2 * segments
        whole, split = S.centre_lines(strokes, 12), S.centre_lines(halves, 6)
        for a, b in zip(whole, split):
            assert torch.allclose(a, b, atol=1e-12)


def test_a_stroke_keeps_its_width_at_any_size():
    """One straight stroke of half-width 0.1 across the middle: at 64 and at 640 px the ink
    covers the same share of the glyph (exact, not an enlargement)."""
    points = torch.tensor([[[[0.2, 0.5], [0.4, 0.5], [0.6, 0.5], [0.8, 0.5]]]])
    strokes = S.Strokes(points, torch.full((1, 1, 2), 0.1))
    shares = []
    for size in (64, 640):
        with torch.no_grad():
            field = S.stroke_field(strokes, size, 0.5 / 64, reach=2 / size)
        shares.append(float((field > 0).float().mean()))
    area = 0.6 * 0.2 + 3.14159 * 0.1 ** 2  # capsule: rectangle plus two half discs
    assert shares[0] == pytest.approx(area, abs=0.01)
    assert shares[1] == pytest.approx(area, abs=0.002)


@pytest.mark.parametrize("name", sorted(set(ALL_TRANSFORMS) - {"color_jitter"}))
def test_gradients_reach_every_stroke_parameter_through_each_transformation(name):
    spec = spec_from_dict({"model": STROKES_MODEL, "channel": {name: ALL_TRANSFORMS[name]}})
    torch.manual_seed(0)
    gen, dec = build_models(spec.model)
    channel = build_channel(spec.channel, 16)
    strokes = gen.strokes(torch.randn(4, 8))
    points = strokes.points.detach().requires_grad_()
    radii = strokes.radii.detach().requires_grad_()
    field = S.stroke_field(S.Strokes(points, radii), 16, 0.5 / 16, reach=6 * 0.7 / 16 + 1 / 16)
    image = torch.sigmoid(field / (0.7 / 16))
    dec(channel(image)).square().sum().backward()
    assert (points.grad.abs().sum(-1) > 0).all(), name  # every control point of every stroke
    assert (radii.grad.abs() > 0).all(), name
    assert all(torch.isfinite(t.grad).all() for t in (points, radii))


@pytest.mark.parametrize("inks", [0, 3])
def test_each_strokes_own_field_joins_into_the_glyph(inks):
    """The per-stroke fields that the stroke layout penalty sees make exactly the glyph."""
    model = dict(STROKES_MODEL, strokes=2) | ({"inks": 3, "channels": 3} if inks else {})
    gen, _ = build_models(spec_from_dict({"model": model}).model)
    with torch.no_grad():
        strokes = gen.strokes(torch.randn(4, 8))
        each = gen.logits_of(strokes, each_stroke=True)
        assert each.shape == (4, 2 * (inks or 1), 16, 16)
        assert torch.allclose(gen.join_strokes(each), gen.logits_of(strokes), atol=1e-5)


def test_the_homes_penalty_sees_strokes_keep_a_home_and_drives_them_out():
    """Strokes that each keep a home (the first always on the left, the second always on the
    right) cost much more than the same strokes trading places from glyph to glyph, though
    their union covers the glyph alike; descending the penalty on the control points makes
    them interchangeable."""
    from glyphart.metrics import homes
    gen, _ = build_models(spec_from_dict({"model": dict(STROKES_MODEL, strokes=2)}).model)
    g = torch.Generator().manual_seed(0)
    points = torch.rand(32, 2, 7, 2, generator=g) * 0.2
    points[:, 0, :, 0] += 0.1   # stroke 0 on the left
    points[:, 1, :, 0] += 0.7   # stroke 1 on the right
    points[:, :, :, 1] = torch.rand(32, 2, 7, generator=g)
    radii = torch.full((32, 2, 3), 0.06)

    def cost(p):
        return homes(torch.sigmoid(gen.logits_of(S.Strokes(p, radii), each_stroke=True))).mean()

    start = float(cost(points))
    swapped = points.clone()
    swapped[::2] = swapped[::2].flip(1)  # every other glyph swaps its strokes' places
    assert start > 0.8 and float(cost(swapped)) < 0.25 * start
    points.requires_grad_()
    opt = torch.optim.Adam([points], lr=0.02)
    for _ in range(30):
        opt.zero_grad()
        cost(points).backward()
        opt.step()
    assert float(cost(points.detach())) < 0.5 * start


def test_stroke_penalties_on_a_raster_generator_are_refused():
    from glyphart.errors import GlyphartError
    for name in ("homes", "spread"):
        with pytest.raises(GlyphartError, match=f"{name} acts on strokes"):
            spec_from_dict({"train": {name: 0.5}})


def test_the_generator_learns_end_to_end(tmp_path):
    from conftest import TINY
    from glyphart.spec import load_spec
    from glyphart.train import train
    toml = TINY.replace("[model]", "[model]\ngenerator = \"strokes\"\nstrokes = 3\nsegments = 2")
    toml = toml.replace("widths = [32, 16, 8]", "widths = [64]").replace("steps = 40",
                                                                         "steps = 200")
    toml = toml.replace("[train]", "[train]\nhomes = 0.3")
    path = write_tiny(tmp_path, toml)
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    assert record["loss_final"] < record["loss_first"]
    assert record["metrics"]["bits_per_glyph"] > 1.0
    assert set(record["metrics"]) >= {"parts", "small_parts", "shared_layout", "distinctness"}
    assert len(record["metrics"]["stroke_homes"]) == 3
    from glyphart.presets import load_preset
    preset = load_preset(path)
    strokes = preset.strokes("0-4")
    assert strokes.points.shape == (5, 3, 7, 2) and strokes.radii.shape == (5, 3, 3)
    assert strokes.points.min() >= 0 and strokes.points.max() <= 1
    big = tmp_path / "sheet.png"
    run_cli("render", "--preset", str(path), "--seeds", "0-3", "--glyph-px", "200", "--sheet",
            str(big), check_ok=True)
    assert_one_line_error(run_cli("render", "--preset", str(path), "--style", "smooth"),
                          "--style")
