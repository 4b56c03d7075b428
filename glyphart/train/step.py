"""One training step: fresh messages -> glyphs -> (inks on paper) -> channel -> decoder ->
the read-back loss and the penalties -> one optimiser step."""

from __future__ import annotations

import math

import torch

from .. import distributed
from ..errors import GlyphartError
from ..inks import composite, training_inks
from ..render.glyphs import has_strokes
from ..sets import in_reading_order, match, stroke_centres
from .penalties import look_penalty, read_back_loss, register_penalty, spread_penalty


def lr_factor(progress: float, final: float, warmup: float = 0.0) -> float:
    """A linear rise from 0 over the first `warmup` of the run, then cosine decay from 1 to
    `final` (progress in [0, 1])."""
    progress = min(max(progress, 0.0), 1.0)
    rise = min(1.0, progress / warmup) if warmup > 0 else 1.0
    return rise * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress)))


def set_learning_rate(run, progress: float) -> None:
    t = run.train_spec
    for group in run.opt.param_groups:  # the carried tensors' group at its share of lr
        group["lr"] = t.lr * lr_factor(progress, t.lr_final, t.warmup) * group["lr_scale"]


def draw(run, z: torch.Tensor, size: int | None = None):
    """(strokes or None, logits (B, C, H, W), each stroke's logits or None) for messages z,
    drawn at [model] size or (strokes) at `size`."""
    gen, train_spec = run.gen, run.train_spec
    strokes = gen.strokes(z) if has_strokes(gen) else None
    each = None  # each stroke's own logits, when its homes are penalised
    if strokes is None:  # a raster draws at its own size; shapes at any
        logits = gen.logits(z) if size is None else gen.logits(z, size)
    elif train_spec.homes > 0:
        each = gen.logits_of(strokes, size, each_stroke=True)
        logits = gen.join_strokes(each, size)
    else:
        logits = gen.logits_of(strokes, size)
    return strokes, logits, each


def picture(run, logits: torch.Tensor) -> torch.Tensor:
    """What the channel sees: the coverage (made unreliable where grey, with logit noise),
    a colour preset's layers laid on paper in random inks."""
    noisy = logits
    if run.train_spec.logit_noise > 0:  # grey becomes unreliable: ink must saturate
        noisy = logits + run.train_spec.logit_noise * torch.randn_like(logits)
    image = torch.sigmoid(noisy)
    if run.paint is not None:
        image = composite(image.float(), *training_inks(run.paint, len(logits), run.device),
                          run.paint.blend)
    return image


def best_order(progress: float, start: float) -> bool:
    """Whether a step at `progress` scores the read-back in its best order: from `start` on,
    and never when start is 1 (a run stopped by time reaches progress 1 on its last step)."""
    return start < 1 and progress >= start


def step_loss(run, z: torch.Tensor, progress: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, read): the message sent through generator -> channel -> decoder, scored."""
    train_spec = run.train_spec
    small = run.drawn_small(progress)  # drawn at the decoder's size, its channel there
    channel = run.reader_channel if small else run.channel
    with run.autocast():
        strokes, logits, each = draw(run, z, run.dec.input_size if small else None)
        seen = channel(picture(run, logits))
        read, corners = run.dec.locate_and_read(seen if small else run.dec.pool(seen))
    if run.sets is not None and best_order(progress, train_spec.best_order_from):
        read = match(read.float(), z, run.sets)  # any order the glyph shows, as eval counts
    elif run.sets is not None:  # strokes come in no order: the decoder reads them left to right
        read = in_reading_order(read.float(), stroke_centres(strokes.points), run.sets)
    loss = read_back_loss(read.float(), z, train_spec.loss, train_spec.bits_target)
    if corners is not None:
        moved = channel.moved_corners().to(run.device)
        loss = loss + train_spec.register_weight * register_penalty(corners, moved)
    loss = loss + look_penalty(torch.sigmoid(logits.float()), train_spec, progress,
                               None if each is None else torch.sigmoid(each.float()))
    if strokes is not None and train_spec.spread > 0:
        loss = loss + train_spec.spread * spread_penalty(strokes, run.spec.model.inset)
    return loss, read


MAX_SKIPPED = 20  # steps in a row with a non-finite loss or gradient: the run has diverged


def finite(loss: torch.Tensor, params) -> bool:
    grads = [p.grad for p in params if p.grad is not None]
    return bool(torch.isfinite(loss).all()) and all(bool(torch.isfinite(g).all()) for g in grads)


def run_buffers(run) -> list[torch.Tensor]:
    return [b for m in (run.gen, run.dec) for b in m.buffers() if b.is_floating_point()]


def running_statistics(run) -> list[torch.Tensor]:
    """Copies of the batch norms' running statistics, which a forward pass updates (a few KB)."""
    return [b.detach().clone() for b in run_buffers(run)]


def skip(run, loss: float) -> None:
    """Count a step whose loss or gradients are not finite, whose update is left out. One
    such step in some thousands (bf16 near a degenerate stroke) is skipped, as a gradient
    scaler skips an overflow: brush's continued run died of one at step 28,956 of about
    33,000 otherwise. Many in a row are divergence."""
    run.skipped += 1
    run.skipped_in_a_row += 1
    if run.skipped_in_a_row >= MAX_SKIPPED:
        raise GlyphartError(f"training diverged at step {run.step} (loss {loss}, "
                            f"{MAX_SKIPPED} steps in a row not finite); lower [train] lr and "
                            "train again")


def train_step(run, progress: float) -> None:
    """One step at `progress` (0-1) through the run: the schedule, a fresh batch (this rank's
    share of it), the update with the gradients averaged over the ranks."""
    set_learning_rate(run, progress)
    if hasattr(run.gen, "sharpen"):  # a kind whose edges sharpen over the run
        run.gen.sharpen(progress, run.train_spec.sharpen)
    z = torch.randn(run.batch, run.spec.model.message_size, device=run.device)
    statistics = running_statistics(run)  # a skipped step must not leave NaN in them either
    loss, read = step_loss(run, z, progress)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    (loss,) = distributed.all_reduce_grads(run.params, loss)  # every rank: the mean loss
    run.step += 1
    if not finite(loss, run.params):
        skip(run, float(loss.detach()))
        for kept, buffer in zip(statistics, run_buffers(run)):
            buffer.copy_(kept)
        return
    run.skipped_in_a_row = 0
    run.opt.step()
    run.loss_value = float(loss.detach())
    if math.isnan(run.loss0):
        run.loss0 = run.loss_value
    run.recent.append((z.detach().cpu(), read.detach().float().cpu()))
    del run.recent[:-16]
