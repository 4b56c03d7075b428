"""`vector`: SVG and PDF posters, a font, a traced raster PDF, a plotter file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from measure import report, measured_run


def bench_vector() -> None:
    """Vector outputs, each a fresh `glyphart` process as a user runs it: A0 SVG and PDF
    posters of 64 brush glyphs (time, size), a 26-glyph font, a plotter file; and a raster
    preset's outlines (seed's traced logit fields)."""
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("svg", "pdf"):
            out = f"{tmp}/a0.{kind}"
            secs, _ = measured_run(["render", "--preset", "brush", "--seeds", "0-63",
                                    "--poster", out, "--size", "a0", "-q"])
            mb = Path(out).stat().st_size / 1e6
            report("vector", f"A0 {kind.upper()} poster, 64 brush glyphs: time", secs, "s",
                   "<=10 s", secs <= 10)
            report("vector", f"A0 {kind.upper()} poster, 64 brush glyphs: size", mb, "MB",
                   "<=10 MB", mb <= 10)
        secs, _ = measured_run(["font", "--preset", "brush", "--seeds", "0-25", "--out",
                                f"{tmp}/brush.otf"])
        report("vector", "26-glyph brush font (.otf)", secs, "s", "<=15 s", secs <= 15)
        secs, _ = measured_run(["render", "--preset", "seed", "--seeds", "0-63", "--poster",
                                f"{tmp}/seed.pdf", "--size", "a0", "-q"])
        report("vector", "A0 PDF poster, 64 seed glyphs (traced raster outlines)", secs, "s")
        secs, _ = measured_run(["render", "--preset", "brush", "--seeds", "0-63", "--plot",
                                f"{tmp}/plot.svg", "--size", "a3", "-q"])
        report("vector", "A3 plotter file, 64 brush glyphs", secs, "s")
