"""Looping latent-interpolation videos: every grid cell morphs along its own closed path.

Frame k of F is the path at t = k / F, so frame F would be frame 0 and is never written: the
loop is seamless. Frames are generated a chunk at a time and streamed to ffmpeg, which encodes
in its own process while the next chunk is generated.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from ..errors import GlyphartError
from ..latent import INTERPOLATIONS, messages
from ..progress import Progress
from ..precision import native_bf16
from .output import metadata_text
from .frames import draw, draws_any_size, exact_images, generate_logits, glyph_grid
from .sheet import Look, _compact
from .video import DEFAULT_SPEED, FORMATS, VideoWriter

CHUNK = 8  # frames generated per generator call
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


def loop_frames(generator, keys: torch.Tensor, frames: int, interp: str, px: int, look: Look,
                paint, cols: int, gap: int):
    """Yield uint8 frames of the loop."""
    fn = INTERPOLATIONS[interp]
    cells = keys.shape[0]
    for start in range(0, frames, CHUNK):
        ks = range(start, min(start + CHUNK, frames))
        z = torch.stack([fn(keys[c], k / frames) for k in ks for c in range(cells)])
        if draws_any_size(generator):
            images = exact_images(generator, z, px)
        else:
            # bf16 on the CPU: 2.9x less generation time (measured on hd-color), a mean pixel
            # change of 0.001, where the CPU has bf16 natively (elsewhere emulated: slower).
            # Videos are throughput-bound; sheets and posters stay fp32.
            logits = generate_logits(generator, z, bf16=native_bf16())
            # ink: the gain is measured per frame from the frame itself, so it moves smoothly
            # along the path (one gain per cell for the whole loop would pop between keys).
            images = draw(logits, px, look.style)
        for i in range(len(ks)):
            yield glyph_grid(images[i * cells:(i + 1) * cells], cols=cols, gap=gap,
                             paint=paint)


def render_video(preset, seeds: list[int], path: str | Path, grid: tuple[int, int] = (1, 1),
                 frames_per_key: int | None = None, seconds: float | None = None,
                 fps: int | None = None, interp: str | None = None, px: int | None = None,
                 gap: int | None = None, look: Look | None = None, crf: int = 30,
                 speed: int = DEFAULT_SPEED, z: torch.Tensor | None = None, quiet: bool = False,
                 extra: dict | None = None) -> Path:
    """Write a looping interpolation video (.webm VP9, .mp4 H.264 or .gif)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GlyphartError(f"unsupported video format {path.suffix or '(none)'!r} for {path}; "
                            f"use {', '.join(FORMATS)}")
    r = preset.spec.render
    look = look or Look.from_preset(preset)
    fps = fps or r.fps
    interp = interp or r.interp
    if interp not in INTERPOLATIONS:
        raise GlyphartError(f"unknown interpolation {interp!r}; use {', '.join(INTERPOLATIONS)}")
    px = px or r.video_px or 2 * preset.spec.model.size
    gap = (r.gap if gap is None else gap) if grid != (1, 1) else 0
    cells = grid[0] * grid[1]
    z = messages(preset, seeds) if z is None else z
    frame_side(max(grid), px, gap)
    keys = cell_keys(z, cells)
    frames = frame_count(keys.shape[1], fps, frames_per_key or r.frames_per_key, seconds)
    paint = look.paint(preset)
    params = {"kind": "video", "preset": preset.name, "weights": preset.weights_hash,
              "seeds": _compact(list(seeds)), **(extra or {}),
              "options": {"grid": f"{grid[0]}x{grid[1]}", "frames": frames, "fps": fps,
                          "interp": interp, "px": px, "crf": crf, "speed": speed,
                          **asdict(look)}}
    with VideoWriter(path, fps=fps, crf=crf, speed=speed,
                     comment=metadata_text(params)["glyphart"]) as writer, \
            Progress(frames, f"video {path.name}", quiet=quiet, unit="frame") as bar:
        for frame in loop_frames(preset.generator, keys, frames, interp, px, look, paint,
                                 grid[1], gap):
            writer.write(frame)
            bar.update()
    return path
