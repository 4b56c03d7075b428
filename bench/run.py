"""glyphart benchmarks: one command, one table, ratios measured side by side in the same run.

    python bench/run.py                 # everything (about an hour on 2 cores)
    python bench/run.py train video     # some sections only
    python bench/run.py --json out.json
    OMP_NUM_THREADS=1 python bench/run.py quality   # equal cost as the README records it

Sections: peak (fp32 matmul: this CPU's attainable peak), train (throughput per preset and
fraction of peak), strokes (the stroke rasteriser: sparse vs dense, render at 1024 px), quality (gray's recipe against seed's: bits at equal CPU cost, CPU seconds
to the same bits per glyph), video (end-to-end vs generation alone vs encoding alone), poster
(seconds and peak memory, each in a fresh process), startup (`--help`, `presets` vs
`import torch`).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS: list[dict] = []


def report(section: str, what: str, value: float, unit: str, target: str = "", ok=None,
           note: str = ""):
    row = {"section": section, "what": what, "value": round(value, 3), "unit": unit,
           "target": target, "ok": ok, "note": note}
    RESULTS.append(row)
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"{section:8s} {what:52s} {value:10.3f} {unit:8s} {target:14s}{mark} {note}",
          flush=True)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------


def peak_gflops() -> float:
    import torch
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    for _ in range(3):
        a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 3:
        a @ b
        n += 1
    gflops = n * 2 * 2048 ** 3 / (time.perf_counter() - t0) / 1e9
    report("peak", "fp32 matmul 2048^3", gflops, "GFLOP/s")
    return gflops


def _train_step(spec, channels_last: bool = True, bf16: bool | None = None,
                compiled: bool = False):
    """A training step of `spec` as train.py runs it, with CPU options switched on or off.
    Returns (step function, FLOPs of its model part per step)."""
    import torch

    from glyphart.channel import build_channel
    from glyphart.models import build_models, flops_per_image

    torch.manual_seed(0)
    gen, dec = build_models(spec.model)
    channel = build_channel(spec.channel, spec.model.size)
    opt = torch.optim.Adam(list(gen.parameters()) + list(dec.parameters()))
    batch = spec.train.batch
    z = torch.randn(batch, spec.model.message_size)
    flops = 3 * (flops_per_image(gen, z) + flops_per_image(dec, gen(z[:2]))) * batch
    if channels_last:
        gen, dec = gen.to(memory_format=torch.channels_last), \
            dec.to(memory_format=torch.channels_last)
    bf16 = spec.train.bf16 if bf16 is None else bf16
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    generate, read_back = (torch.compile(gen), torch.compile(dec.read)) if compiled \
        else (gen, dec.read)

    paint = None
    if spec.model.inks:  # ink layers laid on paper, as train.py does
        from glyphart.inks import composite, make_paint, training_inks
        r = spec.render
        paint = make_paint(spec.model.inks, r.palette, r.inks, r.paper, "", r.blend)

    def step(with_channel: bool):
        with autocast:
            x = generate(z)
            if paint is not None:
                x = composite(x.float(), *training_inks(paint, len(z)), paint.blend)
            read = read_back(dec.pool(channel(x) if with_channel else x))
        loss = torch.nn.functional.mse_loss(read.float(), z)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, flops


def _seconds_per_step(step, with_channel: bool, min_seconds: float = 4.0) -> float:
    for _ in range(2):  # warm-up (and compilation)
        step(with_channel)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds or n < 3:
        step(with_channel)
        n += 1
    return (time.perf_counter() - t0) / n


def bench_train(peak: float) -> None:
    """The model part of a training step (generator + decoder, forward + backward, optimizer)
    and the full step with the channel, per preset, at the preset's own settings; then the
    CPU options torch offers, side by side on gray and hd-color."""
    from glyphart.presets import BUILTIN_NAMES, find
    from glyphart.spec import load_spec

    for name in BUILTIN_NAMES:
        spec = load_spec(find(name).toml)
        step, flops = _train_step(spec)
        batch = spec.train.batch
        dt = _seconds_per_step(step, with_channel=False)
        achieved = flops / dt / 1e9
        target = name in ("gray", "hd-color")
        report("train", f"{name}: model part", achieved, "GFLOP/s",
               ">=60% peak" if target else "", achieved / peak >= 0.6 if target else None,
               f"{100 * achieved / peak:.0f}% of peak, {batch / dt:.0f} img/s")
        dt = _seconds_per_step(step, with_channel=True)
        report("train", f"{name}: full step (batch {batch})", batch / dt, "img/s")

    import torch
    threads = torch.get_num_threads()
    for name in ("gray", "hd-color"):
        spec = load_spec(find(name).toml)
        for label, options, n_threads in (
                ("fp32", {"bf16": False}, threads),
                ("bf16, standard layout", {"bf16": True, "channels_last": False}, threads),
                ("bf16 + channels_last (train.py)", {"bf16": True}, threads),
                ("bf16 + channels_last, 1 thread", {"bf16": True}, 1),
                ("bf16 + channels_last + torch.compile", {"bf16": True, "compiled": True},
                 threads)):
            torch.set_num_threads(n_threads)
            try:
                step, _ = _train_step(spec, **options)
                dt = _seconds_per_step(step, with_channel=True)
            except Exception as e:  # noqa: BLE001 - e.g. no C++ compiler for inductor
                report("options", f"{name}: {label}", 0, "img/s", note=f"failed: {e!r:.60}")
                continue
            finally:
                torch.set_num_threads(threads)
            report("options", f"{name}: full step, {label}", spec.train.batch / dt, "img/s")


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
        step, _ = _train_step(spec, bf16=precision == "bf16")

        def on(path):
            def run():
                S.rasteriser = path
                step(True)
                S.rasteriser = "auto"
            return run

        runs = {"torch": on("torch")} | ({"kernel": on("kernel")} if kernel else {})
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t = _alternating(runs, seconds=3.0, rounds=2)
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


def bench_eval() -> None:
    """`glyphart eval` of each shipped strokes preset with its default messages, in a fresh
    process: wall seconds, and user and system CPU-seconds (the child's rusage)."""
    for name in ("gray", "brush", "color", "hd-gray", "hd-color"):
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "glyphart", "eval", name, "--json"],
                       capture_output=True, check=True)
        wall = time.perf_counter() - t0
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        user = child1.ru_utime - child0.ru_utime
        system = child1.ru_stime - child0.ru_stime
        report("eval", f"{name}: glyphart eval (4096 messages)", wall, "s", "<=60 s", wall <= 60,
               f"{user:.1f} user, {system:.1f} system CPU-s")
        report("eval", f"{name}: system / user CPU time", system / max(user, 1e-9), "x",
               "<=0.1", system / max(user, 1e-9) <= 0.1)


