"""Video frames: which message each cell shows at each frame, and where the cells go.

Every grid cell morphs along its own closed path through its keyframes. Frame k of F is the
path at t = k / F, so frame F would be frame 0 and is never written: the loop is seamless.
"""

from __future__ import annotations

import torch

from ...errors import GlyphartError
from ...latent import INTERPOLATIONS
from .grid import Cell, pixel_grid

MAX_FRAMES = 108_000  # an hour at 30 fps
MAX_FRAME_SIDE = 8192  # VP9's own limit is 16384; a frame of 8192² RGB is 200 MB per frame


def cell_keys(z: torch.Tensor, cells: int) -> torch.Tensor:
    """Split keyframe messages (K*cells, N) into (cells, K, N): cell i gets z[i::cells]."""
    if len(z) < cells:
        raise GlyphartError(f"a {cells}-cell video needs at least {cells} keyframes "
                            f"(one per cell), got {len(z)}; give more seeds")
    keys = len(z) // cells
    return z[: keys * cells].view(keys, cells, -1).transpose(0, 1)


def frame_count(keys: int, fps: int, frames_per_key: int | None, seconds: float | None) -> int:
    frames = round(seconds * fps) if seconds else keys * frames_per_key
    if frames < 2:
        raise GlyphartError("a loop needs at least 2 frames; raise --seconds or --frames-per-key")
    if frames > MAX_FRAMES:
        raise GlyphartError(f"a video of {frames} frames is too long (at most {MAX_FRAMES}, an "
                            "hour at 30 fps); lower --seconds, --frames-per-key or the seeds")
    return frames


def frame_side(cells: int, px: int, gap: int) -> int:
    side = cells * px + (cells - 1) * gap
    if side > MAX_FRAME_SIDE:
        raise GlyphartError(f"video frames would be {side} px wide (at most {MAX_FRAME_SIDE}); "
                            "lower --video-px or --video-grid")
    return side


def check_interp(interp: str) -> None:
    if interp not in INTERPOLATIONS:
        raise GlyphartError(f"unknown interpolation {interp!r}; use {', '.join(INTERPOLATIONS)}")


def frame_messages(keys: torch.Tensor, frames: range, count: int, interp: str) -> torch.Tensor:
    """The messages of `frames` (a range of frame numbers out of `count`), frame by frame and
    cell by cell within a frame: (len(frames) * cells, N)."""
    fn = INTERPOLATIONS[interp]
    return torch.stack([fn(keys[c], k / count) for k in frames for c in range(keys.shape[0])])


def frame_cells(cells: int, cols: int, px: int, gap: int) -> tuple[list[Cell], int, int]:
    """Where each cell's glyph goes in a frame: (cells, width, height), `gap` px between the
    cells and around them."""
    return pixel_grid(cells, cols, px, gap)
