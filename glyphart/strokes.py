"""The stroke generator's differentiable rasteriser, in plain torch, at any resolution.

A glyph is K brush strokes. Each stroke is a chain of S cubic Bézier segments (3S + 1 control
points in the glyph's unit square, x right, y down) with a radius at each joint, tapered
towards both ends like a brush. The rasteriser samples each centre line into a polyline,
computes for every pixel the signed distance to each stroke's capsule chain (radius minus
distance: positive inside), and joins strokes with a soft maximum. The result is a field in
glyph units; divided by an edge width it is a logit field like the raster generator's, so
training, the channel and the look measures treat both kinds alike.

Cost goes only where a stroke can reach: each polyline segment, grown by its radius and a
margin, is paired with the tiles of the image it touches, and only those pixels are computed.
Training and an A0 hero glyph alike cost what their ink costs, not what their area costs.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import torch

OUTSIDE = -2.0  # field of a pixel no stroke reaches (glyph units; every real one is > -1.5)


@dataclass
class Strokes:
    """Strokes of a batch of glyphs, in the glyph's unit square."""
    points: torch.Tensor  # (B, K, 3S+1, 2) control points, joints at 0, 3, 6, ...
    radii: torch.Tensor  # (B, K, S+1) half-widths at the joints
    taper: float = 1.0  # half-width at both ends of a stroke, relative (see `envelope`)

    @property
    def segments(self) -> int:
        return (self.points.shape[2] - 1) // 3

    def __len__(self) -> int:
        return self.points.shape[0]

    def __getitem__(self, index) -> "Strokes":
        return Strokes(self.points[index], self.radii[index], self.taper)


def envelope(s: torch.Tensor, taper: float) -> torch.Tensor:
    """A brush's width along its stroke (s from 0 to 1): `taper` at both ends, swelling
    quickly to full width (sqrt of a sine: a brush pressed down, then lifted)."""
    return taper + (1 - taper) * torch.sin(torch.pi * s).clamp_min(0).sqrt()


def samples_per_segment(strokes: Strokes, size: int) -> int:
    """Polyline samples per cubic segment, so the chord error stays near a quarter pixel: it
    grows with the square root of the longest segment's control polygon in pixels."""
    legs = (strokes.points[:, :, 1:] - strokes.points[:, :, :-1]).detach().norm(dim=-1)
    polygon = legs[:, :, :3 * strokes.segments].unflatten(2, (strokes.segments, 3)).sum(-1)
    return int(min(256, max(3, math.ceil(0.75 * math.sqrt(float(polygon.max()) * size)))))


def in_own_precision(geometry):
    """Run a function of strokes in the strokes' own precision, even under autocast: bf16
    keeps 8 bits, a pixel at 256 px, and the torch rasteriser's gradients through points so
    placed were noise."""
    @functools.wraps(geometry)
    def run(strokes: Strokes, *args):
        with torch.autocast(strokes.points.device.type, enabled=False):
            return geometry(strokes, *args)
    return run


@in_own_precision
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
    if strokes.taper != 1:
        along = torch.linspace(0, 1, s * n + 1, device=rad.device, dtype=rad.dtype)
        rad = rad * envelope(along, strokes.taper)
    return pts, rad


# De Casteljau at t = 1/2: a cubic's four control points -> the six that start its two halves.
_HALVES = torch.tensor([[8, 0, 0, 0], [4, 4, 0, 0], [2, 4, 2, 0], [1, 3, 3, 1],
                        [0, 2, 4, 2], [0, 0, 4, 4]], dtype=torch.float64) / 8


@in_own_precision
def split_segments(strokes: Strokes) -> Strokes:
    """The same strokes with every cubic segment split in two at its middle: the same curves
    and widths (radii are linear between joints), twice the control points to bend."""
    to_points, to_radii = split_matrices(strokes.segments, range(strokes.segments))
    points = strokes.points
    return Strokes(torch.einsum("nm,bkmd->bknd", to_points.to(points.dtype), points),
                   strokes.radii @ to_radii.T.to(strokes.radii.dtype), strokes.taper)


def split_matrices(s: int, which) -> tuple[torch.Tensor, torch.Tensor]:
    """(points (3T+1, 3S+1), radii (T+1, S+1)), float64: the control points and joint radii
    of S-segment strokes with the segments in `which` split at their middle by de Casteljau
    (T = S + len(which)); the same curves, radii linear between joints."""
    which = set(which)
    points, radii = [], []
    for j in range(s):
        unit = torch.eye(3 * s + 1, dtype=torch.float64)[3 * j:3 * j + 4]
        joint = torch.eye(s + 1, dtype=torch.float64)[j:j + 2]
        points.append(_HALVES @ unit if j in which else unit[:3])
        radii += [joint[:1], joint.mean(0, keepdim=True)] if j in which else [joint[:1]]
    points.append(torch.eye(3 * s + 1, dtype=torch.float64)[-1:])
    radii.append(torch.eye(s + 1, dtype=torch.float64)[-1:])
    return torch.cat(points), torch.cat(radii)


