"""The training video: 64 fixed glyphs drawn now and then, streamed to ffmpeg, so every run,
however short, gives a watchable film of the script being found."""

from __future__ import annotations

import json

import torch

from ..latent import messages

TRAINING_VIDEO_FRAMES = 300  # 5 s at 60 fps however short the run


def frames_due(step: int, train_spec, elapsed: float, budget: float) -> int:
    """Frames the training video should hold by now: spread over the run by its progress
    (steps or minutes, whichever ends it first), so every run gives a watchable video."""
    progress = max(step / train_spec.steps, elapsed / budget)
    return 1 + int(min(progress, 1.0) * (TRAINING_VIDEO_FRAMES - 1))


class TrainingVideo:
    """The video of a run: opened at the start, a frame when one is due, closed at the end
    (what was drawn so far is kept, even if training failed)."""

    def __init__(self, path, spec, device):
        from ..render.writers.video import VideoWriter
        self.fixed = messages(spec.model.message_size, range(64)).to(device)
        self.writer = VideoWriter(path, fps=60 if spec.model.size <= 64 else 30,
                                  comment=json.dumps({"preset": spec.name, "training": True}))
        self.writer.open()

    def update(self, step: int, train_spec, elapsed: float, budget: float, gen, paint) -> None:
        if self.writer.frames < frames_due(step, train_spec, elapsed, budget) \
                or step % train_spec.video_every == 0:
            self.writer.write(training_frame(gen, self.fixed, paint))

    def close(self) -> None:
        self.writer.close(abort=self.writer.frames == 0)


@torch.no_grad()
def training_frame(gen, fixed, paint):
    from ..render.api import glyph_grid
    from ..render.paint import CHALK
    was_training = gen.training
    gen.eval()
    images = gen(fixed).float().cpu()
    gen.train(was_training)
    scale = max(1, 96 // images.shape[-1])
    return glyph_grid(images, cols=8, gap=2, scale=scale, paint=paint or CHALK)
