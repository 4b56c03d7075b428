"""The control of every study: the same networks with random weights.

An untrained network's BatchNorm statistics are placeholders (mean 0, variance 1), which
makes a random generator paint flat grey and a random decoder answer almost nothing. Each
random network is therefore calibrated on what it sees (random messages, or the study's
images) so the comparison is against random *weights*, not against broken normalisation."""

from __future__ import annotations

import torch
from torch import nn

from ..models import build_models


@torch.no_grad()
def calibrate(net: nn.Module, inputs: torch.Tensor, batch: int = 256) -> nn.Module:
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    net.train()
    for part in inputs.split(batch):
        net(part)
    return net.eval()


def random_generator(spec, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    gen = build_models(spec)[0]
    return calibrate(gen, torch.randn(1024, spec.message_size))


def random_decoder(spec, seed: int, images: torch.Tensor) -> nn.Module:
    torch.manual_seed(seed)
    dec = build_models(spec)[1]
    return calibrate(dec, images)
