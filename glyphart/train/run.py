"""One run's parts and state: the spec as it trains, the models, channel and optimiser, where
it starts (fresh, warm or resumed) and its clocks."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from .. import distributed
from ..channel import build_channel, pooled_spec
from ..distributed import World, resolve_device
from ..errors import GlyphartError
from ..inks import make_paint
from ..models import build_models
from ..precision import autocast as precision_autocast, training_precision
from ..sets import SetLayout
from ..spec import Spec
from .checkpoint import checkpoint_carried, checkpoint_path, init_from, load_checkpoint


class Clock:
    """Wall and CPU seconds of the run, carried over a resume; time spent in a monitor is
    taken off both, so a monitored run trains as an unmonitored one does."""

    def __init__(self, elapsed0: float = 0.0, cpu0: float = 0.0):
        self.elapsed0, self.cpu0 = elapsed0, cpu0
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.monitored = {"wall": 0.0, "cpu": 0.0}

    def elapsed(self) -> float:
        return self.elapsed0 + time.perf_counter() - self.t0 - self.monitored["wall"]

    def cpu(self) -> float:
        return self.cpu0 + time.process_time() - self.c0 - self.monitored["cpu"]

    def off_the_clock(self, fn, *args):
        """fn(*args), its own time counted on neither clock."""
        w0, p0 = time.perf_counter(), time.process_time()
        result = fn(*args)
        self.monitored["wall"] += time.perf_counter() - w0
        self.monitored["cpu"] += time.process_time() - p0
        return result


@dataclass
class Run:
    spec: Spec
    out: Path
    device: torch.device
    gen: torch.nn.Module
    dec: torch.nn.Module
    channel: torch.nn.Module
    opt: torch.optim.Optimizer
    reader_channel: torch.nn.Module | None  # the channel on the pooled view (reader_until)
    resume: bool
    start: int = 0
    elapsed0: float = 0.0
    cpu0: float = 0.0
    loss0: float = float("nan")
    warm_start: dict | None = None
    paint: object = None  # a colour preset's paint (inks.py), else None
    sets: object = None  # exchangeable strokes' layout (sets.py), else None
    precision: str = "fp32"
    step: int = 0
    loss_value: float = float("nan")
    skipped: int = 0  # steps left out: their loss or gradients were not finite
    skipped_in_a_row: int = 0
    stopped_by: str | None = None
    recent: list = field(default_factory=list)  # (sent, read) of the last steps: running bits
    world: World = field(default_factory=World)  # this process's rank among torchrun's

    @property
    def params(self) -> list[torch.nn.Parameter]:
        return [p for group in self.opt.param_groups for p in group["params"]]

    @property
    def batch(self) -> int:
        """Messages this rank draws a step: its share of [train] batch."""
        return distributed.per_rank_batch(self.train_spec.batch, self.world.size)

    @property
    def train_spec(self):
        return self.spec.train

    @property
    def checkpoint(self) -> Path:
        return checkpoint_path(self.out)

    @property
    def budget(self) -> float:
        """Seconds the run may take (inf: steps alone end it)."""
        return self.train_spec.minutes * 60 if self.train_spec.minutes > 0 else math.inf

    def drawn_small(self, progress: float) -> bool:
        """Whether a step at `progress` draws at the decoder's size ([train] reader_until)."""
        return progress < self.train_spec.reader_until

    def autocast(self):
        return precision_autocast(self.precision, self.device)


def run_spec(spec: Spec, out: Path, steps: int | None, minutes: float | None) -> Spec:
    """The spec as this run trains it: --steps and --minutes over [train], named after `out`."""
    train_spec = spec.train
    if steps is not None:
        train_spec = replace(train_spec, steps=steps)
    if minutes is not None:
        train_spec = replace(train_spec, minutes=minutes)
    return replace(spec, train=train_spec, name=spec.name or out.stem)


