"""`eval`: `glyphart eval` per preset, wall and CPU time."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from measure import report


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
