"""Messages read back as sets: an exchangeable strokes preset's glyph carries its strokes in no
order. Training asks the decoder for them left to right (`in_reading_order`); bits and
identification compare its chunks with the sent ones in their best order (`match`,
`similarity`), less the order no glyph can carry (`SetLayout.order_bits`).

A message of an exchangeable preset is `groups` (its inks, or 1) x `strokes` chunks of `size`
numbers, one chunk per stroke. Within a group the strokes are interchangeable (drawn by one
network from i.i.d. chunks), so the decoder may read them in any order; between groups they are
not (each ink has its own colour). Matching tries every order of each group: K! of them, 24 for
4 strokes, 720 for 6, cheap and exact beside a Hungarian solver's loop over glyphs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import torch


@dataclass(frozen=True)
class SetLayout:
    """How a message splits into sets: `groups` x `strokes` chunks of `size` numbers."""
    groups: int
    strokes: int
    size: int

    @classmethod
    def of(cls, model) -> "SetLayout | None":
        """The layout of a [model] table, or None when its message is an ordered vector."""
        if not model.exchangeable:  # only strokes can be (spec.py)
            return None
        groups = model.inks or 1
        return cls(groups, model.strokes, model.message_size // (groups * model.strokes))

    @property
    def order_bits(self) -> float:
        """What a glyph cannot carry: the order of each group's strokes, log2 K! per group."""
        return self.groups * math.log2(math.factorial(self.strokes))

    def chunks(self, message: torch.Tensor) -> torch.Tensor:
        """(B, N) -> (B, groups, strokes, size)."""
        return message.view(len(message), self.groups, self.strokes, self.size)


@lru_cache(maxsize=8)
def _orders(k: int) -> torch.Tensor:
    """Every order of k items, (k!, k)."""
    return torch.tensor(list(itertools.permutations(range(k))), dtype=torch.long)


def match(read: torch.Tensor, sent: torch.Tensor, layout: SetLayout) -> torch.Tensor:
    """`read` (B, N) reordered, chunk by chunk within each group, to the order of `sent` that
    fits it best (least squared error): what the loss and the bits compare. Differentiable in
    `read` (the order itself is a choice, like a max)."""
    if layout.strokes == 1:
        return read
    r, s = layout.chunks(read), layout.chunks(sent).to(read.dtype)
    orders = _orders(layout.strokes).to(read.device)  # (P, K)
    with torch.no_grad():
        cost = (r.unsqueeze(3) - s.unsqueeze(2)).pow(2).sum(-1)  # (B, G, K read, K sent)
        sent_index = torch.arange(layout.strokes, device=read.device)
        total = cost[:, :, orders, sent_index].sum(-1)  # (B, G, P): read orders[p][k] as k
        best = orders[total.argmin(-1)]  # (B, G, K)
    matched = r.gather(2, best.unsqueeze(-1).expand_as(r))
    return matched.reshape(read.shape)


def stroke_centres(points: torch.Tensor) -> torch.Tensor:
    """Where each stroke is read, (B, K, 2) in the unit square: the middle of its centre line
    (the middle joint, or the middle segment at t = 1/2), a place on its ink that the reader
    can see (the mean of the control points may lie off the stroke, between two others).
    Detached: a place to read, not something to learn."""
    s = (points.shape[2] - 1) // 3
    p = points.detach()
    if s % 2 == 0:
        return p[:, :, 3 * s // 2]
    first = 3 * (s // 2)
    a, b, c, d = (p[:, :, first + i] for i in range(4))
    return (a + 3 * b + 3 * c + d) / 8  # a cubic at t = 1/2


def in_reading_order(read: torch.Tensor, centres: torch.Tensor, layout: SetLayout
                     ) -> torch.Tensor:
    """The decoder's message (B, N), taken as the strokes left to right by their centres
    (B, K, 2), put back in the order they were sent: training compares it so, an order the
    image itself shows. (Matching from the first step instead leaves the reader nothing to
    hold on to: every chunk it reads is matched to whichever sent one is nearest, and all
    learn the mean; docs/presets.md has the trials.)"""
    x = centres[..., 0].view(len(read), layout.groups, layout.strokes)
    position = x.argsort(-1).argsort(-1)  # (B, G, K): where each sent stroke is read
    r = layout.chunks(read)
    return r.gather(2, position.unsqueeze(-1).expand_as(r)).reshape(read.shape)


def similarity(read: torch.Tensor, candidates: torch.Tensor, layout: SetLayout | None
               ) -> torch.Tensor:
    """Cosine similarity (R, C) of decoded messages to candidates, in the best order of each
    decoded message's strokes for each candidate (plain cosine for ordered messages)."""
    read = torch.nn.functional.normalize(read.float(), dim=1)
    candidates = torch.nn.functional.normalize(candidates.float(), dim=1)
    if layout is None or layout.strokes == 1:
        return read @ candidates.T
    r, c = layout.chunks(read), layout.chunks(candidates)
    total = read.new_zeros(len(read), len(candidates))
    for g in range(layout.groups):  # a dot product sums over groups: each its own best order
        best = None  # a running maximum: stacked, the 24 orders' (R, C) made 100 MB at once
        for order in _orders(layout.strokes):
            s = r[:, g, order].flatten(1) @ c[:, g].flatten(1).T
            best = s if best is None else torch.maximum(best, s, out=best)
        total += best
    return total
