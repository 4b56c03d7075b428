"""Bold shapes: a glyph is the filled level set of a smooth, band-limited field.

The message becomes a coarse field (`grid` cells a side) through a small MLP; a
cubic B-spline carries those coefficients to any output size, so no feature is finer than the
grid allows (the band limit that keeps lattices of dots out) and the topology (parts, holes,
branches) is free to vary glyph by glyph. Ink is a sigmoid of the field's signed distance
(field / |gradient|, as distance-field text renders) over `softness` pixels at the native size
and about one output pixel at any other: edges are exact and anti-aliased at every size.

With `detail`, a second field on a grid twice as fine is added, drawn by one more stage and a
head that starts at zero: an hd preset grows from its parent with every tensor copied and the
parent's glyphs on step one, then learns detail its parent's grid cannot hold.
"""

from __future__ import annotations

import torch
from torch import nn

PAD = 2            # coefficients beyond the grid on each side: the cubic's reach
MIN_SLOPE = 0.25   # |gradient| floor (field units per glyph side) where the field is flat


def bspline(t: torch.Tensor, derivative: bool = False) -> torch.Tensor:
    """The uniform cubic B-spline (support -2..2) or its derivative at t."""
    a = t.abs()
    if derivative:
        inner = t.sign() * (1.5 * a * a - 2 * a)
        outer = -t.sign() * 0.5 * (2 - a).clamp(min=0) ** 2
    else:
        inner = 2 / 3 - a * a + 0.5 * a ** 3
        outer = (2 - a).clamp(min=0) ** 3 / 6
    return torch.where(a < 1, inner, outer)


def basis(grid: int, size: int, first: int = 0, end: int | None = None,
          derivative: bool = False) -> torch.Tensor:
    """(pixels, grid + 2 PAD): the B-spline weights of pixel centres first..end of an output
    `size` wide on the padded coefficients (derivative: per glyph side, not per grid cell)."""
    end = size if end is None else end
    centres = (torch.arange(first, end, dtype=torch.float64) + 0.5) / size   # glyph units
    t = centres * grid - 0.5 + PAD                                          # coefficient units
    weights = bspline(t[:, None] - torch.arange(grid + 2 * PAD, dtype=torch.float64),
                      derivative)
    return (weights * grid if derivative else weights).float()


def binomial(c: torch.Tensor) -> torch.Tensor:
    """Coefficients smoothed by [1, 2, 1] / 4 each way (edges repeated): a grid-scale
    checkerboard, which the B-spline would draw as a lattice of dots, is gone by construction
    (its response at the grid's Nyquist frequency is 0); a trained 8-cell field without it
    put 7 % of its energy above Nyquist, 12x what white noise does."""
    b, layers, h, w = c.shape
    kernel = torch.tensor([0.25, 0.5, 0.25], dtype=c.dtype, device=c.device)
    kernel = (kernel[:, None] * kernel[None, :]).expand(layers, 1, 3, 3)
    return nn.functional.conv2d(nn.functional.pad(c, (1,) * 4, mode="replicate"), kernel,
                                groups=layers)


class FieldNet(nn.Module):
    """Message -> coefficient grids: an MLP, then one linear head per level (coarse first).
    A whole-glyph map, not a conv stack: every coefficient may depend on the whole message,
    so a glyph is composed as one figure rather than tiled from one local motif."""

    def __init__(self, message: int, widths: list[int], layers: int, grids: list[int]):
        super().__init__()
        body, w_in = [], message
        for w in widths:
            body += [nn.Linear(w_in, w), nn.LayerNorm(w), nn.LeakyReLU(0.2)]
            w_in = w
        self.body = nn.Sequential(*body)
        self.shapes = [(layers, g, g) for g in grids]
        self.heads = nn.ModuleList(nn.Linear(w_in, layers * g * g) for g in grids)

    def forward(self, z: torch.Tensor) -> list[torch.Tensor]:
        h = self.body(z)
        return [head(h).view(len(z), *shape) for head, shape in zip(self.heads, self.shapes)]


class ShapeGenerator(nn.Module):
    """Message -> smooth field(s) -> signed distance -> ink, at any size."""

    draws_any_size = True

    def __init__(self, spec):
        super().__init__()
        self.spec, shapes = spec, spec.shapes
        self.grids = [shapes.grid] + ([2 * shapes.grid] if shapes.detail else [])
        self.field_net = FieldNet(spec.message_size, spec.widths, spec.layers, self.grids)
        if shapes.detail:  # the finer field starts at nothing: the parent's glyphs, exactly
            nn.init.zeros_(self.field_net.heads[-1].weight)
            nn.init.zeros_(self.field_net.heads[-1].bias)
        self.softness = shapes.softness  # pixels at the native size; training may anneal it
        self._bases: dict = {}

    def sharpen(self, progress: float, until: float) -> None:
        """Training's edge schedule: 8x the softness at the start, easing to it at `until`."""
        eased = min(1.0, progress / until) if until > 0 else 1.0
        self.softness = self.spec.shapes.softness * (1 + 7 * (1 - eased) ** 2)

    def coefficients(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Each level's coefficients, padded by repeating their edges (B, layers, grid + 2 PAD,
        ...): the field runs on past the cell, so shapes are cut by its edge as by a frame."""
        return [nn.functional.pad(binomial(c.float()), (PAD,) * 4, mode="replicate")
                for c in self.field_net(z)]

    def _basis(self, grid: int, size: int, rows, derivative: bool, device) -> torch.Tensor:
        key = (grid, size, rows, derivative, device)
        if key not in self._bases:
            self._bases[key] = basis(grid, size, *(rows or (0, size)), derivative).to(device)
        return self._bases[key]

    def field(self, z: torch.Tensor, size: int, rows=None, slope: bool = False):
        """The field at size x size pixel centres (rows: a band), (B, layers, H, W); with
        slope, also its gradient's magnitude per glyph side."""
        f = gx = gy = 0
        for grid, c in zip(self.grids, self.coefficients(z)):
            by, bx = (self._basis(grid, size, r, False, c.device) for r in (rows, None))
            f = f + by @ c @ bx.T
            if slope:
                dy, dx = (self._basis(grid, size, r, True, c.device) for r in (rows, None))
                gx, gy = gx + by @ c @ dx.T, gy + dy @ c @ bx.T
        return (f, (gx * gx + gy * gy + MIN_SLOPE ** 2).sqrt()) if slope else f

    def logits(self, z: torch.Tensor, size: int | None = None,
               rows: tuple[int, int] | None = None) -> torch.Tensor:
        """Ink logits (B, layers, H, size): the signed distance over `softness` pixels at the
        native size (None) and in training at any size, over about one output pixel in any
        render."""
        f, g = self.field(z, size or self.spec.size, rows, slope=True)
        trained = size is None or self.training
        pixels = (size or self.spec.size) / (self.softness if trained else EDGE_PX)
        return f / g * pixels

    def outline_field(self, z: torch.Tensor) -> torch.Tensor:
        """The field sampled finely enough to trace its zero level as smooth curves (the
        outline of every vector output): 16 samples a grid cell."""
        return self.field(z, 16 * self.grids[-1])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))


EDGE_PX = 0.3  # renders: the sigmoid's scale in output pixels, as the strokes' (1 px of grey)
