"""The stroke generator's differentiable rasteriser, in plain torch, at any resolution.

A glyph is K brush strokes. Each stroke is a chain of S cubic Bézier segments (3S + 1 control
points in the glyph's unit square, x right, y down) with a radius at each joint, tapered
towards both ends like a brush. The rasteriser samples each centre line into a polyline,
computes for every pixel the signed distance to each stroke's capsule chain (radius minus
distance: positive inside), and joins strokes with a soft maximum. The result is a field in
glyph units; divided by an edge width it is a logit field like the raster generator's, so
training, the channel and the look measures treat both kinds alike.

Training (gradients on) evaluates every pixel against every segment, which batches well.
Rendering (no gradients) works tile by tile and only with the segments whose bounding box,
grown by their radius, reaches the tile: an A0 hero glyph costs what its ink costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

OUTSIDE = -1.0  # field value (glyph units) of a pixel no stroke reaches: far outside any ink
TILE = 64  # rendering tile side in pixels


@dataclass
class Strokes:
    """Strokes of a batch of glyphs, in the glyph's unit square."""
    points: torch.Tensor  # (B, K, 3S+1, 2) control points, joints at 0, 3, 6, ...
    radii: torch.Tensor  # (B, K, S+1) half-widths at the joints (already tapered)

    @property
    def segments(self) -> int:
        return (self.points.shape[2] - 1) // 3

    def __len__(self) -> int:
        return self.points.shape[0]

    def __getitem__(self, index) -> "Strokes":
        return Strokes(self.points[index], self.radii[index])


def samples_per_segment(strokes: Strokes, size: int) -> int:
    """Polyline samples per cubic segment so the chord error stays under ~1/4 pixel: it grows
    with the square root of the curve's length in pixels."""
    p = strokes.points.detach()
    control = (p[:, :, 1:] - p[:, :, :-1]).norm(dim=-1).amax().item() * 3 * size
    return int(min(256, max(4, math.ceil(1.2 * math.sqrt(max(control, 1.0))))))


def centre_lines(strokes: Strokes, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample every stroke's centre line: points (B, K, S*n+1, 2) and radii (B, K, S*n+1)."""
    b, k, _, _ = strokes.points.shape
    s = strokes.segments
    t = torch.linspace(0, 1, n + 1, device=strokes.points.device,
                       dtype=strokes.points.dtype)[:-1]
    basis = torch.stack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3], -1)
    control = _segment_controls(strokes.points, s)  # (B, K, S, 4, 2)
    pts = torch.einsum("tc,bkscd->bkstd", basis, control).reshape(b, k, s * n, 2)
    pts = torch.cat([pts, strokes.points[:, :, -1:]], 2)
    r0, r1 = strokes.radii[:, :, :-1], strokes.radii[:, :, 1:]
    rad = (r0[..., None] + (r1 - r0)[..., None] * t).reshape(b, k, s * n)
    rad = torch.cat([rad, strokes.radii[:, :, -1:]], 2)
    return pts, rad


def _segment_controls(points: torch.Tensor, s: int) -> torch.Tensor:
    """(B, K, 3S+1, 2) -> (B, K, S, 4, 2): the four control points of each segment."""
    index = (torch.arange(s, device=points.device)[:, None] * 3
             + torch.arange(4, device=points.device)[None, :])
    return points[:, :, index]


def _capsule_field(px: torch.Tensor, a: torch.Tensor, b: torch.Tensor, ra: torch.Tensor,
                   rb: torch.Tensor) -> torch.Tensor:
    """Radius minus distance from pixels px (P, 2) to tapered segments a->b (..., L, 2):
    (..., P, L), positive inside the stroke. The dot products are matrix products, so the
    per-element work is a handful of fused-size operations."""
    ab = b - a
    length2 = (ab * ab).sum(-1).clamp_min(1e-12).unsqueeze(-2)  # (..., 1, L)
    a_ab = (a * ab).sum(-1).unsqueeze(-2)
    a_a = (a * a).sum(-1).unsqueeze(-2)
    dot = px @ ab.transpose(-1, -2) - a_ab  # (p - a) . ab
    ap2 = (px * px).sum(-1, keepdim=True) - 2 * (px @ a.transpose(-1, -2)) + a_a  # |p - a|^2
    t = (dot / length2).clamp(0, 1)
    distance2 = ap2 - t * (2 * dot - t * length2)
    return torch.addcmul(ra.unsqueeze(-2), t, (rb - ra).unsqueeze(-2)) - \
        distance2.clamp_min(1e-12).sqrt()


