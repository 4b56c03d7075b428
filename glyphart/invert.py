"""Find the message whose glyph looks most like a picture: gradient descent on the input of
the frozen generator. The result is a .npy message that `render --message` takes as a glyph
or keyframe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .errors import GlyphartError
from .progress import Progress


MAX_TARGET_PIXELS = 50_000_000


def load_target(path: str | Path, channels: int, size: int) -> torch.Tensor:
    """An image file as a (1, channels, size, size) tensor in [0, 1]."""
    import warnings
    from PIL import Image, UnidentifiedImageError
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and refuses past twice that: both are refused
            # here, before any decoding (a decompression bomb never fills memory).
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            if im.width * im.height > MAX_TARGET_PIXELS:
                raise GlyphartError(f"image {path} is {im.width}x{im.height} px; give one of at "
                                    f"most {MAX_TARGET_PIXELS // 1_000_000} megapixels (it is "
                                    f"shrunk to {size} px anyway)")
            im = im.convert("L" if channels == 1 else "RGB").resize((size, size),
                                                                    Image.Resampling.LANCZOS)
            array = np.asarray(im, dtype=np.float32) / 255.0
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise GlyphartError(f"image {path} is too large to be an image to invert (a "
                            "decompression bomb?); give one of at most "
                            f"{MAX_TARGET_PIXELS // 1_000_000} megapixels") from None
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise GlyphartError(f"cannot read image {path}: {e}") from None
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return torch.from_numpy(array.copy())[None]


def invert(generator, target: torch.Tensor, steps: int = 300, restarts: int = 8,
           lr: float = 0.05, prior: float = 1e-3, seed: int = 0, quiet: bool = True,
           paint=None) -> tuple[torch.Tensor, float]:
    """Messages (restarts, N) optimised in parallel; returns the best one and its MSE.

    A small pull towards the Gaussian shell (|z|^2 ~ N) keeps the message a typical one, so
    it interpolates well with seeded glyphs in videos. A colour preset's ink layers are
    compared as `paint` lays them on paper."""
    draw = generator if paint is None else (lambda z: paint.composite(generator(z)))
    size = generator.spec.message_size
    z = torch.randn(restarts, size, generator=torch.Generator().manual_seed(seed))
    z.requires_grad_(True)
    for p in generator.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam([z], lr=lr)
    target = target.expand(restarts, -1, -1, -1)
    with Progress(steps, "invert", quiet=quiet, unit="step") as bar:
        for _ in range(steps):
            error = ((draw(z) - target) ** 2).mean(dim=(1, 2, 3))
            shell = (z.pow(2).mean(1) - 1).pow(2)
            loss = (error + prior * shell).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.update(mse=float(error.detach().min()))
    with torch.no_grad():
        error = ((draw(z) - target) ** 2).mean(dim=(1, 2, 3))
    best = int(error.argmin())
    return z[best].detach(), float(error[best])


def invert_image(preset, image: str | Path, out: str | Path, steps: int = 300,
                 restarts: int = 8, seed: int = 0, quiet: bool = False) -> tuple[Path, float]:
    from .atomic import atomic_path
    m = preset.spec.model
    if Path(out).suffix != ".npy":
        raise GlyphartError(f"--out {out}: message files end in .npy")
    target = load_target(image, m.channels, m.size)
    z, mse = invert(preset.generator, target, steps=steps, restarts=restarts, seed=seed,
                    quiet=quiet, paint=preset.paint() if m.inks else None)
    out = Path(out)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, z.numpy().astype(np.float32))
    return out, mse
