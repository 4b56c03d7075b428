"""The differentiable noisy channel between generator and decoder (kornia).

Order: colour jitter, blur, multiplicative noise, additive noise, affine, perspective, warp, crop.
Noise comes before the warps, as in the source: warped noise is smooth noise, and that is what
pushes generators toward smooth, high-contrast shapes.
"""

from __future__ import annotations

from dataclasses import replace

import kornia.augmentation as K
import torch
from torch import nn

from .spec import AffineSpec, ChannelSpec, NoiseSpec, PerspectiveSpec


class GaussianNoise(nn.Module):
    def __init__(self, std: float, p: float = 1.0, multiplicative: bool = False):
        super().__init__()
        self.std, self.p, self.multiplicative = std, p, multiplicative

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        noise = torch.randn_like(x) * self.std
        if self.p < 1.0:
            noise = noise * (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < self.p)
        return x * (1 + noise) if self.multiplicative else x + noise

    def extra_repr(self) -> str:
        return f"std={self.std}, p={self.p}, multiplicative={self.multiplicative}"


class _WarpTheChosen:
    """Warps only the images this call chose (p < 1). kornia 0.9 warps the whole batch, then
    keeps the warped image where chosen and the input elsewhere: the same images, with the
    sampling and its backward for about half the batch."""

    def apply_transform(self, input, params, flags, transform=None):
        chosen = params["batch_prob"] > 0.5
        if len(chosen) != len(input) or bool(chosen.all()):  # older kornia: a subset already
            return super().apply_transform(input, params, flags, transform=transform)
        rows = chosen.nonzero().flatten().to(input.device)
        if len(rows) == 0:
            return input
        warped = super().apply_transform(input[rows], params, flags, transform=transform[rows])
        return input.index_copy(0, rows, warped.to(input.dtype))


class RandomAffine(_WarpTheChosen, K.RandomAffine):
    pass


class RandomPerspective(_WarpTheChosen, K.RandomPerspective):
    pass


# The transformations that move pixels by a homography, whose matrices kornia keeps.
_HOMOGRAPHIES = (K.RandomAffine, K.RandomPerspective, K.RandomResizedCrop)


class Channel(nn.Sequential):
    """Random at every call, in training and eval mode alike (it *is* the noise)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._batch, self._size = x.shape[0], x.shape[-1]
        # kornia's warps run in float32; autocast would otherwise feed them bf16.
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x.float())

    def moved_corners(self) -> torch.Tensor:
        """(B, 4, 2): where the last call moved the image frame's corners, in normalised
        coordinates (models.CORNERS order). The thin-plate warp is not a homography and is
        left out: it only bends the inside."""
        from .models import CORNERS
        n = self._size
        pixels = torch.tensor([[(n - 1) / 2, 0, (n - 1) / 2], [0, (n - 1) / 2, (n - 1) / 2],
                               [0, 0, 1.0]])               # normalised -> pixel (align_corners)
        m = torch.eye(3).expand(self._batch, 3, 3)
        for module in self:
            if isinstance(module, _HOMOGRAPHIES):
                m = module.transform_matrix.float().cpu() @ m
        m = torch.linalg.inv(pixels) @ m @ pixels
        frame = torch.tensor([[x, y, 1.0] for x, y in CORNERS])
        moved = frame @ m.transpose(-1, -2)
        return moved[..., :2] / moved[..., 2:]


def build_channel(spec: ChannelSpec, size: int) -> Channel:
    layers: list[nn.Module] = []
    if (c := spec.color_jitter) is not None:
        layers.append(K.ColorJitter(c.brightness, c.contrast, c.saturation, c.hue, p=c.p))
    if (b := spec.blur) is not None:
        k = 2 * int(3 * b.sigma[1]) + 1
        layers.append(K.RandomGaussianBlur((k, k), tuple(b.sigma), p=b.p))
    if (m := spec.multiplicative) is not None:
        layers.append(GaussianNoise(m.std, m.p, multiplicative=True))
    if (n := spec.noise) is not None:
        layers.append(GaussianNoise(n.std, n.p))
    if (a := spec.affine) is not None:
        layers.append(RandomAffine(degrees=a.degrees, translate=[a.translate, a.translate],
                                   scale=list(a.scale), shear=[-a.shear, a.shear], p=a.p))
    if (s := spec.perspective) is not None:
        layers.append(RandomPerspective(s.distortion, p=s.p))
    if (w := spec.warp) is not None:
        layers.append(K.RandomThinPlateSpline(scale=w.scale, p=w.p))
    if (c := spec.crop) is not None:
        layers.append(K.RandomResizedCrop((size, size), scale=tuple(c.scale),
                                          ratio=tuple(c.ratio), p=c.p))
    return Channel(*layers)


def pooled_spec(spec: ChannelSpec, pool: int) -> ChannelSpec:
    """The channel as it acts on a view averaged over pool x pool pixels ([train]
    reader_until): per-pixel noise averages down by the pool (the mean of pool^2 independent
    numbers), a blur shrinks with the pixels; colour acts per pixel alike, and warps and crops
    move fractions of the image."""
    noise, gain, blur = spec.noise, spec.multiplicative, spec.blur
    return replace(
        spec,
        noise=noise and replace(noise, std=noise.std / pool),
        multiplicative=gain and replace(gain, std=gain.std / pool),
        blur=blur and replace(blur, sigma=[s / pool for s in blur.sigma]))


# DESIGN.md's reference channel: exactly the source's snippet, `noise(imgs + randn/4)` with
# RandomAffine(30, [0.1, 0.1], [0.9, 1.1], [-10, 10]) at kornia's default p = 0.5 and
# RandomPerspective(0.6, p=0.5). Every preset is measured through it.
REFERENCE_CHANNEL = ChannelSpec(
    noise=NoiseSpec(std=0.25, p=1.0),
    affine=AffineSpec(degrees=30.0, translate=0.1, scale=[0.9, 1.1], shear=10.0, p=0.5),
    perspective=PerspectiveSpec(distortion=0.6, p=0.5),
)


def reference_channel(size: int) -> Channel:
    return build_channel(REFERENCE_CHANNEL, size)
