"""Study 1, sweep: the source's "progressively increase the message size", measured.

Train the gray and color recipes at several message sizes with one equal budget each, then
measure bits per glyph (reference channel) and high-frequency fraction for every size, and
draw a sheet per size: does a longer message buy information, and at what cost in looks?
The recipes run without their look penalties and bits target, so the message size alone varies.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from ..atomic import write_text
from ..latent import messages
from ..presets import find, load_preset
from ..progress import Progress
from ..render.api import render_sheet
from ..spec import dump_spec, load_spec
from ..train import checkpoint_path, train
from .figures import figure, image_rows, save_chart, write_json

SIZES = {"gray": [32, 128, 512, 1024], "color": [32, 128, 512, 1024, 2048]}
DEFAULT_MINUTES = 10.0  # training budget of the whole study, split evenly over its runs


def run(out: Path, preset: str | None = None, minutes: float | None = None,
        repeats: int | None = None, quick: bool = False, quiet: bool = False) -> dict:
    specs = {}
    for name in [preset] if preset else list(SIZES):
        spec = load_spec(find(name).toml)
        specs[spec.name or find(name).name] = spec
    sizes = {label: [8, 32] if quick else SIZES["gray" if spec.model.channels == 1 else "color"]
             for label, spec in specs.items()}
    repeats = repeats or 1
    runs = [(r, n, s) for r in specs for n in sizes[r] for s in range(repeats)]
    minutes = minutes or (0.05 * len(runs) if quick else DEFAULT_MINUTES)
    per_run = minutes / len(runs)
    eval_n = 1024 if quick else 4096

    rows = []
    bar = Progress(len(runs), "sweep", quiet=quiet, unit="run")
    for recipe, size, seed in runs:
        bar.update(advance=0, now=f"{recipe} {size}")
        base = specs[recipe]
        name = f"{recipe}-{size}" + (f"-s{seed}" if repeats > 1 else "")
        spec = replace(base, name=name,
                       model=replace(base.model, message_size=size),
                       # The recipe's objective and channel, without what was tuned for its
                       # own message size and 20 minutes: no bits target (it would cap every
                       # size at one figure) and no look penalties (phased in over a run of a
                       # minute, they close the code before it forms: flat grey from 512 up).
                       train=replace(base.train, steps=10**7, minutes=per_run, seed=seed,
                                     init_from="", bits_target=0.0, saturation=0.0,
                                     perimeter=0.0, ink=[0.0, 1.0]))
        path = out / "models" / f"{name}.toml"
        write_text(path, dump_spec(spec))
        checkpoint_path(path).unlink(missing_ok=True)  # the study owns its folder
        record = train(spec, path, quiet=True, eval_messages=eval_n)
        m = record["metrics"]
        glyphs = load_preset(path)
        render_sheet(glyphs, "0-15", out / "sheets" / f"{name}.png", grid="2x8")
        rows.append({"recipe": recipe, "message_size": size, "seed": seed,
                     "model": str(path),
                     "steps": record["steps"], "train_minutes": record["wall_minutes"],
                     "bits_reference": m["bits_per_glyph_reference"],
                     "bits_own_channel": m["bits_per_glyph"],
                     "bits_per_dimension": round(m["bits_per_glyph_reference"] / size, 4),
                     "identification_accuracy": m["identification_accuracy"],
                     "high_frequency_fraction": m["high_frequency_fraction"]})
        bar.update()
    bar.close()

    params = {"kind": "study", "study": "sweep", "recipes": list(specs),
              "minutes_per_run": round(per_run, 3), "repeats": repeats}
    _overview(out, rows, params)
    _chart(out / "sweep.png", rows, params)
    result = {**params, "runs": rows}
    write_json(out / "sweep.json", result)
    return result


def _overview(out: Path, rows: list[dict], params: dict) -> None:
    """Per recipe, one row of 10 glyphs per message size (seed 0 runs)."""
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        strips = []
        for r in rows:
            if r["recipe"] == recipe and r["seed"] == 0:
                preset = load_preset(r["model"])
                with torch.no_grad():
                    images = preset.generator(messages(preset, range(10)))
                strips.append((f"{r['message_size']} numbers", images))
        image_rows(out / f"sweep-{recipe}.png", strips, cell_px=64, params=params)


def _chart(path: Path, rows: list[dict], params: dict) -> None:
    fig, (bits_ax, hf_ax) = figure(ncols=2, width=5.0)
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        sizes = sorted({r["message_size"] for r in rows if r["recipe"] == recipe})
        for ax, key in ((bits_ax, "bits_reference"), (hf_ax, "high_frequency_fraction")):
            values = [[r[key] for r in rows if r["recipe"] == recipe and r["message_size"] == s]
                      for s in sizes]
            mean = [sum(v) / len(v) for v in values]
            ax.plot(sizes, mean, "o-", label=recipe)
            if any(len(v) > 1 for v in values):
                ax.fill_between(sizes, [min(v) for v in values], [max(v) for v in values],
                                alpha=0.2)
    bits_ax.set(xscale="log", xlabel="message size (numbers)", ylabel="bits per glyph",
                title="Information through the reference channel")
    hf_ax.set(xscale="log", xlabel="message size (numbers)", ylabel="high-frequency fraction",
              title="Artifacts (lower is cleaner)")
    hf_ax.axhline(0.10, color="grey", lw=0.8, ls="--")
    for ax in (bits_ax, hf_ax):
        ax.set_xticks(sorted({r["message_size"] for r in rows}))
        ax.get_xaxis().set_major_formatter("{x:.0f}")
        ax.minorticks_off()
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Message-size sweep, {params['minutes_per_run']:.2f} training minutes per run")
    save_chart(fig, path, params)
