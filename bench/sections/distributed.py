"""`distributed`: 1 and 2 processes under torchrun (gloo, one thread each) on this machine:
training throughput at the same global batch and the loss it reaches, and a sharded export of
64 posters, each timed end to end (start-up included) in fresh processes."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import report

TRAIN_STEPS = 300  # gray: 44 CPU-s of training on one core (measured), long beside start-up
# A3 at 300 dpi: drawing (measured: 43 CPU-s for the 64, start-up included) outweighs the
# few seconds torchrun and a second interpreter take to start.
POSTERS = ["render", "--preset", "gray", "--seeds", "0-63", "--size", "a3", "--dpi", "300",
           "-q", "--poster"]


def launch(nproc: int, args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all processes) of `glyphart ARGS` in one plain process,
    or N torchrun ranks."""
    head = [sys.executable, "-m", "glyphart"] if nproc == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc),
        "--standalone", "-m", "glyphart"]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(head + args, check=True, capture_output=True,
                   env=os.environ | {"OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t0, _children_cpu() - cpu0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# The floor's tiny preset: 16 px, batch 32 (16 a rank), the loss after CURVE_STEPS steps for
# three training seeds, so the gap between 1 and 2 processes is read against seed noise.
TINY = """name = "tiny"
[model]
message_size = 16
size = 16
widths = [32, 16, 8]
decoder_widths = [8, 16]
[channel.noise]
std = 0.25
[channel.affine]
p = 0.5
[train]
batch = 32
lr = 0.003
steps = {steps}
seed = {seed}
"""
CURVE_STEPS, CURVE_SEEDS = 200, (0, 1, 2)


def loss_curves(tmp: str) -> None:
    for nproc in (1, 2):
        losses = []
        for seed in CURVE_SEEDS:
            toml = Path(tmp, f"tiny-{nproc}-{seed}.toml")
            toml.write_text(TINY.format(steps=CURVE_STEPS, seed=seed))
            launch(nproc, ["train", str(toml), "--eval-messages", "0", "-q"])
            losses.append(json.loads(toml.with_suffix(".json").read_text())["loss_final"])
        mean = sum(losses) / len(losses)
        report("distributed", f"tiny train, {nproc} process(es): loss after {CURVE_STEPS} steps",
               mean, "", note=f"mean of seeds {CURVE_SEEDS}: {', '.join(map(str, losses))}")


def bench_distributed() -> None:
    from glyphart.presets import find
    with tempfile.TemporaryDirectory() as tmp:
        loss_curves(tmp)
        loss = {}
        for nproc in (1, 2):
            toml = Path(tmp, f"gray-{nproc}.toml")
            shutil.copy(find("gray").toml, toml)
            _, cpu = launch(nproc, ["train", str(toml), "--steps", str(TRAIN_STEPS),
                                    "--eval-messages", "0", "-q"])
            record = json.loads(toml.with_suffix(".json").read_text())
            rate = record["steps"] * record["batch"] / (record["wall_minutes"] * 60)
            loss[nproc] = record["loss_final"]
            report("distributed", f"gray train, {nproc} process(es), batch {record['batch']}",
                   rate, "img/s", note=f"loss {record['loss_first']} -> {loss[nproc]} in "
                                       f"{TRAIN_STEPS} steps, {cpu:.0f} CPU-s")
        report("distributed", "gray train: final loss, 2 processes / 1", loss[2] / loss[1], "x",
               note="same global batch; per-rank messages differ, so within noise")
        seconds, cpu = {}, {}
        for nproc in (1, 2):
            seconds[nproc], cpu[nproc] = launch(nproc, POSTERS + [f"{tmp}/p{nproc}/{{seed}}.png"])
            report("distributed", f"64 gray A3 300 dpi posters, {nproc} process(es)",
                   64 / seconds[nproc], "posters/s",
                   note=f"{seconds[nproc]:.1f} s end to end, {cpu[nproc]:.1f} CPU-s")
        speedup = seconds[1] / seconds[2]
        report("distributed", "sharded export speed-up, 2 processes / 1", speedup, "x", ">=1.6",
               speedup >= 1.6, note=f"CPU-s 2 processes / 1: {cpu[2] / cpu[1]:.2f}x")
