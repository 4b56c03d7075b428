"""glyphart benchmarks: one command, one table, ratios measured side by side in the same run.

    python bench/run.py                 # everything (about an hour on 2 cores)
    python bench/run.py train video     # some sections only
    python bench/run.py --json out.json
    OMP_NUM_THREADS=1 python bench/run.py quality   # equal cost, as docs/performance.md has it

Sections: peak (fp32 matmul: this CPU's attainable peak), train (throughput per preset and
fraction of peak), strokes (the stroke rasteriser: sparse vs dense, render at 1024 px),
quality (gray's recipe against seed's: bits at equal CPU cost, CPU seconds to the same bits
per glyph), video (end-to-end vs generation alone vs encoding alone), poster
(seconds and peak memory, each in a fresh process), startup (`--help`, `presets` vs
`import torch`), distributed (1 and 2 torchrun processes: training img/s, sharded export).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from measure import RESULTS, peak_gflops
from sections.distributed import bench_distributed
from sections.evaluation import bench_eval
from sections.growth import bench_growth
from sections.poster import bench_poster
from sections.quality import bench_quality
from sections.shapes import bench_shapes
from sections.startup import bench_startup
from sections.steps import bench_stroke_steps
from sections.strokes import bench_strokes
from sections.train import bench_train
from sections.tweak import bench_studio, bench_tweak
from sections.vector import bench_vector
from sections.video import bench_video

SECTIONS = {"train": bench_train, "steps": bench_stroke_steps, "eval": bench_eval,
            "quality": bench_quality, "growth": bench_growth, "strokes": bench_strokes,
            "video": bench_video, "poster": bench_poster, "vector": bench_vector,
            "startup": bench_startup, "distributed": bench_distributed, "tweak": bench_tweak,
            "studio": bench_studio, "shapes": bench_shapes}


_SECTION_ORDER = ["peak", "train", "options", "steps", "eval", "quality", "growth", "strokes",
                  "video", "poster", "vector", "startup", "distributed", "tweak", "studio",
                  "shapes"]


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
