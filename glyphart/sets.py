"""Messages read back as sets: an exchangeable strokes preset's glyph carries its strokes in no
order, so the decoder's chunks are matched to the sent ones before they are compared.

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
        if model.generator != "strokes" or not getattr(model, "exchangeable", False):
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


def in_reading_order(read: torch.Tensor, points: torch.Tensor, layout: SetLayout
                     ) -> torch.Tensor:
    """`read` (B, N) taken as the strokes in reading order (left to right by the centre of
    each stroke's control points (B, K, P, 2)), put back in the order they were sent.

    Matching from the first step leaves the reader nothing to hold on to (every chunk it reads
    is matched to whichever sent chunk is nearest, so all of them learn the mean: 0 bits after
    600 steps of gray's recipe); reading left to right is an order the image itself shows."""
    x = points.detach().mean(2)[..., 0].view(len(read), layout.groups, layout.strokes)
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
        per_order = torch.stack([r[:, g, order].flatten(1) @ c[:, g].flatten(1).T
                                 for order in _orders(layout.strokes)])
        total += per_order.amax(0)
    return total
