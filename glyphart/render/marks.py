"""Printer's marks: crop marks at the trim's corners and registration targets beside its
sides, on a border added around the page. The same shapes go on every master (a printer lines
the drums up by them) and on the composite, as pixels (a band of rows at a time) or as one
outline.

Shapes are axis-aligned bars and rings, in page pixels: simple enough to cover exactly per
pixel, so the PNG and the vector masters agree to a fraction of a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BORDER_MM = 12.0  # added on every side: room for the crop marks and the targets
BLEED_MM = 3.0  # crop marks start this far out, so a cut a little off the trim never shows them
CROP_MM = 6.0  # crop mark length
TARGET_MM = 2.5  # registration target: ring radius (its cross reaches 1.5 radii out)
LINE_MM = 0.1  # a hairline (0.28 pt), at least a pixel wide
KAPPA = 0.5522847498  # cubic Bezier handles for a quarter circle


@dataclass(frozen=True)
class Bar:
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Ring:
    cx: float
    cy: float
    outer: float
    inner: float


def border_px(dpi: float) -> int:
    return round(BORDER_MM / 25.4 * dpi)


def framed(width: int, height: int, cells: list, dpi: float) -> tuple[int, int, list, int]:
    """The page enlarged by the border on every side, the cells moved with it, and the
    border in pixels (the trim is the old page, `border` in from each edge)."""
    b = border_px(dpi)
    return width + 2 * b, height + 2 * b, [(x + b, y + b, side) for x, y, side in cells], b


def shapes(width: int, height: int, dpi: float) -> list:
    """The marks of a framed page of width x height pixels (its border as border_px says)."""
    mm = dpi / 25.4
    b = border_px(dpi)
    line = max(1.0, LINE_MM * mm)
    left, top, right, bottom = b, b, width - b, height - b
    found = []
    for x, out_x in ((left, -1), (right, 1)):
        for y, out_y in ((top, -1), (bottom, 1)):
            near, far = BLEED_MM * mm, (BLEED_MM + CROP_MM) * mm
            found.append(_bar(x + out_x * near, y, x + out_x * far, y, line))
            found.append(_bar(x, y + out_y * near, x, y + out_y * far, line))
    r = TARGET_MM * mm
    for cx, cy in (((left + right) / 2, b / 2), ((left + right) / 2, height - b / 2),
                   (b / 2, (top + bottom) / 2), (width - b / 2, (top + bottom) / 2)):
        found += [Ring(cx, cy, r + line / 2, r - line / 2),
                  _bar(cx - 1.5 * r, cy, cx + 1.5 * r, cy, line),
                  _bar(cx, cy - 1.5 * r, cx, cy + 1.5 * r, line)]
    return found


def _bar(x0: float, y0: float, x1: float, y1: float, line: float) -> Bar:
    """A line from (x0, y0) to (x1, y1), horizontal or vertical, `line` wide."""
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    return Bar(x0 - line / 2 if x0 == x1 else x0, y0 - line / 2 if y0 == y1 else y0,
               x1 + line / 2 if x0 == x1 else x1, y1 + line / 2 if y0 == y1 else y1)


# ---------------------------------------------------------------------------------------------
# pixels


def coverage_rows(marks: list, width: int, first: int, end: int) -> np.ndarray:
    """(end - first, width) float32 coverage of the marks in rows [first, end): the share of
    each pixel a bar covers exactly, a ring to within its anti-aliasing."""
    band = np.zeros((end - first, width), np.float32)
    for shape in marks:
        box = _pixel_box(shape, width, first, end)
        if box is None:
            continue
        x0, x1, y0, y1 = box
        cover = _bar_cover(shape, x0, x1, y0, y1) if isinstance(shape, Bar) else \
            _ring_cover(shape, x0, x1, y0, y1)
        view = band[y0 - first:y1 - first, x0:x1]
        np.maximum(view, cover, out=view)
    return band


def _pixel_box(shape, width: int, first: int, end: int):
    if isinstance(shape, Bar):
        left, top, right, bottom = shape.x0, shape.y0, shape.x1, shape.y1
    else:
        left, top = shape.cx - shape.outer - 1, shape.cy - shape.outer - 1
        right, bottom = shape.cx + shape.outer + 1, shape.cy + shape.outer + 1
    x0, x1 = max(0, math.floor(left)), min(width, math.ceil(right))
    y0, y1 = max(first, math.floor(top)), min(end, math.ceil(bottom))
    return (x0, x1, y0, y1) if x0 < x1 and y0 < y1 else None


def _overlap(lo: float, hi: float, start: int, stop: int) -> np.ndarray:
    """How much of each pixel [i, i + 1), i in [start, stop), lies inside [lo, hi]."""
    edges = np.arange(start, stop, dtype=np.float64)
    return np.clip(np.minimum(edges + 1, hi) - np.maximum(edges, lo), 0, 1)


def _bar_cover(bar: Bar, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    return np.outer(_overlap(bar.y0, bar.y1, y0, y1), _overlap(bar.x0, bar.x1, x0, x1))


def _ring_cover(ring: Ring, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    ys, xs = np.arange(y0, y1) + 0.5 - ring.cy, np.arange(x0, x1) + 0.5 - ring.cx
    distance = np.hypot(ys[:, None], xs[None, :])
    return np.clip(ring.outer + 0.5 - distance, 0, 1) - np.clip(ring.inner + 0.5 - distance,
                                                                0, 1)


# ---------------------------------------------------------------------------------------------
# outlines


def outline(marks: list):
    """The marks as one skia-pathops Path in page pixels (y down), overlaps joined."""
    import pathops
    pieces = pathops.Path()
    for shape in marks:
        if isinstance(shape, Bar):
            _rectangle(pieces, shape)
        else:
            _circle(pieces, shape.cx, shape.cy, shape.outer, clockwise=True)
            _circle(pieces, shape.cx, shape.cy, shape.inner, clockwise=False)  # the hole
    return pathops.simplify(pieces)


def _rectangle(path, bar: Bar) -> None:
    path.moveTo(bar.x0, bar.y0)
    path.lineTo(bar.x1, bar.y0)
    path.lineTo(bar.x1, bar.y1)
    path.lineTo(bar.x0, bar.y1)
    path.close()


def _circle(path, cx: float, cy: float, r: float, clockwise: bool) -> None:
    """Four cubic quarters, clockwise on screen (y down, as the bars wind) or against it."""
    turn = 1 if clockwise else -1
    points = [(cx + r * math.cos(a), cy + turn * r * math.sin(a))
              for a in (0, math.pi / 2, math.pi, 3 * math.pi / 2, 2 * math.pi)]
    path.moveTo(*points[0])
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        k = KAPPA * turn  # handles along the tangent, turn * (-(y - cy), x - cx) at each end
        path.cubicTo(ax - k * (ay - cy), ay + k * (ax - cx),
                     bx + k * (by - cy), by - k * (bx - cx), bx, by)
    path.close()
