"""Offline data for the studies: scikit-learn's 8 x 8 handwritten digits (1797 images that
ship inside the package, never downloaded), upscaled to a preset's size."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import GlyphartError

EXTRA_HINT = ('install the study extra: pip install -c constraints.txt ".[study]" '
              '(from the glyphart checkout)')


def require(module: str):
    """Import an optional dependency of the studies, or say how to install it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise GlyphartError(f"the studies need {module.split('.')[0]}; {EXTRA_HINT}") from None


def digits(size: int, channels: int = 1, limit: int | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (n, channels, size, size) in [0, 1], white ink on black like the glyphs, and
    their labels (n,). Bicubic upscaling keeps the strokes smooth at any size."""
    datasets = require("sklearn.datasets")
    bunch = datasets.load_digits()
    images = torch.from_numpy(bunch.images).float()[:, None] / 16.0
    labels = torch.from_numpy(bunch.target).long()
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    images = F.interpolate(images, size=(size, size), mode="bicubic", align_corners=False)
    return images.clamp(0, 1).expand(-1, channels, -1, -1).contiguous(), labels


def split(n: int, train_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random split of range(n) into train and held-out indices."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = int(round(n * train_fraction))
    return order[:cut], order[cut:]


def one_per_class(labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """Index of the first example of each class, in class order."""
    return torch.tensor([int((labels == c).nonzero()[0]) for c in range(classes)])