QUALITY_THRESHOLDS = [10, 15, 20, 25, 30]  # bits per glyph under the reference channel


def _train_measured(name: str, minutes: float | None = None, cpu_cap: float | None = None,
                    seed: int | None = None) -> tuple[dict[int, float], float, float]:
    """Train `name`'s recipe from scratch (its TOML, with training seed `seed` if given),
    measuring bits per glyph under the reference channel about every 4000 images. Returns
    (CPU-s to each threshold, last bits, CPU-s used); the measuring's own CPU time is not
    counted (nor does train() count it). Stops at `cpu_cap` if given."""
    from dataclasses import replace

    import torch

    from glyphart.channel import reference_channel
    from glyphart.metrics import bits_from_correlation, read_back
    from glyphart.presets import find
    from glyphart.spec import load_spec
    from glyphart.train import train

    spec = load_spec(find(name).toml)
    if seed is not None:
        spec = replace(spec, train=replace(spec.train, seed=seed))
    reference = reference_channel(spec.model.size)
    every = max(25, round(4000 / spec.train.batch))
    crossed: dict[int, float] = {}
    clock = {"start": cpu_seconds(), "eval": 0.0, "bits": 0.0, "used": 0.0}

    def measure(gen, dec):
        c0 = cpu_seconds()
        gen.eval(), dec.eval()
        with torch.no_grad():  # read_back keeps the training's RNG state as it was
            sent, read = read_back(lambda z: dec(reference(gen(z))), 1024,
                                   spec.model.message_size, seed=99)
        gen.train(), dec.train()
        clock["eval"] += cpu_seconds() - c0
        return bits_from_correlation(sent, read)

    def monitor(step, gen, dec):
        clock["nets"], clock["step"] = (gen, dec), step
        clock["used"] = cpu_seconds() - clock["start"] - clock["eval"]
        last = step == spec.train.steps or (cpu_cap is not None and clock["used"] > cpu_cap)
        # Past the last threshold only the final figure is wanted.
        thresholds_left = len(crossed) < len(QUALITY_THRESHOLDS)
        if (step % every or not thresholds_left) and not last:
            return False
        bits = clock["bits"] = measure(gen, dec)
        clock["measured"] = step
        for t in QUALITY_THRESHOLDS:
            if bits >= t and t not in crossed:
                crossed[t] = clock["used"]
                label = name if seed is None else f"{name} (seed {seed})"
                print(f"  {label}: {bits:.1f} bits at step {step}, {clock['used']:.0f} CPU-s",
                      file=sys.stderr, flush=True)
        return last

    with tempfile.TemporaryDirectory() as tmp:
        train(spec, Path(tmp) / f"{name}.toml", minutes=minutes,
              quiet=True, evaluate_after=False, monitor=monitor)
    if clock.get("measured") != clock.get("step"):  # the clock ended it between measurements
        clock["bits"] = measure(*clock["nets"])
    return crossed, clock["bits"], clock["used"]


