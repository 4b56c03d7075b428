"""The live glyph sheet: `glyphart train --preview FILE` writes the training video's 64 fixed
glyphs to FILE (a PNG, renamed into place, so a viewer never reads half a file) every N steps,
or about once a second, and beside it FILE's .json: the run's step, speed, time left and its
loss and bits so far. An image viewer that reloads the file, or the studio's training panel,
watches the run without touching it."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

from ..atomic import atomic_path, write_text
from ..latent import messages

EVERY_SECONDS = 1.0  # --preview-every 0: a sheet about this often (the studio wants <= 2 s)
PREVIEW_PX = 64  # glyphs drawn at most this size: a 256 px preset's sheet costs a 64 px one's
CURVE_POINTS = 400  # the curve is thinned to every other point past this


class Preview:
    """Opened at the start of a run; `update` after each step writes when one is due."""

    def __init__(self, path, spec, device, every: int = 0):
        self.path = Path(path)
        self.status_path = self.path.with_suffix(".json")
        self.fixed = messages(spec.model.message_size, range(64)).to(device)
        self.every, self.name = every, spec.name
        self.last_written = -math.inf
        self.curve: list[list] = []
        self.losses: list[float] = []  # since the last point of the curve

    def update(self, run, clock, bits: float) -> None:
        self.losses.append(run.loss_value)
        due = run.step % self.every == 0 if self.every else \
            time.perf_counter() - self.last_written >= EVERY_SECONDS
        if due:
            self.write(run, clock, bits, "training")

    def write(self, run, clock, bits: float, state: str) -> None:
        """The sheet, then the numbers (so the numbers never describe a sheet not yet there)."""
        self.last_written = time.perf_counter()
        self._add_point(run.step, bits)
        write_png(self.path, preview_sheet(run.gen, self.fixed, run.paint))
        write_text(self.status_path, json.dumps(self.status(run, clock, bits, state)) + "\n")

    def _add_point(self, step: int, bits: float) -> None:
        finite = [x for x in self.losses if math.isfinite(x)]
        if finite and (not self.curve or self.curve[-1][0] != step):
            self.curve.append([step, round(sum(finite) / len(finite), 5),
                               round(bits, 2) if math.isfinite(bits) else None])
        self.losses = []
        if len(self.curve) > CURVE_POINTS:  # every other point, and the newest
            self.curve = self.curve[::2] + ([] if len(self.curve) % 2 else self.curve[-1:])

    def status(self, run, clock, bits: float, state: str) -> dict:
        train_spec, elapsed = run.train_spec, clock.elapsed()
        done = run.step - run.start
        speed = done / max(elapsed - run.elapsed0, 1e-9)
        by_steps = (train_spec.steps - run.step) / speed if speed > 0 else math.inf
        left = min(by_steps, max(run.budget - elapsed, 0.0))
        return {"preset": self.name, "state": state, "step": run.step,
                "steps": train_spec.steps, "elapsed": round(elapsed, 2),
                "minutes": train_spec.minutes, "steps_per_second": round(speed, 3),
                "seconds_left": round(left, 1) if math.isfinite(left) else None,
                "loss": round(run.loss_value, 5) if math.isfinite(run.loss_value) else None,
                "bits": round(bits, 2) if math.isfinite(bits) else None,
                "curve": self.curve, "sheet": self.path.name, "written": time.time()}


def write_png(path: Path, rgb) -> None:
    """A PNG renamed into place, compressed lightly: a sheet a second is written for a
    viewer, not kept (25 ms for 530 px against 40-50 ms with the render writer's filters)."""
    from PIL import Image
    with atomic_path(path) as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG", compress_level=1)


@torch.no_grad()
def preview_sheet(gen, fixed: torch.Tensor, paint):
    """The 64 glyphs, 8 a row, at most PREVIEW_PX a side, in the run's paint (uint8 RGB)."""
    from ..render.api import glyph_grid
    from ..render.glyphs import render_glyphs
    was_training = gen.training
    gen.eval()
    try:
        images = render_glyphs(gen, fixed, px=min(gen.spec.size, PREVIEW_PX)).float().cpu()
    finally:
        gen.train(was_training)
    return glyph_grid(images, cols=8, gap=2, paint=paint)
