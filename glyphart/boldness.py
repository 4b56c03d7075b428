"""Boldness, frames and crispness: the look figures the bold-shapes presets are held to.

All on binarised ink (over 0.5, any layer) relative to the glyph's cell, like metrics.py's
look: how much of the cell is ink, how thick its shapes are, whether glyphs draw a ring or
corner marks (a frame the decoder could lean on), whether the margin carries more ink than
the middle, and how many grey pixels an edge has when the glyph is drawn large.
"""

from __future__ import annotations

import numpy as np
import torch

from .metrics import ink_masks

RING_SPAN = 0.8    # a part spanning over this share of the cell both ways...
MARGIN = 0.1       # the cell's outer tenth
CORNER = 0.25      # a corner mark lies within this share of the side from two edges
LARGE_PX = 1024    # crispness is judged drawn this large


def thickness(mask: np.ndarray) -> float:
    """2 x ink area / skeleton length, as a share of the cell side (0 for no ink): a bar
    of width w scores about 2w, the source's bold blobs 0.41, thin strokes 0.2."""
    from skimage.morphology import skeletonize
    length = int(skeletonize(mask).sum())
    return 2 * float(mask.sum()) / max(length, 1) / mask.shape[-1] if mask.any() else 0.0


def has_ring(mask: np.ndarray) -> bool:
    """A part whose bounding box spans over RING_SPAN of the cell both ways and whose hole
    holds the cell's centre: a frame around the glyph's middle."""
    from scipy import ndimage
    labels, count = ndimage.label(mask)
    h, w = mask.shape
    for i, (rows, cols) in enumerate(ndimage.find_objects(labels), 1):
        if (rows.stop - rows.start) > RING_SPAN * h and (cols.stop - cols.start) > RING_SPAN * w:
            filled = ndimage.binary_fill_holes(labels == i)
            if filled[h // 2, w // 2] and not mask[h // 2, w // 2]:
                return True
    return False


def corner_marks(mask: np.ndarray) -> bool:
    """A part confined to each of the four corner squares (a quarter of the side each way):
    marks to register by. Shapes that merely run through the corners, as the source's often
    do, are not marks."""
    from scipy import ndimage
    labels, _ = ndimage.label(mask)
    n, side = max(1, round(CORNER * mask.shape[0])), mask.shape[0]
    found = set()
    for rows, cols in ndimage.find_objects(labels):
        for corner, (r, c) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            inside_rows = rows.stop <= n if r == 0 else rows.start >= side - n
            inside_cols = cols.stop <= n if c == 0 else cols.start >= side - n
            if inside_rows and inside_cols:
                found.add(corner)
    return len(found) == 4


def margin_ratio(masks: np.ndarray) -> float:
    """Ink density in the cells' outer tenth over that in their middle half (over all glyphs):
    above 1, glyphs lean on their frame."""
    size = masks.shape[-1]
    u = (np.arange(size) + 0.5) / size
    edge = np.minimum(u, 1 - u) < MARGIN
    outer = edge[:, None] | edge[None, :]
    middle = (np.abs(u - 0.5) < 0.25)[:, None] & (np.abs(u - 0.5) < 0.25)[None, :]
    return float(masks[:, outer].mean() / max(masks[:, middle].mean(), 1e-9))


def grey_per_edge(coverage: torch.Tensor) -> float:
    """Grey pixels (0.1-0.9) per edge pixel (one whose binarised value differs from a right
    or lower neighbour's), over glyphs drawn large: about 1-2 for edges anti-aliased to a
    pixel, many more for a blurry enlargement."""
    ink = coverage > 0.5
    edges = torch.zeros_like(ink)
    edges[..., :-1, :] |= ink[..., :-1, :] != ink[..., 1:, :]
    edges[..., :, :-1] |= ink[..., :, :-1] != ink[..., :, 1:]
    grey = ((coverage > 0.1) & (coverage < 0.9)).sum()
    return float(grey) / max(int(edges.sum()), 1)


def boldness(glyphs: torch.Tensor, large: torch.Tensor | None = None) -> dict:
    """The figures for glyphs (B, layers, H, W) at native size; `large` the same glyphs drawn
    at LARGE_PX (a few suffice) for crispness."""
    masks = ink_masks(glyphs.float()).cpu().numpy()
    figures = {
        "ink": round(float(masks.mean()), 3),
        "thickness": round(float(np.mean([thickness(m) for m in masks if m.any()] or [0])), 3),
        "rings": int(sum(has_ring(m) for m in masks)),
        "corner_marks": int(sum(corner_marks(m) for m in masks)),
        "margin_ratio": round(margin_ratio(masks), 3),
    }
    if large is not None:
        figures["grey_per_edge"] = round(grey_per_edge(large.float()), 2)
    return figures
