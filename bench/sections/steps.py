"""`steps`: a full training step per strokes preset, the torch rasteriser and the kernel side by side."""

from __future__ import annotations

import resource

from measure import report, train_step, alternating


STROKE_PRESETS = ("gray", "brush", "color", "hd-gray", "hd-color")


HD_PARENTS = {"hd-gray": "gray", "hd-color": "color"}


def bench_stroke_steps() -> None:
    """Full training steps of every strokes preset at its own batch, today's torch rasteriser
    and the compiled kernel alternating in one run (the load of a shared machine falls on
    both), the precision the machine chose, and user / system CPU-seconds per step."""
    import torch

    from glyphart import strokes as S
    from glyphart.precision import training_precision
    from glyphart.presets import find
    from glyphart.spec import load_spec

    kernel = S.uses_kernel(torch.zeros(1))
    per_second = {}
    for name in STROKE_PRESETS:
        spec = load_spec(find(name).toml)
        precision = training_precision(spec.train.bf16)
        step, _ = train_step(spec, bf16=precision == "bf16")

        def on(path):
            def run():
                S.rasteriser = path
                step(True)
                S.rasteriser = "auto"
            return run

        runs = {"torch": on("torch")} | ({"kernel": on("kernel")} if kernel else {})
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t = alternating(runs, seconds=3.0, rounds=2)
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        batch = spec.train.batch
        per_second[name] = {k: batch / v for k, v in t.items()}
        report("steps", f"{name}: full step, torch rasteriser (batch {batch})",
               per_second[name]["torch"], "img/s", note=precision)
        if kernel:
            ratio = t["torch"] / t["kernel"]
            report("steps", f"{name}: full step, kernel (batch {batch})",
                   per_second[name]["kernel"], "img/s", ">=3x torch", ratio >= 3,
                   f"{ratio:.2f}x, {precision}")
        user = usage1.ru_utime - usage0.ru_utime
        system = usage1.ru_stime - usage0.ru_stime
        report("steps", f"{name}: system / user CPU time, both paths", system / max(user, 1e-9),
               "x", "<=0.1" if name.startswith("hd") else "",
               system / max(user, 1e-9) <= 0.1 if name.startswith("hd") else None,
               f"{user:.1f} user, {system:.1f} system CPU-s")
    for hd, parent in HD_PARENTS.items():
        best = "kernel" if kernel else "torch"
        ratio = per_second[hd][best] / per_second[parent][best]
        report("steps", f"{hd} vs {parent}: img/s", ratio, "x", ">=0.25", ratio >= 0.25)
