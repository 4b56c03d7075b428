"""The metrics measure what DESIGN.md says they measure."""

from __future__ import annotations

import math

import pytest
import torch

from glyphart.metrics import (bits_from_correlation, high_frequency_fraction,
                              identification_accuracy)


def test_bits_match_the_gaussian_channel_formula():
    torch.manual_seed(0)
    sent = torch.randn(200_000, 4)
    noise_std = torch.tensor([0.0001, 0.5, 1.0, 3.0])
    read = sent + torch.randn_like(sent) * noise_std
    expected = sum(0.5 * math.log2(1 + 1 / float(s) ** 2) for s in noise_std[1:])
    got = bits_from_correlation(sent[:, 1:], read[:, 1:])
    assert abs(got - expected) < 0.02, (got, expected)
    assert bits_from_correlation(sent, read) > 14  # near-perfect dimension: ~13 bits alone
    assert bits_from_correlation(sent, torch.randn_like(sent)) < 0.01


def test_identification_accuracy():
    torch.manual_seed(0)
    sent = torch.randn(2048, 32)
    assert identification_accuracy(sent, sent + 0.01 * torch.randn_like(sent)) == 1.0
    assert identification_accuracy(sent, torch.randn_like(sent)) < 0.01


def test_high_frequency_fraction_separates_checkerboard_from_blobs():
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    blob = ((x - 30) ** 2 + (y - 34) ** 2 < 300).float()
    checker = ((x + y) % 2).float()
    smooth = torch.sigmoid(torch.nn.functional.avg_pool2d(blob[None, None], 5, 1, 2) * 8 - 4)
    assert high_frequency_fraction(smooth) < 0.02
    assert high_frequency_fraction(checker[None, None]) > 0.99
    assert high_frequency_fraction(torch.zeros(2, 1, 8, 8)) == 0.0


def _disc(size, cx, cy, r):
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return ((xs - cx) ** 2 + (ys - cy) ** 2 <= r * r).float()


def test_look_counts_parts_and_small_parts_and_ignores_specks():
    from glyphart.metrics import look_measures
    glyph = _disc(64, 16, 16, 8) + _disc(64, 46, 46, 8) + _disc(64, 46, 12, 3)  # 2 big, 1 small
    glyph[60, 2] = 1.0  # a speck: under 0.3 % of the cell
    look = look_measures(glyph.clamp(0, 1).expand(4, 1, 64, 64))
    assert look["parts"] == 3
    assert look["small_parts"] == pytest.approx(1 / 3, abs=1e-3)


def test_look_tells_a_shared_lattice_from_varied_glyphs():
    from glyphart.metrics import look_measures
    g = torch.Generator().manual_seed(0)
    lattice = torch.zeros(64, 64)
    lattice[4::8, 4::8] = 1
    lattice = torch.nn.functional.max_pool2d(lattice[None], 5, 1, 2)[0]
    shared = look_measures(lattice.expand(64, 1, 64, 64))
    assert shared["shared_layout"] > 1.0 and shared["distinctness"] == 0
    varied = torch.stack([_disc(64, *torch.randint(12, 52, (2,), generator=g).tolist(), 10)
                          for _ in range(64)])[:, None]
    look = look_measures(varied)
    assert look["shared_layout"] < shared["shared_layout"] and look["distinctness"] > 0.8
    noise = (torch.rand(64, 1, 64, 64, generator=g) > 0.7).float()
    assert look_measures(noise)["distinctness"] == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("size", [37, 64, 256])
def test_the_coarse_blur_is_kornias_gaussian_blur_with_a_constant_border(size):
    """blurred_ink blurs by two matrix products (fast, backward included); the composition
    it measures is the one kornia's 2-D Gaussian blur gives, edges included."""
    from kornia.filters import gaussian_blur2d

    from glyphart.metrics import COARSE, blur_matrix
    ink = torch.rand(4, size, size, dtype=torch.float64)
    sigma = COARSE * size
    k = 2 * round(3 * sigma) + 1
    expected = gaussian_blur2d(ink[:, None], (k, k), (sigma, sigma), border_type="constant")
    g = blur_matrix(size, sigma, torch.float64, "cpu")
    assert torch.allclose(g @ ink @ g.T, expected[:, 0], atol=1e-12)