def segment_map(s: int, target: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """split_matrices from S segments to `target` >= S: segments split at their middle,
    spread along the stroke, round after round until there are enough; None for fewer."""
    if target < s:
        return None
    to_points = torch.eye(3 * s + 1, dtype=torch.float64)
    to_radii = torch.eye(s + 1, dtype=torch.float64)
    while s < target:
        n = min(s, target - s)
        step_points, step_radii = split_matrices(s, {(2 * i + 1) * s // (2 * n)
                                                     for i in range(n)})
        to_points, to_radii, s = step_points @ to_points, step_radii @ to_radii, s + n
    return to_points, to_radii


def _segment_controls(points: torch.Tensor, s: int) -> torch.Tensor:
    """(B, K, 3S+1, 2) -> (B, K, S, 4, 2): the four control points of each segment."""
    index = (torch.arange(s, device=points.device)[:, None] * 3
             + torch.arange(4, device=points.device)[None, :])
    return points[:, :, index]


def _pixel_centres(ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    return torch.stack(torch.broadcast_tensors(xs[None, :], ys[:, None]), -1).reshape(-1, 2)


# Which rasteriser draws the field: "kernel" (stroke_kernel.c, compiled on first use), "torch"
# (the plain-torch path below, also the fallback without a C compiler) or "auto" (the kernel
# where it runs). Both draw the same field; the bench times them side by side.
RASTERISERS = ("auto", "kernel", "torch")
rasteriser = os.environ.get("GLYPHART_RASTERISER", "auto")


def uses_kernel(pts: torch.Tensor, choice: str | None = None) -> bool:
    """Whether the compiled kernel draws these polylines (CPU float32/float64 only)."""
    choice = choice or rasteriser
    if choice == "torch" or pts.device.type != "cpu" or \
            pts.dtype not in (torch.float32, torch.float64):
        return False
    from . import stroke_kernel
    if stroke_kernel.available():
        return True
    if choice == "kernel":
        raise RuntimeError("the stroke kernel needs a C compiler (cc or gcc); none was found")
    return False


def stroke_field(strokes: Strokes, size: int, union: float, reach: float,
                 rows: tuple[int, int] | None = None, layers: int = 1,
                 path: str | None = None) -> torch.Tensor:
    """The glyphs' field (B, layers, H, size) in glyph units: > 0 inside ink.

    `union` is the soft maximum's temperature and `reach` how far outside a stroke its field
    still matters (glyph units: beyond it the pixel is plain paper, OUTSIDE); `rows` = (first,
    end) renders a band of rows; the strokes, in order, are shared out among `layers` inks.
    `path` chooses the rasteriser (RASTERISERS; default: the module's `rasteriser`)."""
    row0, row1 = rows or (0, size)
    n = samples_per_segment(strokes, size)
    pts, rad = centre_lines(strokes, n)
    if uses_kernel(pts, path):
        from .stroke_kernel import kernel_field
        return kernel_field(pts, rad, size, row0, row1, reach, union, layers)
    b, k = pts.shape[:2]
    per_stroke = _NearestSegment.apply(pts[:, :, :-1], pts[:, :, 1:], rad[:, :, :-1],
                                       rad[:, :, 1:], size, row0, row1, reach)
    if k == layers:  # one stroke per layer: nothing to join
        return per_stroke.view(b, layers, row1 - row0, size)
    per_layer = per_stroke.view(b, layers, k // layers, -1)
    return soft_union(per_layer, union, 2).view(b, layers, row1 - row0, size)


def reference_field(strokes: Strokes, size: int, union: float) -> torch.Tensor:
    """The same field the slow, obvious way: every pixel against every polyline segment, with
    autograd through the max. The ground truth for tests, and the baseline for benchmarks."""
    pts, rad = centre_lines(strokes, samples_per_segment(strokes, size))
    centre = (torch.arange(size, dtype=pts.dtype, device=pts.device) + 0.5) / size
    c = _pixel_centres(centre, centre)
    a, b = pts[:, :, :-1, None], pts[:, :, 1:, None]
    ra, rb = rad[:, :, :-1, None], rad[:, :, 1:, None]
    ab, ap = b - a, c - a
    length2 = (ab * ab).sum(-1)
    # A piece of no length is a disc (t = 0), with no gradient through t.
    t = torch.where(length2 > 1e-12, (ap * ab).sum(-1) / length2.clamp_min(1e-12), 0)
    t = t.clamp(0, 1)
    field = (ra + t * (rb - ra) - (ap - t[..., None] * ab).norm(dim=-1)).amax(2)
    return soft_union(field, union).view(len(pts), 1, size, size)


def soft_union(per_stroke: torch.Tensor, union: float, dim: int = 1) -> torch.Tensor:
    """Soft maximum over strokes: overlaps join without a seam, and every stroke near a pixel
    gets a share of its gradient."""
    return union * torch.logsumexp(per_stroke / union, dim)


class _Pairs:
    """The (segment, tile) pairs where a segment, grown by its radius and `reach`, touches a
    tile of the band [row0, row1) x [0, size): only there is its field worth computing."""

    def __init__(self, a, b, ra, rb, size, row0, row1, reach):
        self.size, self.row0 = size, row0
        # Small tiles hug the strokes closely; past 1024 px (posters) larger ones keep the
        # number of pairs, and their memory, in bounds.
        self.tile = tile = max(4, min(32 if size > 1024 else 8, size // 16))
        self.tiles_y, self.tiles_x = -(-(row1 - row0) // tile), -(-size // tile)
        grow = (torch.maximum(ra, rb) + reach).unsqueeze(-1)
        low = ((torch.minimum(a, b) - grow) * size - 0.5).ceil()
        high = ((torch.maximum(a, b) + grow) * size - 0.5).floor()
        low[:, 1] -= row0
        high[:, 1] -= row0
        limit = torch.tensor([size - 1, row1 - row0 - 1], dtype=low.dtype, device=low.device)
        empty = (high < 0).any(-1) | (low > limit).any(-1)
        low = torch.minimum(low.clamp_min(0), limit).long() // tile
        high = torch.minimum(high.clamp_min(0), limit).long() // tile
        span = (high - low + 1).masked_fill(empty.unsqueeze(-1), 0)
        m = int(span.max()) if span.numel() else 0
        offsets = torch.arange(max(m, 1), device=a.device)
        ok = (offsets[None, :, None] < span[:, None, None, 0]) & \
             (offsets[None, None, :] < span[:, None, None, 1])  # (N, ox, oy)
        seg, ox, oy = ok.nonzero(as_tuple=True)
        self.segment = seg
        self.tile_x, self.tile_y = low[seg, 0] + ox, low[seg, 1] + oy
        self.d = d = torch.arange(tile, device=a.device)
        dy, dx = (t.reshape(-1) for t in torch.meshgrid(d, d, indexing="ij"))
        self.flat_in_tile = dy * (self.tiles_x * tile) + dx
        # Pixel centres by absolute index, so that a band and the whole image agree bit for bit.
        extent = max(self.tiles_x * tile, row0 + self.tiles_y * tile)
        self.centres = (torch.arange(extent, device=a.device, dtype=a.dtype) + 0.5) / size

    def __len__(self) -> int:
        return len(self.segment)

    def pixels(self, chunk: slice, a: torch.Tensor, offset: torch.Tensor):
        """(pairs, tile*tile) flat indices into the padded band (plus each pair's `offset`),
        and the pixel centres' x and y relative to each pair's segment start `a` (pairs, 2),
        built from one tile row and column per pair."""
        tile = self.tile
        x0 = self.tile_x[chunk] * tile
        y0 = self.tile_y[chunk] * tile
        flat = (y0 * (self.tiles_x * tile) + x0 + offset).unsqueeze(1) + self.flat_in_tile
        x = self.centres[x0.unsqueeze(1) + self.d] - a[:, :1]  # (pairs, tile): one tile row
        y = self.centres[(y0 + self.row0).unsqueeze(1) + self.d] - a[:, 1:]
        return flat, x.repeat(1, tile), y.repeat_interleave(tile, 1)


def _field_from(px, py, a, b, ra, rb):
    """Radius minus distance from pixel centres at (px, py) from each segment's start a, each
    (P, T), to the segments a->b (P, 2) with radii ra->rb (P,): (P, T). The forward pass's
    inner loop: few passes over (P, T), fused where torch allows."""
    ab = b - a
    scale = 1 / (ab * ab).sum(1, keepdim=True).clamp_min(1e-12)
    abx, aby = ab[:, :1], ab[:, 1:]
    t = torch.addcmul(px * (abx * scale), py, aby * scale).clamp_(0, 1)
    distance = torch.hypot(torch.addcmul(px, t, abx, value=-1),
                           torch.addcmul(py, t, aby, value=-1))
    return torch.addcmul(ra.unsqueeze(1), t, (rb - ra).unsqueeze(1)).sub_(distance)


def _field_at(x, y, a, b, ra, rb):
    """Radius minus distance from pixel centres (x, y), each (P, T), to the segments a->b
    (P, 2) with radii ra->rb (P,): (P, T). Coordinates kept apart: no size-2 reductions.
    Its gradient is finite on the centre line itself (the backward pass uses it)."""
    ax, ay = a[:, :1], a[:, 1:]
    abx, aby = b[:, :1] - ax, b[:, 1:] - ay
    inverse = 1 / (abx * abx + aby * aby).clamp_min(1e-12)
    px, py = x - ax, y - ay
    t = ((px * abx + py * aby) * inverse).clamp(0, 1)
    dx, dy = px - t * abx, py - t * aby
    radius = torch.addcmul(ra.unsqueeze(1), t, (rb - ra).unsqueeze(1))
    return radius - (dx * dx + dy * dy).clamp_min(1e-12).sqrt()


class _NearestSegment(torch.autograd.Function):
    """Per stroke and pixel, the best (max) capsule field over the stroke's segments:
    (B, K, H * W), OUTSIDE where no segment reaches.

    The forward pass computes only the (segment, tile) pairs that can matter, in chunks,
    keeping just which segment won each pixel; the backward pass recomputes that one segment's
    field with autograd: the gradients of autograd through the max, at a fraction of the cost."""

    CHUNK = 1 << 21  # field values computed at once

    @staticmethod
    def forward(ctx, a, b, ra, rb, size, row0, row1, reach):
        batch, k, segments = ra.shape
        flat_a, flat_b = a.reshape(-1, 2), b.reshape(-1, 2)
        flat_ra, flat_rb = ra.reshape(-1), rb.reshape(-1)
        pairs = _Pairs(flat_a, flat_b, flat_ra, flat_rb, size, row0, row1, reach)
        area = pairs.tiles_y * pairs.tiles_x * pairs.tile ** 2
        best = a.new_full((batch * k * area,), OUTSIDE)
        step = max(1, _NearestSegment.CHUNK // pairs.tile ** 2)
        keep = ctx.needs_input_grad[0] or ctx.needs_input_grad[2]
        chunks = []
        for start in range(0, len(pairs), step):
            part = slice(start, start + step)
            seg = pairs.segment[part]
            sa = flat_a[seg]
            where, px, py = pairs.pixels(part, sa, seg // segments * area)
            f = _field_from(px, py, sa, flat_b[seg], flat_ra[seg], flat_rb[seg])
            # Beyond reach is paper, however the tiles fall: bands and whole images agree.
            f.masked_fill_(f < -reach, OUTSIDE)
            best.scatter_reduce_(0, where.view(-1), f.view(-1), "amax")
            if keep:
                chunks.append((where, f, seg))
        winner = None
        if keep:  # which segment won each pixel (any one of a tie), for the backward pass
            winner = torch.zeros(batch * k * area, dtype=torch.long, device=a.device)
            for where, f, seg in chunks:
                won = f == best[where]
                winner[where[won]] = (seg % segments).unsqueeze(1).expand_as(where)[won]
            winner = _crop(winner.view(batch, k, pairs.tiles_y * pairs.tile, -1), row1 - row0,
                           size)
        best = _crop(best.view(batch, k, pairs.tiles_y * pairs.tile, -1), row1 - row0, size)
        if keep:
            ctx.save_for_backward(a, b, ra, rb, winner, best > OUTSIDE)
            ctx.size, ctx.row0 = size, row0
        return best.reshape(batch, k, -1)

    @staticmethod
    def backward(ctx, grad):
        a, b, ra, rb, winner, reached = ctx.saved_tensors
        batch, k, h, w = winner.shape
        segments = ra.shape[-1]
        # Only pixels some segment reached have a gradient: recompute the winner's field there.
        where = reached.view(-1).nonzero().squeeze(1)
        pixel = where % (h * w)
        seg = where // (h * w) * segments + winner.view(-1)[where]
        x = ((pixel % w).to(a.dtype) + 0.5) / ctx.size
        y = ((pixel // w + ctx.row0).to(a.dtype) + 0.5) / ctx.size
        with torch.enable_grad():
            leaves = [t.detach().requires_grad_() for t in (a, b, ra, rb)]
            ga, gb = (t.reshape(-1, 2).index_select(0, seg) for t in leaves[:2])
            gra, grb = (t.reshape(-1).index_select(0, seg) for t in leaves[2:])
            f = _field_at(x.unsqueeze(1), y.unsqueeze(1), ga, gb, gra, grb)
            grads = torch.autograd.grad(f.squeeze(1), leaves, grad.reshape(-1)[where])
        return (*grads, None, None, None, None)


def _crop(padded: torch.Tensor, h: int, w: int) -> torch.Tensor:
    return padded[:, :, :h, :w].contiguous()
