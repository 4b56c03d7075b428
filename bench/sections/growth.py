"""`growth`: time to quality of an hd preset grown from its parent, today's way and the
recipe's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import ROOT, report

MINUTES = 10.0


def _grow(folder: Path, name: str, today: bool) -> subprocess.Popen:
    """`glyphart train` of `name`'s recipe for MINUTES on one thread: today's way (the torch
    rasteriser, glyphs drawn at full size throughout) or the recipe's own."""
    text = (ROOT / "presets" / f"{name}.toml").read_text()
    if today:
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith("reader_until")) + "\n"
    way = "today" if today else "recipe"
    recipe = folder / way / f"{name}.toml"
    recipe.parent.mkdir()
    recipe.write_text(text)
    env = os.environ | {"OMP_NUM_THREADS": "1",
                        "GLYPHART_RASTERISER": "torch" if today else "auto"}
    return subprocess.Popen([sys.executable, "-m", "glyphart", "train", str(recipe), "--out",
                             str(folder / way / "out" / f"{name}.toml"), "--minutes",
                             str(MINUTES), "--eval-messages", "1024", "-q"], env=env)


def bench_growth(name: str = "hd-script") -> None:
    """hd-script grown from the shipped script for 10 minutes, both ways at once (one core each,
    so the load falls on both alike); bits under eval's channel (1,024 messages) after."""
    folder = Path(tempfile.mkdtemp(prefix="glyphart-bench-growth-"))
    runs = {today: _grow(folder, name, today) for today in (True, False)}
    records = {}
    for today, proc in runs.items():
        if proc.wait():
            raise SystemExit(f"growth: training {name} failed (exit {proc.returncode})")
        way = "today" if today else "recipe"
        records[today] = json.loads((folder / way / "out" / f"{name}.json").read_text())
    bits = {today: record["metrics"]["bits_per_glyph"] for today, record in records.items()}
    for today, record in records.items():
        way = "today's way (torch rasteriser, drawn at full size)" if today else \
            "its recipe (kernel, reader_until)"
        report("growth", f"{name} grown {MINUTES:.0f} min, {way}: bits", bits[today], "bits",
               "" if today else ">= today's", None if today else bits[False] >= bits[True],
               f"{record['steps']} steps, {record['cpu_minutes']} CPU-min")
    gain = records[False]["steps"] / records[True]["steps"]
    report("growth", f"{name}: steps in the same minutes, recipe / today's", gain, "x",
           ">=3x", gain >= 3)
