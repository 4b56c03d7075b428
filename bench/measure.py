"""What every benchmark section shares: the table's rows, CPU time, this CPU's peak, and the
ways of timing (a training step, runs alternated side by side, a fresh process)."""

from __future__ import annotations

import resource
import subprocess
import sys
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


def train_step(spec, channels_last: bool = True, bf16: bool | None = None,
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


def seconds_per_step(step, with_channel: bool, min_seconds: float = 4.0) -> float:
    for _ in range(2):  # warm-up (and compilation)
        step(with_channel)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds or n < 3:
        step(with_channel)
        n += 1
    return (time.perf_counter() - t0) / n


def alternating(runs: dict, seconds: float = 1.0, rounds: int = 3) -> dict:
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


def measured_run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of a fresh process running `glyphart ARGS`.

    Peak memory is the child's own VmHWM: ru_maxrss survives fork + exec on Linux, so a child
    of a big parent would report the parent's peak."""
    code = ("import re, sys, time; from glyphart.cli import main; t=time.perf_counter()\n"
            "try:\n    main(sys.argv[1:], standalone_mode=False)\n"
            "finally:\n"
            "    hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())\n"
            "    print('BENCH', time.perf_counter()-t, hwm.group(1), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    line = [out for out in proc.stderr.splitlines() if out.startswith("BENCH")][-1]
    _, secs, kb = line.split()
    return float(secs), int(kb) / 1024 ** 2
