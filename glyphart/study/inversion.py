"""Study 4, invert: optimise messages so that the frozen generator redraws target digits,
for the trained generator against the same network with random weights (R draws). A trained
generator can only draw glyphs of its own script, so how close it gets says how much of the
digit's shape that script can express; the random one says what optimisation alone buys."""

from __future__ import annotations

from pathlib import Path

import torch

from ..invert import invert
from ..presets import load_preset
from ..progress import Progress
from .baseline import random_generator
from .data import digits, one_per_class
from .figures import image_rows, write_json


def invert_all(generator, targets: torch.Tensor, steps: int, restarts: int, seed: int = 0
               ) -> tuple[torch.Tensor, list[float]]:
    zs, errors = [], []
    for i, target in enumerate(targets):
        z, mse = invert(generator, target[None], steps=steps, restarts=restarts, seed=seed + i)
        zs.append(z)
        errors.append(mse)
    with torch.no_grad():
        return generator(torch.stack(zs)), errors


def run(out: Path, preset: str | None = None, minutes: float | None = None,
        repeats: int | None = None, quick: bool = False, quiet: bool = False) -> dict:
    trained = load_preset(preset or "gray")
    m = trained.spec.model
    repeats = repeats or (1 if quick else 3)
    steps, restarts = (30, 2) if quick else (300, 8)
    images, labels = digits(m.size, m.channels)
    targets = images[one_per_class(labels)]
    if quick:
        targets = targets[:4]

    bar = Progress(1 + repeats, "invert", quiet=quiet, unit="generator")
    drawn, errors = invert_all(trained.generator, targets, steps, restarts)
    bar.update()
    random_errors, random_drawn = [], None
    for r in range(repeats):
        gen = random_generator(m, seed=r)
        out_r, err_r = invert_all(gen, targets, steps, restarts)
        random_errors.append(err_r)
        random_drawn = out_r if random_drawn is None else random_drawn
        bar.update()
    bar.close()

    params = {"kind": "study", "study": "invert", "preset": trained.name,
              "weights": trained.weights_hash, "repeats": repeats, "steps": steps,
              "restarts": restarts}
    image_rows(out / "invert.png", [("targets", targets), (trained.name, drawn),
                                    ("random weights", random_drawn)],
               cell_px=64, params=params)
    flat_random = [e for errs in random_errors for e in errs]
    result = {**params, "targets": len(targets),
              "mse_trained": [round(e, 5) for e in errors],
              "mse_trained_mean": round(sum(errors) / len(errors), 5),
              "mse_random": [[round(e, 5) for e in errs] for errs in random_errors],
              "mse_random_mean": round(sum(flat_random) / len(flat_random), 5),
              "mse_blank": round(float((targets ** 2).mean()), 5)}
    write_json(out / "invert.json", result)
    return result
