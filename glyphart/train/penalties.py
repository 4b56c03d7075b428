"""What a step is scored on: the read-back loss, and what the artist asks of the look."""

from __future__ import annotations

import torch
from torch import nn

from ..metrics import homes, mean_correlation, shared_layout


def read_back_loss(read: torch.Tensor, sent: torch.Tensor, kind: str,
                   bits_target: float = 0.0) -> torch.Tensor:
    if kind == "bits":
        # -bits per dimension in nats: 1/2 log of each dimension's error (for the best linear
        # decoder that error is 1 - rho^2, whose log is exactly what the metric sums).
        error = (read - sent).pow(2).mean(0) + 1e-6
        if bits_target > 0:
            # A number that already carries its share of the target earns nothing more.
            error = error.clamp_min(2.0 ** (-2 * bits_target / sent.shape[1]))
        return 0.5 * torch.log(error).mean()
    return nn.functional.mse_loss(read, sent)


def phase(progress: float, ramp) -> float:
    """0 before the ramp's start, rising to 1 at its end (fractions of the run)."""
    start, full = ramp
    return min(1.0, max(0.0, (progress - start) / max(full - start, 1e-9)))


def look_penalty(images: torch.Tensor, train_spec, progress: float,
                 each_stroke: torch.Tensor | None = None) -> torch.Tensor:
    """What the artist asks of the look: little grey, few bold shapes, an ink budget, glyphs
    (and each of their inks) that do not share one layout or one coarse composition, strokes
    (each stroke's coverage, when given) that keep no home."""
    ramp = phase(progress, train_spec.look_ramp)
    penalty = images.new_zeros(())
    if train_spec.saturation > 0:
        penalty = penalty + ramp * train_spec.saturation * (4 * images * (1 - images)).mean()
    if train_spec.perimeter > 0:
        # Padded with background, so a shape cut by the border pays for that edge too
        # (otherwise shapes crowd against the border, where edges are free).
        padded = nn.functional.pad(images, (1, 1, 1, 1))
        dy = padded[..., 1:, :-1] - padded[..., :-1, :-1]
        dx = padded[..., :-1, 1:] - padded[..., :-1, :-1]
        # Edge length per glyph, scaled as if drawn at 64 px: one weight means the same
        # simplicity at every resolution.
        edges = (dx * dx + dy * dy + 1e-8).sqrt().mean() * images.shape[-1] / 64
        penalty = penalty + ramp * train_spec.perimeter * edges
    if train_spec.layout > 0:
        # Per ink layer: inks that each keep a home of their own (one always on the left, one
        # on the right) would flatten the mean of them all, and every glyph would still be the
        # same composition.
        penalty = penalty + train_spec.layout * shared_layout(images).mean()
    if train_spec.composition > 0:
        # Eval's composition looks at the ink of all layers together: ink where any layer is.
        ink = 1 - (1 - images).prod(1)
        # Blurred by a tenth of the cell, 64 px say as much as 256, at a 64th of the cost.
        if ink.shape[-1] > 64:
            ink = nn.functional.adaptive_avg_pool2d(ink, 64)
        penalty = penalty + train_spec.composition * mean_correlation(ink)
    if each_stroke is not None:
        penalty = penalty + ramp * train_spec.homes * homes(each_stroke).mean()
    if train_spec.margin > 0:
        penalty = penalty + train_spec.margin * margin_excess(images)
    if train_spec.opening > 0:
        penalty = penalty + train_spec.opening * opening_loss(images)
    low, high = train_spec.ink
    if low > 0 or high < 1:
        brightness = images.mean((2, 3))  # per channel: no colour may go dark and idle
        penalty = penalty + (nn.functional.relu(brightness - high)
                             + nn.functional.relu(low - brightness)).mean()
    return penalty


def margin_excess(images: torch.Tensor) -> torch.Tensor:
    """How much denser the ink is in the cells' outer tenth than in their middle half, over
    the batch (eval's margin ratio, as a difference): 0 while the margin carries no more than
    the middle, so shapes may still run off the cell as the source's do, but not lean on it."""
    size = images.shape[-1]
    u = (torch.arange(size, device=images.device) + 0.5) / size
    edge = torch.minimum(u, 1 - u) < 0.1
    outer = edge[:, None] | edge[None, :]
    middle = ((u - 0.5).abs() < 0.25)[:, None] & ((u - 0.5).abs() < 0.25)[None, :]
    return nn.functional.relu(images[..., outer].mean() - images[..., middle].mean())


# Of the cell side: a round part of eval's "small" 2 % of the cell holds no wider square.
OPENING_WIDTH = 0.11


def opening_loss(images: torch.Tensor) -> torch.Tensor:
    """The mean ink a grey-scale opening (erode, then dilate, by a square OPENING_WIDTH of the
    cell wide) takes away: what is too small or too thin to hold the square. Its gradient
    reaches the crumbs' own pixels (and the erosion's argmins at bold shapes' edges)."""
    k = 2 * max(1, int(OPENING_WIDTH * images.shape[-1] / 2)) + 1  # odd: centred
    # Background beyond the border (as the perimeter's): a crumb cut by the border is still a
    # crumb, and shapes find no refuge there.
    padded = nn.functional.pad(images, (k // 2,) * 4)
    eroded = -square_max(-padded, k, 0)
    opened = square_max(eroded, k, k // 2)
    return (images - opened).mean()


def square_max(images: torch.Tensor, k: int, padding: int) -> torch.Tensor:
    """The max over each k x k square (stride 1), as a row's max then a column's: 2k
    comparisons a pixel instead of k^2, the same values and gradients (at 256 px, where k is
    29, a batch's opening takes a sixth of the time; bench: shapes). Both passes run along
    rows, the second on the transpose: torch's pooling along a row is twice as fast."""
    rows = nn.functional.max_pool2d(images, (1, k), stride=1, padding=(0, padding))
    columns = nn.functional.max_pool2d(rows.transpose(-1, -2), (1, k), stride=1,
                                       padding=(0, padding))
    return columns.transpose(-1, -2)


UNIFORM_STD = 12 ** -0.5  # std of a uniform variable on [0, 1]


def spread_penalty(strokes, inset: float) -> torch.Tensor:
    """How far each control point's spread over the batch is from a uniform one over the
    inset square (mean and std): no stroke keeps a home of its own, so glyphs do not share
    one layout, and positions carry the most information a bounded number can."""
    u = (strokes.points.float() - inset) / (1 - 2 * inset)
    mean, std = u.mean(0), u.std(0)
    return (((mean - 0.5) ** 2 + (std - UNIFORM_STD) ** 2) / UNIFORM_STD ** 2).mean()


def register_penalty(corners: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """How far the decoder's located corners (B, 4, 2) are from where the channel moved them."""
    return (corners - moved).pow(2).sum(-1).mean()
