"""`poster`: sheets and posters in fresh processes, seconds and peak memory."""

from __future__ import annotations

import tempfile

from measure import report, measured_run


def bench_poster() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        secs, _ = measured_run(["render", "--preset", "hd-color", "--seeds", "0-63", "--sheet",
                                f"{tmp}/sheet.png", "-q"])
        report("poster", "hd-color 64-glyph sheet", secs, "s")
        for label, args, target in (
                ("A2 300 dpi grid (24 glyphs)", ["--size", "a2"], None),
                ("A0 300 dpi grid (24 glyphs)", ["--size", "a0"], 2.0),
                ("A0 300 dpi hero", ["--size", "a0", "--layout", "hero", "--seeds", "7"], 2.0),
                ("16384x16384 px hero", ["--size", "16384x16384px", "--layout", "hero",
                                         "--seeds", "7"], 2.5)):
            seeds = [] if "--seeds" in args else ["--seeds", "0-23"]
            secs, gb = measured_run(["render", "--preset", "hd-color", *seeds, "--poster",
                                     f"{tmp}/p.png", *args, "-q"])
            report("poster", f"{label}: time", secs, "s")
            report("poster", f"{label}: peak memory", gb, "GB",
                   f"<={target} GB" if target else "", gb <= target if target else None)
