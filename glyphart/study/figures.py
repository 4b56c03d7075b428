"""Figures of the studies: image rows with labels, and charts (matplotlib, Agg), written
atomically as PNG with the study's parameters in the metadata."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from ..atomic import write_bytes
from ..render.api import glyph_grid
from ..render.writers.metadata import metadata_text
from ..render.writers.png import write_image
from .data import require


def _pyplot():
    matplotlib = require("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def image_rows(path: str | Path, rows: list[tuple[str, torch.Tensor]], cell_px: int = 64,
               params: dict | None = None) -> Path:
    """One labelled row of images per entry: [(label, (n, c, h, w) in [0, 1]), ...]."""
    from PIL import Image, ImageDraw, ImageFont
    label_w, gap = 150, 4
    strips = []
    for _, images in rows:
        images = images.float().cpu().clamp(0, 1)
        if images.shape[-1] > cell_px:  # high-resolution presets: shown at cell size
            images = torch.nn.functional.interpolate(images, size=(cell_px, cell_px),
                                                     mode="area")
        scale = max(1, cell_px // images.shape[-1])
        strips.append(glyph_grid(images, cols=len(images), gap=gap, scale=scale))
    width = label_w + max(s.shape[1] for s in strips)
    height = sum(s.shape[0] for s in strips)
    canvas = Image.new("RGB", (width, height), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=14)
    except TypeError:  # Pillow without FreeType
        font = ImageFont.load_default()
    top = 0
    for (label, _), strip in zip(rows, strips):
        canvas.paste(Image.fromarray(strip), (label_w, top))
        draw.text((8, top + strip.shape[0] // 2), label, fill=(230, 230, 230), font=font,
                  anchor="lm")
        top += strip.shape[0]
    return write_image(path, np.asarray(canvas), text=metadata_text(params or {}))


def save_chart(fig, path: str | Path, params: dict | None = None) -> Path:
    """Render a matplotlib figure to PNG bytes, add the metadata, write atomically."""
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": "glyphart"})
    plt.close(fig)
    from PIL import Image
    image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return write_image(path, image, text=metadata_text(params or {}))


def figure(ncols: int = 1, width: float = 6.0, height: float = 3.6):
    plt = _pyplot()
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def write_json(path: str | Path, data: dict) -> Path:
    import json
    write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
    return Path(path)