QUALITY_SEEDS = 4  # gray's training seeds: one run's bits vary by up to a fifth either way


def bench_quality() -> None:
    """Equal cost and time to quality, seed's recipe against gray's, both from scratch.

    seed's recipe runs in full (the source's 12,800 iterations) and its CPU seconds are the
    budget; gray's recipe then trains for the same CPU seconds with its schedule (learning
    rate, look ramp) fitted to that budget, as `minutes` fits it in `glyphart train`. gray runs
    with QUALITY_SEEDS training seeds, as many at once as the cores allow (each in its own
    process, its CPU seconds its own), because one run's bits vary by up to a fifth: the
    floor is judged on their mean. All runs are measured under the reference channel as they
    go, so the CPU seconds each needs to reach 10-30 bits come from the same runs."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    import torch

    threads = torch.get_num_threads()  # OMP_NUM_THREADS=1: one thread buys the most per CPU-s
    seed_crossed, seed_bits, budget = _train_measured("seed")
    report("quality", "seed recipe, in full (12,800 steps): bits", seed_bits, "bits",
           note=f"{budget:.0f} CPU-s")
    # train.py's clock is wall time: the budget spread over this process's threads; the CPU
    # cap ends a run whose threads outpace the clock.
    minutes = budget / threads / 60
    seeds = list(range(QUALITY_SEEDS))
    workers = max(1, min(len(seeds), (os.cpu_count() or 1) // threads))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = list(pool.map(partial(_train_measured, "gray", minutes, budget), seeds))
    for seed, (_, bits, used) in zip(seeds, runs):
        report("quality", f"gray recipe, training seed {seed}: bits", bits, "bits",
               note=f"{used:.0f} CPU-s")
    all_bits = [bits for _, bits, _ in runs]
    gray_bits = sum(all_bits) / len(all_bits)
    report("quality", f"gray recipe, same CPU budget: bits (mean of {len(runs)})", gray_bits,
           "bits", note=f"{min(all_bits):.1f}-{max(all_bits):.1f}, {workers} at once")
    ratio = gray_bits / max(seed_bits, 1e-9)
    report("quality", "gray vs seed: bits at equal cost", ratio, "x", ">=2x", ratio >= 2,
           f"{gray_bits:.1f} vs {seed_bits:.1f} bits in {budget / 60:.1f} CPU-min, "
           f"{threads} thread{'s' * (threads > 1)}; runs "
           f"{min(all_bits) / seed_bits:.2f}-{max(all_bits) / seed_bits:.2f}x")
    # Time to a quality: gray's figure is the mean over the seeds that all reached it.
    reached = {"seed": seed_crossed, "gray": {}}
    for t in QUALITY_THRESHOLDS:
        if all(t in crossed for crossed, _, _ in runs):
            reached["gray"][t] = sum(crossed[t] for crossed, _, _ in runs) / len(runs)
    for name in ("seed", "gray"):
        for t in QUALITY_THRESHOLDS:
            if t in reached[name]:
                report("quality", f"{name} recipe: CPU-s to {t} bits", reached[name][t], "CPU-s")
    common = [t for t in QUALITY_THRESHOLDS if t in reached["seed"] and t in reached["gray"]]
    if common:
        t = common[-1]
        ratio = reached["seed"][t] / reached["gray"][t]
        report("quality", f"gray vs seed: speed-up to {t} bits", ratio, "x", ">=4x", ratio >= 4,
               f"{reached['seed'][t]:.0f} vs {reached['gray'][t]:.0f} CPU-s")
    else:
        report("quality", "gray vs seed: no common threshold reached", 0, "", ">=4x", False)


def bench_video() -> None:
    """hd-color at 512 px and as a 4x8 grid: end to end vs generation alone vs encoding alone."""

    from glyphart.presets import load_preset
    from glyphart.render.compose import loop_frames
    from glyphart.render.layouts.video import cell_keys
    from glyphart.render.look import Look
    from glyphart.render.writers.video import VideoWriter
    from glyphart.latent import messages

    preset = load_preset("hd-color")
    look = Look.from_preset(preset)
    paint = look.paint(preset)
    for label, grid, px, frames in (("512x512 loop", (1, 1), 512, 120),
                                    ("4x8 grid, 128 px cells", (4, 8), 128, 60)):
        cells = grid[0] * grid[1]
        keys = cell_keys(messages(preset, range(4 * cells)), cells)
        with tempfile.TemporaryDirectory() as tmp:
            # generation alone (frames kept in memory, for the encoding-alone run)
            c0, t0 = cpu_seconds(), time.perf_counter()
            kept = list(loop_frames(preset.generator, keys, frames, "cubic", px, look, paint,
                                    grid[1], 4))
            gen_wall, gen_cpu = time.perf_counter() - t0, cpu_seconds() - c0
            # encoding alone (ffmpeg's CPU time is a child's)
            child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            with VideoWriter(Path(tmp) / "enc.webm", fps=30) as w:
                for f in kept:
                    w.write(f)
            enc_wall = time.perf_counter() - t0
            child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            enc_cpu = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
            del kept
            # end to end, as `glyphart render --video` does it
            t0 = time.perf_counter()
            with VideoWriter(Path(tmp) / "e2e.webm", fps=30) as w:
                for f in loop_frames(preset.generator, keys, frames, "cubic", px, look, paint,
                                     grid[1], 4):
                    w.write(f)
            e2e_wall = time.perf_counter() - t0
        limit = max(gen_wall, enc_wall, (gen_cpu + enc_cpu) / 2)
        report("video", f"{label}: generation alone", frames / gen_wall, "fps",
               note=f"{gen_cpu:.1f} CPU-s")
        report("video", f"{label}: encoding alone (VP9)", frames / enc_wall, "fps",
               note=f"{enc_cpu:.1f} CPU-s")
        fps_target = label.startswith("512")
        report("video", f"{label}: end to end", frames / e2e_wall, "fps",
               ">=30 fps" if fps_target else "", (frames / e2e_wall >= 30) if fps_target else None)
        report("video", f"{label}: end-to-end wall / 2-core limit", e2e_wall / limit, "x",
               "<=1.2", e2e_wall / limit <= 1.2)


STROKES_ROWS = (("brush", None), ("gray", None), ("hd-color", None), ("brush", 256))


def _alternating(runs: dict, seconds: float = 1.0, rounds: int = 3) -> dict:
    """Seconds per call of each of `runs` (name -> function), timed in alternating rounds so
    that a shared machine's load falls on all of them alike; the best round of each."""
    best = {name: float("inf") for name in runs}
    for name, run in runs.items():
        run()  # warm-up (the kernel compiles on first use)
    for _ in range(rounds):
        for name, run in runs.items():
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds or n < 2:
                run()
                n += 1
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    return best


