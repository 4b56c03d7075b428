"""The metrics measure what DESIGN.md says they measure."""

from __future__ import annotations

import math

import torch

from glyphart.metrics import bits_from_correlation, high_frequency_fraction, identification_accuracy


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
