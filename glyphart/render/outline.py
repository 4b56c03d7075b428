"""The geometry of outlines, as skia-pathops Paths: strokes as joined capsules, a raster
field's zero level as smooth rings, and back to polygons, pixels and hatch lines.

A stroke preset's glyph is vectors already: every polyline piece of a stroke, with its two
radii, is the convex hull of two circles (a tapered capsule); skia-pathops joins the pieces and
the strokes into one outline with the overlaps removed, clipped to the glyph's square (strokes
may run off it). A raster preset's glyph has a natural outline too: the zero level of its
logit field, the same field the ink style enlarges and sharpens. contourpy traces it on the
bicubically enlarged field (sub-pixel, holes kept as holes), specks are dropped and each ring
becomes a smooth chain of cubic curves through the traced points. Either way the outline,
filled, is the raster glyph. glyphs.py says which outline a preset's glyph has.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..strokes import Strokes, centre_lines, samples_per_segment
from .enlarge import enlarge_rows

ARC_POINTS = 24  # points on a stroke end's half circle: under 1/100 of a radius off
JOINT_ARC_POINTS = 10  # inside a stroke, where neighbours hide all but a sliver of each arc
TRACE_OVERSAMPLE = 4  # the logit field is traced at 4x its native resolution
SPECK = 0.003  # rings under this share of the square are specks (as the look measures)
STROKE_BASIS = 1024  # strokes are outlined on a square of at most this side, then scaled:
# a larger poster gains nothing visible (the centre line's chord error is 1/4000 of the side)


# ---------------------------------------------------------------------------------------------
# strokes


def _capsule(a, b, ra: float, rb: float, arc_points: int = ARC_POINTS
             ) -> list[tuple[float, float]]:
    """The convex hull of two circles (a, ra) and (b, rb) as a polygon, counter-clockwise."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length <= abs(ra - rb):  # one circle holds the other
        centre, r = (a, ra) if ra >= rb else (b, rb)
        return [(centre[0] + r * math.cos(t), centre[1] + r * math.sin(t))
                for t in (math.pi * i / arc_points for i in range(2 * arc_points))]
    angle = math.atan2(dy, dx)
    spread = math.acos((ra - rb) / length)  # where the tangent lines touch each circle
    points = []
    for centre, r, start, end in ((b, rb, angle - spread, angle + spread),
                                  (a, ra, angle + spread, angle + 2 * math.pi - spread)):
        for i in range(arc_points + 1):
            t = start + (end - start) * i / arc_points
            points.append((centre[0] + r * math.cos(t), centre[1] + r * math.sin(t)))
    return points


def stroke_outline(strokes: Strokes, size: float, clip: bool = True):
    """One glyph's strokes (a Strokes of batch 1) as a skia-pathops Path in a square of side
    `size`, y down, overlaps removed and (with `clip`) clipped to the square."""
    import pathops
    basis = min(size, STROKE_BASIS)
    pts, rad = centre_lines(strokes, samples_per_segment(strokes, int(basis)))
    pts, rad = pts[0].double() * basis, rad[0].double() * basis
    pieces = pathops.Path()
    pen = pieces.getPen()
    for stroke_pts, stroke_rad in zip(pts.tolist(), rad.tolist()):
        last = len(stroke_pts) - 2
        for i in range(last + 1):
            arc = ARC_POINTS if i in (0, last) else JOINT_ARC_POINTS
            _polygon(pen, _capsule(stroke_pts[i], stroke_pts[i + 1], stroke_rad[i],
                                   stroke_rad[i + 1], arc))
    # Every capsule winds the same way: under the nonzero rule their simplification is their
    # union (in skia, without a round trip through Python pens).
    joined = pathops.simplify(pieces, fix_winding=True)
    if clip:
        joined = pathops.op(joined, _square(basis), pathops.PathOp.INTERSECTION)
    return joined if basis == size else joined.transform(size / basis, 0, 0, size / basis)


def _polygon(pen, points) -> None:
    pen.moveTo(points[0])
    for point in points[1:]:
        pen.lineTo(point)
    pen.closePath()


def _square(size: float):
    import pathops
    square = pathops.Path()
    _polygon(square.getPen(), [(0, 0), (size, 0), (size, size), (0, size)])
    return square


# ---------------------------------------------------------------------------------------------
# raster fields


def field_outline(logits: torch.Tensor, size: float):
    """The zero level of one logit field (H, W) as a Path of smooth cubic rings in a square of
    side `size`, y down; specks dropped, holes kept (winding fixed by skia-pathops)."""
    n = logits.shape[-1] * TRACE_OVERSAMPLE
    return traced_outline(enlarge_rows(logits[None, None].float(), n, n)[0, 0], size)