def set_up(spec: Spec, out: Path, resume: bool, device: str) -> Run:
    """Models, channel and optimiser, seeded by [train] seed; warm-started or resumed; the
    paint, set layout and precision the steps use."""
    train_spec = spec.train
    dev = resolve_device(device)
    here = distributed.world()
    distributed.per_rank_batch(train_spec.batch, here.size)  # refused before any work
    torch.manual_seed(train_spec.seed)
    gen, dec = build_models(spec.model)
    gen, dec = gen.to(dev), dec.to(dev)
    if dev.type == "cpu":  # oneDNN's convolutions run 1.3-1.5x faster so (bench: options)
        gen, dec = (m.to(memory_format=torch.channels_last) for m in (gen, dec))
    # The channel runs at the glyph's own resolution, as the reference channel does, and
    # until [train] reader_until on the pooled view (pooled_spec).
    channel = build_channel(spec.channel, spec.model.size).to(dev)
    pool = spec.model.decoder_pool
    reader_channel = build_channel(pooled_spec(spec.channel, pool), spec.model.size // pool
                                   ).to(dev) if train_spec.reader_until > 0 else None
    warm_start = init_from(train_spec.init_from, gen, dec) if (
        train_spec.init_from and not resume) else None
    checkpoint = checkpoint_path(out)
    if resume and not checkpoint.is_file():
        raise GlyphartError(f"--resume: no checkpoint at {checkpoint}; train without --resume")
    # The tensors fine-tuned at carried_lr: those copied unchanged, or on resume the ones the
    # checkpoint's optimiser held apart (its state follows that order).
    copied = warm_start["tensors"].get("copied", []) if warm_start else []
    carried = checkpoint_carried(checkpoint) if resume else (
        copied if train_spec.carried_lr < 1 else [])
    opt = optimizer(gen, dec, train_spec, carried)
    run = Run(spec, out, dev, gen, dec, channel, opt, reader_channel, resume, world=here,
              warm_start=warm_start)
    if resume:
        state = load_checkpoint(run.checkpoint, spec, gen, dec, opt)
        run.start, run.elapsed0, run.cpu0, run.loss0 = (state["step"], state["elapsed"],
                                                        state["cpu"], state["loss0"])
    elif run.checkpoint.exists():
        raise GlyphartError(f"a checkpoint of an unfinished run exists at {run.checkpoint}; "
                            "continue it with --resume or delete it to start over")
    run.step = run.start
    # Every rank starts from rank 0's numbers and then draws its own messages and channel.
    distributed.broadcast_modules(gen, dec)
    if here.rank > 0:
        torch.manual_seed(distributed.seed_for_rank(train_spec.seed, here.rank, run.start))
    # A colour preset's layers are laid on paper in its palette and in random inks (inks.py).
    run.paint = training_paint(run.spec)
    run.sets = SetLayout.of(run.spec.model)
    run.precision = training_precision(run.train_spec.bf16, run.device)  # bf16 where native
    return run


def optimizer(gen, dec, train_spec, carried: list[str]) -> torch.optim.Adam:
    """Adam over both networks; the tensors carried unchanged from [train] init_from (their
    names in the growing record) in a group of their own at [train] carried_lr of the lr."""
    named = [(f"{prefix}.{name}", p) for prefix, module in (("generator", gen), ("decoder", dec))
             for name, p in module.named_parameters()]
    kept = set(carried)
    groups = [{"params": [p for name, p in named if name not in kept], "lr_scale": 1.0,
               "carried": []},
              {"params": [p for name, p in named if name in kept],
               "lr_scale": train_spec.carried_lr,
               "carried": [name for name, _ in named if name in kept]}]
    return torch.optim.Adam([g for g in groups if g["params"]], lr=train_spec.lr)


def training_paint(spec: Spec):
    if not spec.model.inks:
        return None
    r = spec.render
    return make_paint(spec.model.inks, r.palette, r.inks, r.paper, "", r.blend)
