"""`video`: hd-color loops end to end vs generation alone vs encoding alone."""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from measure import report, cpu_seconds


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