def bench_strokes() -> None:
    """The stroke rasteriser on shipped presets' own glyphs: forward + backward per glyph,
    today's torch path and the compiled kernel side by side (alternating, one run); the dense
    reference once; the exact render of one glyph at 1024 px, both paths."""
    import torch

    from glyphart import strokes as S
    from glyphart.presets import load_preset
    from glyphart.render.glyphs import exact_images

    kernel = S.uses_kernel(torch.zeros(1))
    for name, size in STROKES_ROWS:
        preset = load_preset(name)
        gen = preset.generator
        size = size or preset.spec.model.size
        batch = 64 if size <= 64 else 32
        z = torch.randn(batch, preset.spec.model.message_size,
                        generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            strokes = gen.strokes(z)

        def draw(path):
            def run():
                p = strokes.points.clone().requires_grad_()
                r = strokes.radii.clone().requires_grad_()
                S.rasteriser = path
                gen.logits_of(S.Strokes(p, r, strokes.taper), size).sum().backward()
                S.rasteriser = "auto"
            return run

        runs = {"torch": draw("torch")} | ({"kernel": draw("kernel")} if kernel else {})
        t = {k: v / batch for k, v in _alternating(runs).items()}
        report("strokes", f"{name}: torch rasteriser fwd+bwd at {size} px", 1000 * t["torch"],
               "ms/glyph")
        if kernel:
            limit = 0.5 if size <= 64 else 4.0
            report("strokes", f"{name}: kernel fwd+bwd at {size} px", 1000 * t["kernel"],
                   "ms/glyph", f"<={limit} ms", 1000 * t["kernel"] <= limit)
            ratio = t["torch"] / t["kernel"]
            report("strokes", f"{name}: kernel vs torch rasteriser at {size} px", ratio, "x",
                   ">=10x" if size <= 64 else "", ratio >= 10 if size <= 64 else None)
    preset = load_preset("brush")
    gen, size = preset.generator, preset.spec.model.size
    z = torch.randn(8, preset.spec.model.message_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        strokes = gen.strokes(z)
    points = strokes.points.clone().requires_grad_()
    radii = strokes.radii.clone().requires_grad_()
    t0 = time.perf_counter()
    (S.reference_field(S.Strokes(points, radii, strokes.taper), size, 0.5 / size)).sum().backward()
    report("strokes", f"brush: dense reference fwd+bwd at {size} px",
           1000 * (time.perf_counter() - t0) / len(z), "ms/glyph")

    def render(path):
        def run():
            S.rasteriser = path
            exact_images(gen, z[:1], 1024)
            S.rasteriser = "auto"
        return run

    runs = {"torch": render("torch")} | ({"kernel": render("kernel")} if kernel else {})
    t = _alternating(runs, seconds=0.5)
    report("strokes", "brush: exact render of one glyph at 1024 px, torch", 1000 * t["torch"],
           "ms")
    if kernel:
        report("strokes", "brush: exact render of one glyph at 1024 px, kernel",
               1000 * t["kernel"], "ms", "<=60 ms", 1000 * t["kernel"] <= 60)


def _measured_run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of a fresh process running `glyphart ARGS`.

    Peak memory is the child's own VmHWM: ru_maxrss survives fork + exec on Linux, so a child
    of a big parent would report the parent's peak."""
    code = ("import re, sys, time; from glyphart.cli import main; t=time.perf_counter()\n"
            "try:\n    main(sys.argv[1:], standalone_mode=False)\n"
            "finally:\n    hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())\n"
            "    print('BENCH', time.perf_counter()-t, hwm.group(1), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    line = [l for l in proc.stderr.splitlines() if l.startswith("BENCH")][-1]
    _, secs, kb = line.split()
    return float(secs), int(kb) / 1024 ** 2


def bench_poster() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        secs, _ = _measured_run(["render", "--preset", "hd-color", "--seeds", "0-63", "--sheet",
                                 f"{tmp}/sheet.png", "-q"])
        report("poster", "hd-color 64-glyph sheet", secs, "s")
        for label, args, target in (
                ("A2 300 dpi grid (24 glyphs)", ["--size", "a2"], None),
                ("A0 300 dpi grid (24 glyphs)", ["--size", "a0"], 2.0),
                ("A0 300 dpi hero", ["--size", "a0", "--layout", "hero", "--seeds", "7"], 2.0),
                ("16384x16384 px hero", ["--size", "16384x16384px", "--layout", "hero",
                                         "--seeds", "7"], 2.5)):
            seeds = [] if "--seeds" in args else ["--seeds", "0-23"]
            secs, gb = _measured_run(["render", "--preset", "hd-color", *seeds, "--poster",
                                      f"{tmp}/p.png", *args, "-q"])
            report("poster", f"{label}: time", secs, "s")
            report("poster", f"{label}: peak memory", gb, "GB",
                   f"<={target} GB" if target else "", gb <= target if target else None)


def bench_vector() -> None:
    """Vector outputs, each a fresh `glyphart` process as a user runs it: A0 SVG and PDF
    posters of 64 brush glyphs (time, size), a 26-glyph font, a plotter file; and a raster
    preset's outlines (seed's traced logit fields)."""
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("svg", "pdf"):
            out = f"{tmp}/a0.{kind}"
            secs, _ = _measured_run(["render", "--preset", "brush", "--seeds", "0-63",
                                     "--poster", out, "--size", "a0", "-q"])
            mb = Path(out).stat().st_size / 1e6
            report("vector", f"A0 {kind.upper()} poster, 64 brush glyphs: time", secs, "s",
                   "<=10 s", secs <= 10)
            report("vector", f"A0 {kind.upper()} poster, 64 brush glyphs: size", mb, "MB",
                   "<=10 MB", mb <= 10)
        secs, _ = _measured_run(["font", "--preset", "brush", "--seeds", "0-25", "--out",
                                 f"{tmp}/brush.otf"])
        report("vector", "26-glyph brush font (.otf)", secs, "s", "<=15 s", secs <= 15)
        secs, _ = _measured_run(["render", "--preset", "seed", "--seeds", "0-63", "--poster",
                                 f"{tmp}/seed.pdf", "--size", "a0", "-q"])
        report("vector", "A0 PDF poster, 64 seed glyphs (traced raster outlines)", secs, "s")
        secs, _ = _measured_run(["render", "--preset", "brush", "--seeds", "0-63", "--plot",
                                 f"{tmp}/plot.svg", "--size", "a3", "-q"])
        report("vector", "A3 plotter file, 64 brush glyphs", secs, "s")


def bench_startup() -> None:
    def wall(cmd):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            best = min(best, time.perf_counter() - t0)
        return best

    glyphart = [sys.executable, "-m", "glyphart"]
    torch_s = wall([sys.executable, "-c", "import torch"])
    help_s = wall(glyphart + ["--help"])
    report("startup", "glyphart --help", help_s, "s", "<=0.3 s", help_s <= 0.3)
    report("startup", "glyphart presets", wall(glyphart + ["presets"]), "s")
    report("startup", "python -c 'import torch'", torch_s, "s")


SECTIONS = {"train": bench_train, "steps": bench_stroke_steps, "eval": bench_eval,
            "quality": bench_quality, "strokes": bench_strokes,
            "video": bench_video, "poster": bench_poster, "vector": bench_vector,
            "startup": bench_startup}
# Row sections in table order: `train` also writes the `options` rows.
_SECTION_ORDER = ["peak", "train", "options", "steps", "eval", "quality", "strokes", "video",
                  "poster", "vector", "startup"]


def main(argv: list[str]) -> None:
    out = None
    if "--json" in argv:
        i = argv.index("--json")
        out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    chosen = argv or list(SECTIONS)
    print(f"glyphart benchmarks — {time.strftime('%Y-%m-%d')} — {_cpu_name()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    for name in chosen:
        if name == "train":  # the peak is what train's fractions are of: measured beside them
            bench_train(peak_gflops())
        else:
            SECTIONS[name]()
    if out:
        machine = f"{_cpu_name()}, {os.cpu_count()} cores"
        rows = RESULTS
        if Path(out).is_file() and set(chosen) != set(SECTIONS):
            # A partial rerun replaces its own sections (train also its peak and options).
            rerun = set(chosen) | ({"peak", "options"} if "train" in chosen else set())
            old = json.loads(Path(out).read_text())["results"]
            rows = [r for r in old if r["section"] not in rerun] + RESULTS
            rows.sort(key=lambda r: _SECTION_ORDER.index(r["section"]))
        Path(out).write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": machine,
                                         "results": rows}, indent=1) + "\n")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main(sys.argv[1:])