def traced_outline(field: torch.Tensor, size: float, speck: float = SPECK):
    """The zero level of a field already sampled finely (n x n pixel centres), as
    `field_outline` gives it: smooth cubic rings, holes kept, rings under `speck` of the
    square dropped (an exact field has no enlarging noise to drop: speck 0 keeps them all)."""
    import contourpy
    import pathops
    n = field.shape[-1]
    field = field.double().numpy()
    # Sample points at the fine pixels' centres, plus the square's own edges (edge values
    # repeated), so shapes that touch the border close along it, as the raster's do.
    field = np.pad(field, 1, mode="edge")
    axis = np.concatenate([[0.0], (np.arange(n) + 0.5) / n, [1.0]]) * size
    generator = contourpy.contour_generator(axis, axis, field, fill_type="OuterOffset")
    rings = []
    for points, offsets in zip(*generator.filled(0.0, max(float(field.max()), 0.0) + 1.0)):
        rings += [points[a:b - 1] for a, b in zip(offsets[:-1], offsets[1:])]  # drop repeats
    path = pathops.Path()
    pen = path.getPen()
    for ring in rings:
        if abs(_area(ring)) >= speck * size * size and len(ring) >= 3:
            _smooth_ring(pen, ring[::2] if len(ring) >= 12 else ring)
    return pathops.simplify(path, fix_winding=True)


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _smooth_ring(pen, ring: np.ndarray) -> None:
    """A closed Catmull-Rom curve through the ring's points, as cubic Béziers: it passes
    through every traced point with a continuous tangent (no polygon corners when enlarged)."""
    before, after, after2 = np.roll(ring, 1, 0), np.roll(ring, -1, 0), np.roll(ring, -2, 0)
    c1 = ring + (after - before) / 6
    c2 = after - (after2 - ring) / 6
    pen.moveTo(tuple(ring[0]))
    for i in range(len(ring)):
        pen.curveTo(tuple(c1[i]), tuple(c2[i]), tuple(after[i]))
    pen.closePath()


# ---------------------------------------------------------------------------------------------
# back to pixels (tests, previews)


def flatten(path, tolerance_steps: int = 8) -> list[np.ndarray]:
    """The closed contours of a Path as polygons (curves sampled `tolerance_steps` times)."""
    contours, current, last = [], [], (0.0, 0.0)
    for verb, points in path.segments:
        if verb == "moveTo":
            current, last = [points[0]], points[0]
        elif verb == "lineTo":
            current.append(points[0])
            last = points[0]
        elif verb in ("curveTo", "qCurveTo"):
            control = [last, *points]
            t = np.linspace(0, 1, tolerance_steps + 1)[1:, None]
            c = np.array(control, dtype=float)
            if len(c) == 4:
                pts = ((1 - t) ** 3 * c[0] + 3 * (1 - t) ** 2 * t * c[1]
                       + 3 * (1 - t) * t ** 2 * c[2] + t ** 3 * c[3])
            else:  # one quadratic (pathops splits longer TrueType runs)
                pts = (1 - t) ** 2 * c[0] + 2 * (1 - t) * t * c[1] + t ** 2 * c[-1]
            current += [tuple(p) for p in pts]
            last = points[-1]
        elif verb in ("closePath", "endPath") and current:
            contours.append(np.array(current))
            current = []
    return contours


def outline_mask(path, size: int) -> np.ndarray:
    """The outline filled at size x size pixels (bool): a pixel is ink when its centre is
    inside, contours combined even-odd (after pathops.simplify holes lie inside others)."""
    edges = [np.stack([poly, np.roll(poly, -1, 0)], 1) for poly in flatten(path)]
    if not edges:
        return np.zeros((size, size), bool)
    (x0, y0), (x1, y1) = np.concatenate(edges).transpose(1, 2, 0)
    rows = np.arange(size) + 0.5
    crosses = (y0[:, None] <= rows) != (y1[:, None] <= rows)  # (edges, rows)
    e, r = crosses.nonzero()
    x = x0[e] + (rows[r] - y0[e]) * (x1[e] - x0[e]) / (y1[e] - y0[e])
    # Count crossings left of each pixel centre: a crossing at x flips pixels from ceil(x - 0.5).
    flips = np.zeros((size, size + 1), np.int32)
    np.add.at(flips, (r, np.clip(np.ceil(x - 0.5), 0, size).astype(int)), 1)
    return (np.cumsum(flips, 1)[:, :size] & 1).astype(bool)


def hatch_lines(contours: list[np.ndarray], side: float, spacing: float) -> list[np.ndarray]:
    """Horizontal lines `spacing` apart across the inside of the contours (even-odd)."""
    if not contours:
        return []
    edges = np.concatenate([np.stack([c, np.roll(c, -1, 0)], 1) for c in contours])
    (x0, y0), (x1, y1) = edges.transpose(1, 2, 0)
    lines = []
    for y in np.arange(spacing / 2, side, spacing):
        hit = (y0 <= y) != (y1 <= y)
        xs = np.sort(x0[hit] + (y - y0[hit]) * (x1[hit] - x0[hit]) / (y1[hit] - y0[hit]))
        lines += [np.array([[a, y], [b, y]]) for a, b in zip(xs[::2], xs[1::2])]
    return lines
