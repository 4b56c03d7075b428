"""Strokes placed by the message ([model] place = "message"): each stroke's centre is two numbers
of the message, so every stroke lands anywhere in the glyph with equal chance and none keeps a
home, while the network shapes it from the whole message."""

from __future__ import annotations

import pytest
import torch

from glyphart.channel import build_channel
from glyphart.errors import GlyphartError
from glyphart.models import build_models
from glyphart.sets import stroke_centres
from glyphart.spec import spec_from_dict

from conftest import tiny_four_strokes, write_tiny
from test_train import ALL_TRANSFORMS

PLACED_MODEL = {"generator": "strokes", "place": "message", "size": 16, "message_size": 12,
                "widths": [32], "decoder_widths": [8, 8], "strokes": 3, "segments": 2}


@pytest.mark.parametrize("inks", [0, 3])
def test_every_stroke_lands_anywhere_with_equal_chance(inks):
    """Each stroke's centre is uniform over the glyph whatever the weights: no stroke has a
    place of its own, in every ink."""
    model = PLACED_MODEL | ({"inks": 3, "channels": 3, "message_size": 24} if inks else {})
    spec = spec_from_dict({"model": model}).model
    torch.manual_seed(0)
    gen, _ = build_models(spec)
    z = torch.randn(20000, spec.message_size)
    with torch.no_grad():
        strokes = gen.strokes(z)
        placed = torch.sigmoid(1.702 * z[:, :2 * strokes.points.shape[1]]).view(len(z), -1, 2)
    inset = spec.inset
    centres = (strokes.points - inset) / (1 - 2 * inset)
    assert strokes.points.shape[1] == spec.strokes * (inks or 1)
    # the stroke's control points lie around the place its two message numbers give...
    assert (centres.mean(2) - placed).abs().mean() < 0.2
    # ...and those places fill the glyph evenly, the same for every stroke
    for k in range(placed.shape[1]):
        counts = torch.histogramdd(placed[:, k], bins=[4, 4], range=[0, 1, 0, 1]).hist
        assert counts.min() > 0.8 * len(z) / 16 and counts.max() < 1.2 * len(z) / 16


def test_moving_a_strokes_numbers_moves_that_stroke():
    spec = spec_from_dict({"model": PLACED_MODEL}).model
    gen, _ = build_models(spec)
    gen.eval()
    z = torch.zeros(1, 12)
    far = z.clone()
    far[0, 2:4] = torch.tensor([2.0, -2.0])  # stroke 1 to the right, top
    with torch.no_grad():
        before, after = stroke_centres(gen.strokes(z).points), stroke_centres(
            gen.strokes(far).points)
    assert after[0, 1, 0] > before[0, 1, 0] + 0.2 and after[0, 1, 1] < before[0, 1, 1] - 0.2


@pytest.mark.parametrize("name", sorted(set(ALL_TRANSFORMS) - {"color_jitter"}))
def test_gradients_reach_every_parameter_through_each_transformation(name):
    spec = spec_from_dict({"model": PLACED_MODEL, "channel": {name: ALL_TRANSFORMS[name]}})
    torch.manual_seed(0)
    gen, dec = build_models(spec.model)
    channel = build_channel(spec.channel, 16)
    z = torch.randn(8, 12)
    (dec(channel(gen(z))) - z).square().sum().backward()
    for key, p in list(gen.named_parameters()) + list(dec.named_parameters()):
        if key.startswith("registration"):
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, (name, key)
        assert torch.isfinite(p.grad).all(), (name, key)


def test_a_placed_preset_trains_saves_loads_and_draws_exactly_at_two_sizes(tmp_path):
    from glyphart.metrics import stroke_homes
    from glyphart.presets import load_preset
    from glyphart.spec import load_spec
    from glyphart.train import train
    path = write_tiny(tmp_path, tiny_four_strokes('place = "message"', steps=60))
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    assert record["loss_final"] < record["loss_first"]
    assert len(record["metrics"]["stroke_homes"]) == 4
    preset = load_preset(path)
    assert max(stroke_homes(preset.generator, torch.randn(2048, 16))) < 0.6  # the floor
    z = torch.randn(3, 16)
    with torch.no_grad():
        fields = [preset.generator.logits(z, size) for size in (40, 160)]
        again = preset.generator.logits(z, 40)
    assert [f.shape[-1] for f in fields] == [40, 160]
    assert torch.equal(fields[0], again)  # the same message draws the same glyph
    small, large = ((f > 0).float().mean() for f in fields)
    assert float(abs(small - large)) < 0.03


@pytest.mark.parametrize("model, needle", [
    ({"exchangeable": True}, "choose one"),
    ({"message_size": 5}, "at least 6"),
    ({"generator": "resize", "strokes": 4, "size": 16}, "act on strokes"),
])
def test_a_placement_that_cannot_work_is_refused(model, needle):
    with pytest.raises(GlyphartError, match=needle):
        spec_from_dict({"model": PLACED_MODEL | model})
