"""`startup`: `glyphart --help` and `glyphart presets` against `import torch`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import report


def bench_startup() -> None:
    def wall(cmd, times=3):
        best = float("inf")
        for _ in range(times):
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
    headline = float("inf")
    for _ in range(2):  # the README's first command, start-up included, into a fresh folder
        with tempfile.TemporaryDirectory() as tmp:
            video = str(Path(tmp) / "lerp.webm")
            headline = min(headline, wall(glyphart + ["render", "--preset", "hd-color",
                                                      "--video", video, "-q"], 1))
    ratio = headline / torch_s
    report("startup", "README headline: render --preset hd-color --video lerp.webm", headline,
           "s", "<=2.5x import torch", ratio <= 2.5, f"{ratio:.2f}x import torch")
