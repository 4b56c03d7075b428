"""The training loop: fresh random messages, generator -> channel -> decoder, read-back loss.

Checkpoints (safetensors + JSON metadata, nothing pickled) are written atomically every few
minutes and on Ctrl-C / SIGTERM; `resume=True` continues with optimizer and RNG state.
"""

from __future__ import annotations

import json
import math
import platform
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from . import __version__
from .atomic import atomic_path, keep_numbered_backup, write_text
from .channel import build_channel
from .errors import GlyphartError
from .inks import composite, make_paint, training_inks
from .latent import messages
from .metrics import bits_from_correlation, evaluate, homes, shared_layout
from .models import build_models
from .lock import exclusive_lock
from .presets import (Preset, PresetFiles, check_tensor_values, module_part, read_tensors,
                      refuse_builtin, save_weights)
from .precision import autocast as precision_autocast, training_precision
from .progress import Progress
from .sets import SetLayout, in_reading_order, stroke_centres
from .spec import Spec, dump_spec

CHECKPOINT_FORMAT = "glyphart-checkpoint-1"


def checkpoint_path(out_toml: Path) -> Path:
    return out_toml.with_suffix(".checkpoint.safetensors")


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise GlyphartError("--device cuda: no CUDA device is available here; use --device cpu")
    return torch.device(device)


# ---------------------------------------------------------------------------------------------
# checkpoints: tensors in safetensors, scalars in its metadata


def _save_checkpoint(path: Path, spec: Spec, gen, dec, opt, step: int, elapsed: float,
                     cpu: float, loss0: float) -> None:
    from safetensors.torch import save_file
    tensors = {f"generator.{k}": v.detach().cpu().contiguous() for k, v in gen.state_dict().items()}
    tensors |= {f"decoder.{k}": v.detach().cpu().contiguous() for k, v in dec.state_dict().items()}
    for i, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"optim.{i}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.cpu"] = torch.get_rng_state()
    meta = {"format": CHECKPOINT_FORMAT, "model_hash": spec.model_hash, "step": str(step),
            "elapsed": repr(elapsed), "cpu": repr(cpu), "loss0": repr(loss0)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def _load_checkpoint(path: Path, spec: Spec, gen, dec, opt) -> dict:
    tensors, meta = read_tensors(path, "checkpoint", "delete it and train without --resume")
    if meta.get("format") != CHECKPOINT_FORMAT or meta.get("model_hash") != spec.model_hash:
        raise GlyphartError(f"checkpoint {path} belongs to a different [model] table; "
                            "delete it and train without --resume")
    damaged = GlyphartError(f"checkpoint {path} is damaged or incomplete; delete it and "
                            "train without --resume")
    try:
        for prefix, module in (("generator", gen), ("decoder", dec)):
            part = module_part(tensors, prefix, module)
            if part is None:
                raise damaged
            check_tensor_values(part, module.state_dict(), f"checkpoint {path}",
                                "delete it and train without --resume")
            module.load_state_dict(part)
        state = opt.state_dict()
        for name, value in tensors.items():
            if name.startswith("optim."):
                _, i, key = name.split(".", 2)
                state["state"].setdefault(int(i), {})[key] = value
        opt.load_state_dict(state)
        torch.set_rng_state(tensors["rng.cpu"])
        numbers = {"step": int(meta["step"]), "elapsed": float(meta["elapsed"]),
                   "cpu": float(meta["cpu"]), "loss0": float(meta["loss0"])}
    except (KeyError, ValueError, RuntimeError, TypeError):
        raise damaged from None
    if numbers["step"] < 0 or not all(math.isfinite(numbers[k]) for k in ("elapsed", "cpu")):
        raise damaged
    return numbers


# ---------------------------------------------------------------------------------------------


class _Interrupted(Exception):
    pass


def _raise_interrupt(signum, frame):
    raise _Interrupted()


def _lr_factor(progress: float, final: float) -> float:
    """Cosine decay from 1 to `final` over the run (progress in [0, 1])."""
    progress = min(max(progress, 0.0), 1.0)
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))


