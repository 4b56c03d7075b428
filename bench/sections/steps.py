"""`steps`: a full training step per strokes preset (glyphart's own, penalties included), today's
implementation and the new one side by side."""

from __future__ import annotations

import resource
import tempfile
from dataclasses import replace
from pathlib import Path

from measure import report, alternating


STROKE_PRESETS = ("gray", "brush", "color", "hd-gray", "hd-color")


HD_PARENTS = {"hd-gray": "gray", "hd-color": "color"}


def _run(spec, folder: Path, name: str, **train):
    """A training run of `spec` as `glyphart train` sets it up, from fresh weights, with
    [train] keys replaced by `train`."""
    from glyphart.train.run import set_up
    spec = replace(spec, train=replace(spec.train, init_from="", **train))
    return set_up(spec, folder / f"{name}.toml", False, "cpu")


def library_step(spec, folder: Path, rasteriser: str, small: bool):
    """One call = one training step as `glyphart train` runs it (models, channel, penalties,
    Adam), on `rasteriser` ("torch": today's reference path; "kernel"), with the glyphs drawn
    at [model] size (today's) or, `small`, at the decoder's ([train] reader_until)."""
    from glyphart import strokes as S
    from glyphart.train.step import train_step

    run = _run(spec, folder, f"{rasteriser}-{small}", reader_until=float(small))

    def step():
        S.rasteriser = rasteriser
        train_step(run, 0.5)
        S.rasteriser = "auto"
    return step


def decoder_step(spec, folder: Path):
    """One call = the decoder's own share of a training step: reading images of the size it
    is given, backward into those images and the registration, and Adam on its weights. No
    rasteriser or channel can make a step cheaper than this."""
    import torch

    from glyphart.train.step import read_back_loss

    run = _run(spec, folder, "decoder")
    m = spec.model
    images = torch.rand(spec.train.batch, m.channels, run.dec.input_size, run.dec.input_size,
                        requires_grad=True)
    z = torch.randn(spec.train.batch, m.message_size)

    def step():  # the run's Adam: the generator, without gradients, is left alone
        with run.autocast():
            read, _ = run.dec.locate_and_read(images)
        loss = read_back_loss(read.float(), z, "bits")
        run.opt.zero_grad(set_to_none=True)
        images.grad = None
        loss.backward()
        run.opt.step()
    return step


def generator_step(spec, folder: Path):
    """One call = the generator's own share of a training step at [model] size: the strokes'
    network and the kernel, forward and backward (no channel, decoder or optimiser)."""
    import torch

    run = _run(spec, folder, "generator")
    z = torch.randn(spec.train.batch, spec.model.message_size)

    def step():
        with run.autocast():
            logits = run.gen.logits_of(run.gen.strokes(z))
        run.gen.zero_grad(set_to_none=True)
        logits.float().square().mean().backward()
    return step


def bench_stroke_steps() -> None:
    """Full training steps of every strokes preset at its own batch: today's implementation
    (the torch rasteriser, glyphs drawn at [model] size) against the kernel, drawn at [model]
    size and, for an hd preset, at the decoder's ([train] reader_until), alternating in one run
    (the load of a shared machine falls on all alike); the recipe's mean over its run; the
    decoder's own share, which bounds any step; the precision the machine chose, and user /
    system CPU-seconds."""
    import torch

    from glyphart import strokes as S
    from glyphart.precision import training_precision
    from glyphart.presets import find
    from glyphart.spec import load_spec

    new = "kernel" if S.uses_kernel(torch.zeros(1)) else "torch"
    per_second = {}
    folder = Path(tempfile.mkdtemp(prefix="glyphart-bench-steps-"))
    for name in STROKE_PRESETS:
        spec = load_spec(find(name).toml)
        precision = training_precision(spec.train.bf16)
        pooled = spec.model.decoder_pool > 1
        runs = {("torch", False): library_step(spec, folder, "torch", False),
                (new, False): library_step(spec, folder, new, False)}
        if pooled:
            runs[(new, True)] = library_step(spec, folder, new, True)
        runs["decoder"] = decoder_step(spec, folder)
        runs["generator"] = generator_step(spec, folder)
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t = alternating(runs, seconds=3.0, rounds=2)
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        batch, today = spec.train.batch, t[("torch", False)]
        decoder, generator = t.pop("decoder"), t.pop("generator")
        report("steps", f"{name}: full step, torch rasteriser, drawn at {spec.model.size} px "
               f"(batch {batch})", batch / today, "img/s", note=f"today's, {precision}")
        for (rasteriser, small), seconds in list(t.items())[1:]:
            px = spec.model.size // (spec.model.decoder_pool if small else 1)
            report("steps", f"{name}: full step, {rasteriser}, drawn at {px} px", batch / seconds,
                   "img/s", note=f"{today / seconds:.2f}x today's, {precision}")
        f = spec.train.reader_until
        recipe = f * t.get((new, True), 0.0) + (1 - f) * t[(new, False)]  # seconds a step
        per_second[name] = batch / recipe
        ratio = today / recipe
        report("steps", f"{name}: full step as its recipe trains" +
               (f" ({f:.0%} drawn small)" if f else ""), batch / recipe, "img/s",
               ">=3x today's", ratio >= 3, f"{ratio:.2f}x today's")
        report("steps", f"{name}: its decoder alone (forward, backward, Adam)", batch / decoder,
               "img/s", note=f"{decoder / today:.0%} of today's step: no rasteriser or "
               f"channel makes the step more than {today / decoder:.2f}x today's")
        both = decoder + generator
        report("steps", f"{name}: its decoder and generator alone, at {spec.model.size} px",
               batch / both, "img/s", note=f"{both / today:.0%} of today's step: with the "
               f"channel and penalties free, a step at most {today / both:.2f}x today's")
        user = usage1.ru_utime - usage0.ru_utime
        system = usage1.ru_stime - usage0.ru_stime
        hd = name.startswith("hd")
        report("steps", f"{name}: system / user CPU time, all paths", system / max(user, 1e-9),
               "x", "<=0.1" if hd else "", system / max(user, 1e-9) <= 0.1 if hd else None,
               f"{user:.1f} user, {system:.1f} system CPU-s")
    for hd, parent in HD_PARENTS.items():
        ratio = per_second[hd] / per_second[parent]
        report("steps", f"{hd} vs {parent}: img/s, as their recipes train", ratio, "x",
               ">=0.25", ratio >= 0.25)