class _NearestSegment(torch.autograd.Function):
    """Per stroke, the best (max) capsule field over its segments: (B, K, P).

    The forward pass runs in pixel chunks without keeping intermediates and remembers only
    which segment won each pixel; the backward pass recomputes that one segment's field with
    autograd. Same gradients as autograd through the max, a fraction of the memory and time."""

    CHUNK = 512

    @staticmethod
    def forward(ctx, px, a, b, ra, rb):
        best, index = [], []
        for start in range(0, px.shape[0], _NearestSegment.CHUNK):
            f = _capsule_field(px[start:start + _NearestSegment.CHUNK], a, b, ra, rb)
            value, which = f.max(-1)
            best.append(value)
            index.append(which)
        index = torch.cat(index, -1)
        ctx.save_for_backward(px, a, b, ra, rb, index)
        return torch.cat(best, -1)

    @staticmethod
    def backward(ctx, grad):
        px, a, b, ra, rb, index = ctx.saved_tensors
        with torch.enable_grad():
            leaves = [x.detach().requires_grad_() for x in (a, b, ra, rb)]
            ga, gb = (torch.gather(x, -2, index.unsqueeze(-1).expand(*index.shape, 2))
                      for x in leaves[:2])
            gra, grb = (torch.gather(x, -1, index) for x in leaves[2:])
            ab = gb - ga
            t = (((px - ga) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)).clamp(0, 1)
            closest = px - ga - t.unsqueeze(-1) * ab
            f = gra + t * (grb - gra) - (closest * closest).sum(-1).clamp_min(1e-12).sqrt()
            grads = torch.autograd.grad(f, leaves, grad)
        return (None, *grads)


def _pixel_centres(ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    return torch.stack(torch.broadcast_tensors(xs[None, :], ys[:, None]), -1).reshape(-1, 2)


def stroke_field(strokes: Strokes, size: int, union: float, rows: tuple[int, int] | None = None
                 ) -> torch.Tensor:
    """The glyphs' field (B, 1, H, size) in glyph units: > 0 inside ink. `union` is the soft
    maximum's temperature (glyph units); `rows` = (first, end) renders a band of rows."""
    row0, row1 = rows or (0, size)
    n = samples_per_segment(strokes, size)
    pts, rad = centre_lines(strokes, n)
    device, dtype = pts.device, pts.dtype
    ys = (torch.arange(row0, row1, device=device, dtype=dtype) + 0.5) / size
    xs = (torch.arange(size, device=device, dtype=dtype) + 0.5) / size
    if torch.is_grad_enabled():
        field = _dense(pts, rad, _pixel_centres(ys, xs), union)
    else:
        field = torch.stack([_tiled(pts[i], rad[i], ys, xs, union) for i in range(len(pts))])
    return field.view(len(pts), 1, row1 - row0, size)


def _union(per_stroke: torch.Tensor, union: float) -> torch.Tensor:
    """Soft maximum over the last dimension (strokes): overlaps join without a seam, and every
    stroke near a pixel gets a share of its gradient."""
    return union * torch.logsumexp(per_stroke / union, -1)


def _dense(pts, rad, pixels, union) -> torch.Tensor:
    """Every pixel against every segment: (B, P). For training at native size."""
    f = _NearestSegment.apply(pixels, pts[:, :, :-1], pts[:, :, 1:], rad[:, :, :-1],
                              rad[:, :, 1:])  # (B, K, P)
    return _union(f.transpose(1, 2), union)


def _tiled(pts, rad, ys, xs, union) -> torch.Tensor:
    """One glyph, tile by tile, with only the segments that reach each tile: (P,)."""
    k = pts.shape[0]
    a, b = pts[:, :-1].reshape(-1, 2), pts[:, 1:].reshape(-1, 2)
    ra, rb = rad[:, :-1].reshape(-1), rad[:, 1:].reshape(-1)
    stroke = torch.arange(k, device=pts.device).repeat_interleave(pts.shape[1] - 1)
    reach = torch.maximum(ra, rb) + 4 * union + 2 / len(xs)
    low = torch.minimum(a, b) - reach[:, None]
    high = torch.maximum(a, b) + reach[:, None]
    out = torch.full((len(ys), len(xs)), OUTSIDE, dtype=pts.dtype, device=pts.device)
    far = torch.full((k,), OUTSIDE, dtype=pts.dtype, device=pts.device)
    for y0 in range(0, len(ys), TILE):
        ty = ys[y0:y0 + TILE]
        in_rows = (low[:, 1] <= ty[-1]) & (high[:, 1] >= ty[0])
        if not in_rows.any():
            continue
        for x0 in range(0, len(xs), TILE):
            tx = xs[x0:x0 + TILE]
            near = in_rows & (low[:, 0] <= tx[-1]) & (high[:, 0] >= tx[0])
            if not near.any():
                continue
            f = _capsule_field(_pixel_centres(ty, tx), a[near], b[near], ra[near], rb[near])
            per_stroke = far.repeat(f.shape[0], 1).scatter_reduce(
                1, stroke[near].expand(f.shape[0], -1), f, "amax")
            out[y0:y0 + TILE, x0:x0 + TILE] = _union(per_stroke, union).view(len(ty), len(tx))
    return out.view(-1)