def _machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "threads": torch.get_num_threads(), "platform": platform.platform(),
            "python": platform.python_version()}


def train(spec: Spec, out: Path, steps: int | None = None, minutes: float | None = None,
          resume: bool = False, video: str | Path | None = None, device: str = "cpu",
          quiet: bool = False, evaluate_after: bool = True, eval_messages: int = 4096,
          monitor=None) -> dict:
    """Train `spec`, writing out (TOML), weights and record beside it. Returns the record.

    `monitor(step, generator, decoder)`, if given, runs after every step; returning True
    stops training there (benchmarks use it to time how fast a recipe reaches a quality). Its
    own time is not the training's: it counts toward neither the minutes, the schedule (learning
    rate, look ramp) nor the record's CPU minutes, so a monitored run trains as an unmonitored
    one does."""
    out = Path(out)
    refuse_builtin(out, "train it")
    with exclusive_lock(out, f"a training of {out}"):
        return _train(spec, out, steps, minutes, resume, video, device, quiet, evaluate_after,
                      eval_messages, monitor)


def _train(spec: Spec, out: Path, steps, minutes, resume, video, device, quiet, evaluate_after,
           eval_messages, monitor) -> dict:
    train_spec = spec.train
    if steps is not None:
        train_spec = replace(train_spec, steps=steps)
    if minutes is not None:
        train_spec = replace(train_spec, minutes=minutes)
    spec = replace(spec, train=train_spec, name=spec.name or out.stem)
    dev = resolve_device(device)
    ckpt = checkpoint_path(out)

    torch.manual_seed(train_spec.seed)
    gen, dec = build_models(spec.model)
    gen, dec = gen.to(dev), dec.to(dev)
    if dev.type == "cpu":  # oneDNN's convolutions run 1.3-1.5x faster so (bench: options)
        gen, dec = (m.to(memory_format=torch.channels_last) for m in (gen, dec))
    # The channel runs at the glyph's own resolution, as the reference channel does: warping
    # a pooled view instead smooths away part of the noise, and the decoder then learns to
    # expect less than eval gives it.
    channel = build_channel(spec.channel, spec.model.size).to(dev)
    params = list(gen.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=train_spec.lr)

    warm_start = None
    if train_spec.init_from and not resume:
        warm_start = _init_from(train_spec.init_from, gen, dec)

    start, elapsed0, cpu0, loss0 = 0, 0.0, 0.0, float("nan")
    if resume:
        if not ckpt.is_file():
            raise GlyphartError(f"--resume: no checkpoint at {ckpt}; train without --resume")
        state = _load_checkpoint(ckpt, spec, gen, dec, opt)
        start, elapsed0, cpu0, loss0 = state["step"], state["elapsed"], state["cpu"], state["loss0"]
    elif ckpt.exists():
        raise GlyphartError(f"a checkpoint of an unfinished run exists at {ckpt}; "
                            "continue it with --resume or delete it to start over")

    # The training video: 64 fixed messages drawn every video_every steps, streamed to ffmpeg.
    writer = None
    if video is not None:
        from .render.writers.video import VideoWriter
        fixed = messages(spec.model.message_size, range(64)).to(dev)
        writer = VideoWriter(video, fps=60 if spec.model.size <= 64 else 30,
                             comment=json.dumps({"preset": spec.name, "training": True}))
        writer.open()

    # A colour preset's layers are laid on paper in its palette and in random inks (inks.py).
    paint = _training_paint(spec)
    sets = SetLayout.of(spec.model)
    precision = training_precision(train_spec.bf16, dev)  # bf16 only where native
    autocast = precision_autocast(precision, dev)
    budget = train_spec.minutes * 60 if train_spec.minutes > 0 else math.inf
    recent: list[tuple[torch.Tensor, torch.Tensor]] = []  # for a running bits estimate
    t0, c0 = time.perf_counter(), time.process_time()
    last_ckpt = t0
    step, loss_value, bits = start, float("nan"), float("nan")
    interrupted = False
    stopped_by = None
    monitored = {"wall": 0.0, "cpu": 0.0}  # seconds spent in the monitor, off both clocks

    def elapsed() -> float:
        return elapsed0 + time.perf_counter() - t0 - monitored["wall"]

    def cpu_time() -> float:
        return cpu0 + time.process_time() - c0 - monitored["cpu"]

    old_handler = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    bar = Progress(train_spec.steps, f"train {spec.name}", quiet=quiet, unit="step", start=start,
                   seconds=budget - elapsed0)
    try:
        gen.train(), dec.train()
        # At least one step a run, however small the budget: a record of 0 steps has no loss.
        while step < train_spec.steps and (step == start or elapsed() < budget):
            progress = max(step / train_spec.steps, elapsed() / budget)
            for group in opt.param_groups:
                group["lr"] = train_spec.lr * _lr_factor(progress, train_spec.lr_final)
            z = torch.randn(train_spec.batch, spec.model.message_size, device=dev)
            with autocast:
                strokes = gen.strokes(z) if spec.model.generator == "strokes" else None
                each = None  # each stroke's own logits, when its homes are penalised
                if strokes is None:
                    logits = gen.logits(z)
                elif train_spec.homes > 0:
                    each = gen.logits_of(strokes, each_stroke=True)
                    logits = gen.join_strokes(each)
                else:
                    logits = gen.logits_of(strokes)
                noisy = logits
                if train_spec.logit_noise > 0:  # grey becomes unreliable: ink must saturate
                    noisy = logits + train_spec.logit_noise * torch.randn_like(logits)
                picture = torch.sigmoid(noisy)
                if paint is not None:
                    picture = composite(picture.float(),
                                        *training_inks(paint, len(z), dev), paint.blend)
                read, corners = dec.locate_and_read(dec.pool(channel(picture)))
            if sets is not None:  # strokes come in no order: the decoder reads them left to right
                read = in_reading_order(read.float(), stroke_centres(strokes.points), sets)
            loss = _loss(read.float(), z, train_spec.loss, train_spec.bits_target)
            if corners is not None:
                moved = channel.moved_corners().to(dev)
                loss = loss + train_spec.register_weight * (corners - moved).pow(2).sum(-1).mean()
            loss = loss + _look_penalty(torch.sigmoid(logits.float()), train_spec, progress,
                                        None if each is None else torch.sigmoid(each.float()))
            if strokes is not None and train_spec.spread > 0:
                loss = loss + train_spec.spread * _spread_penalty(strokes, spec.model.inset)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise GlyphartError(f"training diverged at step {step} (loss {loss_value}); "
                                    "lower [train] lr and train again")
            if math.isnan(loss0):
                loss0 = loss_value
            recent.append((z.detach().cpu(), read.detach().float().cpu()))
            del recent[:-16]
            if writer is not None and (writer.frames < _video_frames_due(step, train_spec,
                                                                         elapsed(), budget)
                                       or step % train_spec.video_every == 0):
                writer.write(_training_frame(gen, fixed, paint))
            if step % 25 == 0 or step == train_spec.steps:
                bits = bits_from_correlation(torch.cat([r[0] for r in recent]),
                                             torch.cat([r[1] for r in recent]))
            bar.update(step, loss=loss_value, bits=f"{bits:.1f}")
            if monitor is not None:
                w0, p0 = time.perf_counter(), time.process_time()
                stop = monitor(step, gen, dec)
                monitored["wall"] += time.perf_counter() - w0
                monitored["cpu"] += time.process_time() - p0
                if stop:
                    stopped_by = "monitor"
                    break
            if time.perf_counter() - last_ckpt > train_spec.checkpoint_minutes * 60:
                _save_checkpoint(ckpt, spec, gen, dec, opt, step, elapsed(), cpu_time(), loss0)
                last_ckpt = time.perf_counter()
    except (KeyboardInterrupt, _Interrupted):
        interrupted = True
    finally:
        bar.close()
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
        if writer is not None:  # what was drawn so far is kept, even if training failed
            writer.close(abort=writer.frames == 0)

    if interrupted:
        _save_checkpoint(ckpt, spec, gen, dec, opt, step, elapsed(), cpu_time(), loss0)
        raise GlyphartError(f"interrupted at step {step}; checkpoint saved to {ckpt}; "
                            f"continue with --resume")

    # Final weights, then the record; the checkpoint goes last, once both are safely written.
    weights = out.with_suffix(".safetensors")
    if not out.exists():
        write_text(out, dump_spec(spec))
    backups = [b for b in (keep_numbered_backup(weights),
                           keep_numbered_backup(out.with_suffix(".json"))) if b]
    save_weights(weights, spec, gen.eval(), dec.eval(), dtype=train_spec.weights_dtype,
                 extra={"steps": step})
    record = {
        "preset": spec.name,
        "model_hash": spec.model_hash,
        "steps": step,
        "batch": train_spec.batch,
        "resumed_from_step": start if resume else None,
        "init_from": warm_start,
        "wall_minutes": round(elapsed() / 60, 2),
        "cpu_minutes": round(cpu_time() / 60, 2),
        "stopped_by": stopped_by or ("minutes" if step < train_spec.steps else "steps"),
        "loss_first": round(loss0, 5),
        "loss_final": round(loss_value, 5),
        "bf16": train_spec.bf16,
        "precision": precision,
        "device": str(dev),
        "versions": {"glyphart": __version__, "torch": torch.__version__,
                     "kornia": _version("kornia")},
        "machine": _machine(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(["glyphart"] + sys.argv[1:]) if sys.argv else "",
        "previous_weights_kept_as": [b.name for b in backups],
    }
    if not evaluate_after or eval_messages == 0:
        record["metrics_skipped"] = "evaluation skipped (--eval-messages 0)" \
            if evaluate_after else "evaluation skipped"
    else:
        preset = Preset(PresetFiles(out, "path"), spec, device=str(dev))
        record["metrics"] = evaluate(preset, n=eval_messages, device=dev, quiet=quiet)
    write_text(out.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    ckpt.unlink(missing_ok=True)
    return record


TRAINING_VIDEO_FRAMES = 300  # 5 s at 60 fps however short the run


def _video_frames_due(step: int, train_spec, elapsed: float, budget: float) -> int:
    """Frames the training video should hold by now: spread over the run by its progress
    (steps or minutes, whichever ends it first), so every run gives a watchable video."""
    progress = max(step / train_spec.steps, elapsed / budget)
    return 1 + int(min(progress, 1.0) * (TRAINING_VIDEO_FRAMES - 1))


def _loss(read: torch.Tensor, sent: torch.Tensor, kind: str, bits_target: float = 0.0
          ) -> torch.Tensor:
    if kind == "bits":
        # -bits per dimension in nats: 1/2 log of each dimension's error (for the best linear
        # decoder that error is 1 - rho^2, whose log is exactly what the metric sums).
        error = (read - sent).pow(2).mean(0) + 1e-6
        if bits_target > 0:
            # A number that already carries its share of the target earns nothing more.
            error = error.clamp_min(2.0 ** (-2 * bits_target / sent.shape[1]))
        return 0.5 * torch.log(error).mean()
    return nn.functional.mse_loss(read, sent)


def _phase(progress: float, ramp) -> float:
    """0 before the ramp's start, rising to 1 at its end (fractions of the run)."""
    start, full = ramp
    return min(1.0, max(0.0, (progress - start) / max(full - start, 1e-9)))


def _look_penalty(images: torch.Tensor, train_spec, progress: float,
                  each_stroke: torch.Tensor | None = None) -> torch.Tensor:
    """What the artist asks of the look: little grey, few bold shapes, an ink budget, glyphs
    (and each of their inks) that do not share one layout, strokes (each stroke's coverage,
    when given) that keep no home."""
    phase = _phase(progress, train_spec.look_ramp)
    penalty = images.new_zeros(())
    if train_spec.saturation > 0:
        penalty = penalty + phase * train_spec.saturation * (4 * images * (1 - images)).mean()
    if train_spec.perimeter > 0:
        # Padded with background, so a shape cut by the border pays for that edge too
        # (otherwise shapes crowd against the border, where edges are free).
        padded = nn.functional.pad(images, (1, 1, 1, 1))
        dy = padded[..., 1:, :-1] - padded[..., :-1, :-1]
        dx = padded[..., :-1, 1:] - padded[..., :-1, :-1]
        # Edge length per glyph, scaled as if drawn at 64 px: one weight means the same
        # simplicity at every resolution.
        edges = (dx * dx + dy * dy + 1e-8).sqrt().mean() * images.shape[-1] / 64
        penalty = penalty + phase * train_spec.perimeter * edges
    if train_spec.layout > 0:
        # Per ink layer: inks that each keep a home of their own (one always on the left, one
        # on the right) would flatten the mean of them all, and every glyph would still be the
        # same composition.
        penalty = penalty + train_spec.layout * shared_layout(images).mean()
    if each_stroke is not None:
        penalty = penalty + phase * train_spec.homes * homes(each_stroke).mean()
    low, high = train_spec.ink
    if low > 0 or high < 1:
        brightness = images.mean((2, 3))  # per channel: no colour may go dark and idle
        penalty = penalty + (nn.functional.relu(brightness - high)
                             + nn.functional.relu(low - brightness)).mean()
    return penalty


UNIFORM_STD = 12 ** -0.5  # std of a uniform variable on [0, 1]


def _spread_penalty(strokes, inset: float) -> torch.Tensor:
    """How far each control point's spread over the batch is from a uniform one over the
    inset square (mean and std): no stroke keeps a home of its own, so glyphs do not share
    one layout, and positions carry the most information a bounded number can."""
    u = (strokes.points.float() - inset) / (1 - 2 * inset)
    mean, std = u.mean(0), u.std(0)
    return (((mean - 0.5) ** 2 + (std - UNIFORM_STD) ** 2) / UNIFORM_STD ** 2).mean()


def _training_paint(spec: Spec):
    if not spec.model.inks:
        return None
    r = spec.render
    return make_paint(spec.model.inks, r.palette, r.inks, r.paper, "", r.blend)


def _init_from(name: str, gen, dec) -> dict:
    """Copy every tensor of another preset's weights whose name and shape match (warm start:
    an HD preset grows from the low-resolution preset whose trunk and decoder it shares)."""
    from .presets import find, read_tensors
    files = find(name)
    if not files.trained:
        raise GlyphartError(f"[train] init_from = {name!r}: that preset has no weights; "
                            f"train it first")
    tensors, _ = read_tensors(files.weights, "weights file", f"retrain {name}")
    copied = total = 0
    for prefix, module in (("generator", gen), ("decoder", dec)):
        state = module.state_dict()
        for key, value in state.items():
            total += 1
            source = tensors.get(f"{prefix}.{key}")
            if source is not None and source.shape == value.shape:
                state[key] = source.to(value.dtype)
                copied += 1
        module.load_state_dict(state)
    return {"preset": name, "weights": str(files.weights.name), "tensors_copied": copied,
            "tensors_total": total}


@torch.no_grad()
def _training_frame(gen, fixed, paint):
    from .render.api import glyph_grid
    from .render.paint import CHALK
    was_training = gen.training
    gen.eval()
    images = gen(fixed).float().cpu()
    gen.train(was_training)
    scale = max(1, 96 // images.shape[-1])
    return glyph_grid(images, cols=8, gap=2, scale=scale, paint=paint or CHALK)


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"
