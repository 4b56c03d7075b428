"""One master per ink: the grayscale page each drum of a risograph (each screen, each pen)
prints, black where the ink goes, and the proof the masters make together.

A poster's blend says how its inks meet, and so what each master holds. Under `multiply` the
inks overprint, so each master is its own layer, whole. Under `over` the layers lie in order,
each covering the ones below: a lower ink is knocked out where an upper one covers it, so
every spot of the page takes the ink that shows there and no other. Registration on a riso
drifts about a millimetre, which would open a line of bare paper at every knocked-out edge;
the trap spreads each lower ink under the edges of the ones above (the knockout is the upper
ink shrunk by the trap). Ink density lightens a whole master, as a riso driver does.

The proof lays the masters on the paper as the printer will: `multiply`, each master's ink
filtering the paper (exactly the poster's multiply); `over`, each knocked-out ink in the room
the inks above it leave (where a trap makes two masters overlap, the upper one keeps its
spot). Coverage and amounts are in [0, 1]; masters are uint8, 255 white and 0 full ink.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..inks import Paint


def amounts(coverage: torch.Tensor, blend: str, trap_px: float = 0.0) -> torch.Tensor:
    """(K, H, W) coverage -> (K, H, W) the ink each master lays down at full density."""
    ink = coverage.float().clamp(0, 1)
    return knocked_out(ink, trap_px) if blend == "over" else ink


def knocked_out(coverage: torch.Tensor, trap_px: float = 0.0) -> torch.Tensor:
    """Each layer where the layers above it leave room: c_k times (1 - c_j) for every upper
    layer j, that layer shrunk by `trap_px` pixels first. With no trap, the layers' sum is the
    over composite's ink everywhere (1 minus the product of (1 - c_k))."""
    out = torch.empty_like(coverage)
    room = torch.ones_like(coverage[0])
    for k in range(coverage.shape[0] - 1, -1, -1):  # the top layer first
        out[k] = coverage[k] * room
        if k:
            room = room * (1 - (eroded(coverage[k], trap_px) if trap_px > 0 else coverage[k]))
    return out


def eroded(coverage: torch.Tensor, radius: float) -> torch.Tensor:
    """(H, W) coverage shrunk by `radius` pixels. Whole pixels are a disc's erosion; a
    fraction of one moves an anti-aliased edge by as much, blending the discs on either side
    (so a 0.5 mm trap at 150 dpi, 2.95 px, is not 2 px, and matches the vector masters')."""
    whole = math.floor(radius)
    low = disc_eroded(coverage, whole) if whole else coverage
    if radius == whole:
        return low
    return torch.lerp(low, disc_eroded(coverage, whole + 1), radius - whole)


def disc_eroded(coverage: torch.Tensor, radius: float) -> torch.Tensor:
    """(H, W) coverage's grey erosion by a disc of `radius` pixels: the least coverage at
    offsets (dx, dy) with dx^2 + dy^2 <= radius^2 (beyond the array is bare paper). The disc
    is one horizontal run per row of it, and each run's minimum two lookups in a table of
    minima over runs of 1, 2, 4... pixels: about 2 (2r + 1) passes over the band where
    pooling each run cost pi r^2. A 1 mm trap on an A3 poster of `color` at 300 dpi (12 px)
    costs 0.4 s of CPU this way, 19 s pooled."""
    r = int(radius)
    height, width = coverage.shape
    padded = F.pad(coverage, (r, r, r, r), value=0.0)
    runs = [padded]  # runs[j][y, x]: the least of padded[y, x:x + 2^j]
    while 1 << len(runs) <= 2 * r + 1:
        step = 1 << (len(runs) - 1)
        runs.append(torch.minimum(runs[-1][:, :-step], runs[-1][:, step:]))
    out = coverage.clone()
    for dy in range(-r, r + 1):
        half = int(math.sqrt(max(radius * radius - dy * dy, 0)))
        length = 2 * half + 1
        level = length.bit_length() - 1
        rows = runs[level][r + dy:r + dy + height]
        first, last = r - half, r - half + length - (1 << level)  # two runs cover the run
        torch.minimum(out, rows[:, first:first + width], out=out)
        torch.minimum(out, rows[:, last:last + width], out=out)
    return out


