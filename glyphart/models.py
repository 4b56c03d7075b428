"""Generator (message -> image) and decoder (image -> message), built from a ModelSpec.

The generator exposes `logits(z)`, the smooth field before the sigmoid: rendering enlarges
that field and sharpens it, so glyphs stay crisp at any size (like signed-distance-field text).
"""

from __future__ import annotations

import torch
from torch import nn

from .spec import ModelSpec


def _activation(name: str) -> nn.Module:
    return {"leaky_relu": lambda: nn.LeakyReLU(0.2), "relu": nn.ReLU,
            "silu": nn.SiLU, "gelu": nn.GELU}[name]()


def _norm(kind: str, width: int) -> nn.Module:
    return nn.BatchNorm2d(width) if kind == "batch" else nn.Identity()


class Generator(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        w0, s0 = spec.widths[0], spec.start_size
        self.project = nn.Linear(spec.message_size, w0 * s0 * s0)
        self.start = nn.Sequential(_norm(spec.norm, w0), _activation(spec.activation))
        bias = spec.norm == "none"
        k = spec.kernel

        def conv(w_in: int, w_out: int, use_bias: bool = bias) -> nn.Conv2d:
            return nn.Conv2d(w_in, w_out, k, padding=k // 2, bias=use_bias,
                             padding_mode=spec.padding)

        stages = []
        for w_in, w_out in zip(spec.widths[:-1], spec.widths[1:]):
            layers: list[nn.Module] = []
            if spec.generator == "convtranspose":
                # The source's layer: stride-2 transposed conv, whose uneven kernel overlap is
                # the checkerboard the source's figures show.
                layers += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=bias)]
            else:
                # Resize-convolution: every output pixel sees the same kernel footprint.
                layers += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                           conv(w_in, w_out)]
            layers += [_norm(spec.norm, w_out), _activation(spec.activation)]
            for _ in range(spec.convs_per_stage - 1):
                layers += [conv(w_out, w_out),
                           _norm(spec.norm, w_out), _activation(spec.activation)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.to_image = conv(spec.widths[-1], spec.channels, use_bias=True)
        self.register_buffer("edge", _edge_field(spec.size, spec.edge_margin), persistent=False)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        s = self.spec
        x = self.project(z).view(z.shape[0], s.widths[0], s.start_size, s.start_size)
        logits = self.to_image(self.stages(self.start(x)))
        return logits if self.spec.edge_margin == 0 else logits - self.edge

    def forward(self, z: torch.Tensor, logit_noise: float = 0.0) -> torch.Tensor:
        """Images in [0, 1], shape (B, channels, size, size)."""
        logits = self.logits(z)
        if logit_noise > 0:
            logits = logits + logit_noise * torch.randn_like(logits)
        return torch.sigmoid(logits)


def _edge_field(size: int, margin: float, depth: float = 16.0) -> torch.Tensor:
    """A logit offset that is 0 inside and rises smoothly to `depth` on the border pixels:
    whatever the network draws there fades to background (sigmoid(-16) is black)."""
    if margin == 0:
        return torch.zeros(1)
    centre = (torch.arange(size) + 0.5) / size
    distance = torch.minimum(centre, 1 - centre)            # to the nearest edge, 0..0.5
    edge = 0.5 / size                                        # distance of the border pixels
    t = ((margin - distance) / max(margin - edge, 1e-6)).clamp(0, 1)
    ramp = t * t * (3 - 2 * t)                               # smoothstep: no crease inside
    return depth * torch.maximum(ramp[:, None], ramp[None, :])


class Decoder(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        # Averaging first keeps a high-resolution decoder cheap; training runs the channel on
        # the pooled image (harsher: noise is not averaged away), see train.py.
        p = spec.decoder_pool
        self.pool = nn.AvgPool2d(p) if p > 1 else nn.Identity()
        self.input_size = spec.size // p
        layers: list[nn.Module] = []
        w_in = spec.channels
        for w in spec.decoder_widths:
            layers += [nn.Conv2d(w_in, w, 3, stride=2, padding=1, bias=spec.norm == "none"),
                       _norm(spec.norm, w), _activation(spec.activation)]
            w_in = w
        self.features = nn.Sequential(*layers)
        side = self.input_size
        for _ in spec.decoder_widths:  # k3, stride 2, padding 1: ceil(side / 2)
            side = (side + 1) // 2
        self.readout = nn.Linear(w_in * side * side, spec.message_size)

    def read(self, x: torch.Tensor) -> torch.Tensor:
        """Decode an image already at the pooled resolution."""
        # Centre around zero: the images live in [0, 1] plus channel noise.
        return self.readout(self.features(x - 0.5).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.read(self.pool(x))


def build_models(spec: ModelSpec) -> tuple[Generator, Decoder]:
    return Generator(spec), Decoder(spec)


def flops_per_image(module: nn.Module, example: torch.Tensor) -> int:
    """Multiply-adds x 2 of convs and linears for one forward pass (for benchmarks)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            spatial = (out if isinstance(mod, nn.Conv2d) else inp[0]).shape[-2:].numel()
            total += 2 * k * mod.out_channels * spatial
        elif isinstance(mod, nn.Linear):
            total += 2 * mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    with torch.no_grad():
        module(example[:1])
    for h in handles:
        h.remove()
    return total
