"""`startup`: `glyphart --help` and `glyphart presets` against `import torch`."""

from __future__ import annotations

import subprocess
import sys
import time

from measure import report


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
