"""`quality`: equal cost and time to quality, gray's recipe against seed's."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from measure import report, cpu_seconds


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