def to_gray(ink: torch.Tensor) -> np.ndarray:
    """Amounts in [0, 1] -> uint8 masters: black (0) is full ink, white (255) none."""
    return ((1 - ink.clamp(0, 1)) * 255).round().to(torch.uint8).numpy()


def from_gray(masters: np.ndarray) -> torch.Tensor:
    """uint8 masters -> the amount of ink each lays down, in [0, 1]."""
    return 1 - torch.from_numpy(np.ascontiguousarray(masters)).float() / 255


def proof_rgb8(masters: np.ndarray, paint: Paint, density: list[float] | None = None
               ) -> np.ndarray:
    """(K, H, W) uint8 masters printed on the paint's paper in its inks -> (H, W, 3) uint8:
    the composite a printer makes of them (`density`: what each master was lightened by)."""
    ink = from_gray(masters)
    if paint.blend == "multiply":  # a lightened master filters the paper less: nothing to undo
        return paint.to_rgb8(ink[None])[0]
    inks, paper = (t[0].view(-1, 3, 1, 1) for t in paint.tensors())  # (K, 3, 1, 1), (1, 3, 1, 1)
    density = torch.tensor(density or [1.0] * len(ink)).view(-1, 1, 1)
    # Each ink is an opaque layer at full density, its colour mixed towards the paper: the
    # spot it takes is its amount / density, its colour paper + density (ink - paper).
    spot = torch.where(density > 0, ink / density.clamp_min(1e-6), 0).clamp(0, 1)
    picture = paper[0].expand(3, *ink.shape[1:]).clone()
    room = torch.ones_like(ink[0])
    for k in range(ink.shape[0] - 1, -1, -1):  # the top ink first: it keeps its spot
        shown = torch.minimum(spot[k], room)
        picture += (shown * density[k]) * (inks[k] - paper[0])
        room -= shown
    rgb = (picture * 255).round().clamp(0, 255).to(torch.uint8)
    return rgb.permute(1, 2, 0).contiguous().numpy()


def lightened(paint: Paint, density: list[float] | None) -> Paint:
    """The paint with each ink mixed towards the paper by its density: what a lightened
    master prints (exact for multiply, where an ink at density d filters 1 - d (1 - t), and for
    over, where a knocked-out ink lies on bare paper)."""
    if not density:
        return paint
    inks = tuple(tuple(round(p + d * (c - p)) for c, p in zip(ink, paint.paper))
                 for ink, d in zip(paint.inks, density))
    return Paint(paint.paper, inks, paint.blend)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# outlines


def knocked_out_outlines(layers: list, blend: str, trap: float = 0.0) -> list:
    """One glyph's outline per layer (skia-pathops Paths) -> each master's outline: under
    `over` each layer less the layers above it, each of those shrunk by `trap` (in the
    outlines' units) so the lower ink runs under its edges; under `multiply` the layers."""
    if blend != "over":
        return list(layers)
    import pathops
    masters = []
    for k, layer in enumerate(layers):
        above = [shrunk(upper, trap) for upper in layers[k + 1:]]
        if not above:
            masters.append(layer)
            continue
        cover = pathops.Path()
        pathops.union(above, cover.getPen())
        masters.append(pathops.op(layer, cover, pathops.PathOp.DIFFERENCE))
    return masters


def shrunk(outline, by: float):
    """An outline moved in by `by` units everywhere (less a round-joined stroke twice as wide
    along its edge): the vector twin of `eroded`."""
    if by <= 0:
        return outline
    import pathops
    edge = pathops.Path(outline)
    edge.stroke(2 * by, pathops.LineCap.ROUND_CAP, pathops.LineJoin.ROUND_JOIN, 4)
    edge.convertConicsToQuads()  # skia's round joins are conics, which its ops refuse
    return pathops.op(outline, edge, pathops.PathOp.DIFFERENCE)
