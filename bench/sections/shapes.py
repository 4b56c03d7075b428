"""`shapes`: the bold-shapes presets' time to quality and what a training step costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import ROOT, report

MINUTES = 20.0  # the floor: 40 bits within 20 CPU-minutes, from nothing


def _train_from_nothing(name: str, folder: Path) -> dict:
    """`glyphart train` of `name`'s shipped recipe for MINUTES on one thread, from nothing."""
    text = (ROOT / "presets" / f"{name}.toml").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("init_from"))
    recipe = folder / f"{name}.toml"
    recipe.write_text(text + "\n")
    subprocess.run([sys.executable, "-m", "glyphart", "train", str(recipe), "--minutes",
                    str(MINUTES), "--eval-messages", "4096", "-q"], check=True,
                   env=os.environ | {"OMP_NUM_THREADS": "1"})
    return json.loads(recipe.with_suffix(".json").read_text())


def _step_parts(name: str) -> None:
    """Milliseconds of one batch's forward and backward through each part, one thread."""
    import torch
    from glyphart.channel import build_channel
    from glyphart.models import build_models
    from glyphart.spec import load_spec
    torch.set_num_threads(1)
    spec = load_spec(ROOT / "presets" / f"{name}.toml")
    gen, dec = build_models(spec.model)
    channel = build_channel(spec.channel, spec.model.size)
    z = torch.randn(spec.train.batch, spec.model.message_size)
    image = torch.rand(spec.train.batch, spec.model.layers, spec.model.size, spec.model.size)
    parts = {"generator": lambda: gen(z).mean().backward(),
             "channel": lambda: channel(image.requires_grad_()).mean().backward(),
             "decoder": lambda: dec(image).mean().backward(),
             "all three": lambda: dec(channel(gen(z))).mean().backward()}
    for part, run in parts.items():
        run()
        start = time.perf_counter()
        for _ in range(10):
            run()
        ms = (time.perf_counter() - start) * 100
        report("shapes", f"{name}: a batch of {spec.train.batch}, {part}", ms, "ms", "", None,
               "forward and backward, one thread")


def _opening_parts() -> None:
    """Milliseconds of the opening penalty of a batch of 64, forward and backward, one
    thread, beside the same opening with the square window in one pass (what it replaced),
    at gray's 64 px and hd-gray's 256 (where a shapes preset trains its last quarter)."""
    import torch
    from torch import nn

    from glyphart.train import penalties
    torch.set_num_threads(1)

    def square(images, k, padding):
        return nn.functional.max_pool2d(images, k, stride=1, padding=padding)
    for size in (64, 256):
        images = torch.rand(64, 1, size, size, requires_grad=True)
        ms = {}
        for how, window in (("square", square), ("row then column", penalties.square_max)):
            penalties.square_max, kept = window, penalties.square_max
            try:
                penalties.opening_loss(images).backward()
                start, n = time.perf_counter(), 3 if size > 64 else 10
                for _ in range(n):
                    penalties.opening_loss(images).backward()
                ms[how] = (time.perf_counter() - start) * 1000 / n
            finally:
                penalties.square_max = kept
        report("shapes", f"opening penalty, a batch of 64 at {size} px", ms["row then column"],
               "ms", "", None, f"square window in one pass: {ms['square']:.0f} ms "
               f"({ms['square'] / ms['row then column']:.1f}x)")


def bench_shapes(name: str = "gray") -> None:
    _opening_parts()
    _step_parts(name)
    record = _train_from_nothing(name, Path(tempfile.mkdtemp(prefix="glyphart-bench-shapes-")))
    bits = record["metrics"]["bits_per_glyph_reference"]
    report("shapes", f"{name}'s recipe from nothing, {MINUTES:.0f} wall-minutes: bits", bits,
           "bits", ">= 40 in 20 CPU-min", bits >= 40 and record["cpu_minutes"] <= MINUTES,
           f"{record['steps']} steps, {record['cpu_minutes']} CPU-min, ident "
           f"{record['metrics']['identification_accuracy']:.3f}")
