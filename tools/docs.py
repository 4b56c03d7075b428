"""Regenerate the README's preset table and the preview images in docs/ from the shipped
presets and their training records (figures are read, never typed in).

    python tools/docs.py            # table + sheets + hd-color preview video
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glyphart.presets import BUILTIN_NAMES, load_preset  # noqa: E402
from glyphart.render.api import Render  # noqa: E402

FLOORS = {"seed": None, "gray": 64, "color": 128, "hd-gray": 128, "hd-color": 192}


def table() -> str:
    rows = ["| preset | kind | native | message | bits (ref) | floor | ident. /1024 | HF | "
            "steps | train min (wall / CPU) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name in BUILTIN_NAMES:
        preset = load_preset(name, require_weights=False)
        m, rec = preset.spec.model, preset.record
        met = rec.get("metrics", {})
        floor = FLOORS[name]
        bits = met.get("bits_per_glyph_reference", float("nan"))
        verdict = "baseline" if floor is None else (f"≥ {floor} ✓" if bits >= floor
                                                    else f"≥ {floor} ✗")
        rows.append(f"| `{name}` | {'color' if m.channels == 3 else 'gray'} | {m.size} px | "
                    f"{m.message_size} | {bits:.1f} | {verdict} | "
                    f"{100 * met.get('identification_accuracy', 0):.1f} % | "
                    f"{met.get('high_frequency_fraction', float('nan')):.3f} | "
                    f"{rec.get('steps', '?')} | {rec.get('wall_minutes', '?')} / "
                    f"{rec.get('cpu_minutes', '?')} |")
    return "\n".join(rows)


def sheets() -> str:
    docs = ROOT / "docs"
    lines = []
    for name in BUILTIN_NAMES:
        job = Render.load(name, seeds="0-63")
        # Colour glyphs are smooth gradients, which compress poorly: smaller cells keep each
        # preview under 300 KB.
        px = 56 if name == "seed" else (40 if job.preset.spec.model.channels == 3 else 64)
        path = job.sheet(docs / f"{name}-sheet.png", grid="4x16", glyph_px=px, gap=3)
        lines.append(f"**{name}** — seeds 0–63\n\n![{name}](docs/{path.name})\n")
    video = Render.load("hd-color", seeds="0-5").video(docs / "hd-color-loop.webm", px=256,
                                                       frames_per_key=24, crf=36, quiet=True)
    lines.append(f"**hd-color** loop: [docs/{video.name}](docs/{video.name}) (256 px preview; "
                 "the default render is 512 px)\n")
    return "\n".join(lines)


def performance() -> str:
    """The latest `python bench/run.py --json bench/latest.json` as a table."""
    path = ROOT / "bench" / "latest.json"
    if not path.is_file():
        return "_No benchmark run recorded yet: `python bench/run.py --json bench/latest.json`._"
    data = json.loads(path.read_text())
    rows = [f"Measured {data['date']} on {data.get('machine', 'this machine')} with "
            "`python bench/run.py --json bench/latest.json`.\n",
            "| section | what | value | unit | target | |", "|---|---|---|---|---|---|"]
    for r in data["results"]:
        verdict = "" if r["ok"] is None else ("✓" if r["ok"] else "**missed**")
        rows.append(f"| {r['section']} | {r['what']} | {r['value']} | {r['unit']} | "
                    f"{r['target']} | {verdict} {r['note']} |")
    return "\n".join(rows)


def fill(readme: str, marker: str, text: str) -> str:
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{start}\n{text}\n{end}", readme)


if __name__ == "__main__":
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    readme = fill(readme, "presets", table())
    readme = fill(readme, "performance", performance())
    if "--table-only" not in sys.argv:
        readme = fill(readme, "sheets", sheets())
    readme_path.write_text(readme)
    print("README.md and docs/ updated")
