"""Study 2, reconstruct: images through decoder -> generator, as in the source's MNIST
reconstruction, plus the number the source lacked: can the class of a digit still be read
from its reconstruction? Measured as nearest-neighbour class agreement between held-out and
reference reconstructions, for the trained preset against the same networks with random
weights (R draws), with the raw digits as the ceiling and 10 % as chance."""

from __future__ import annotations

from pathlib import Path

import torch

from ..presets import load_preset
from ..progress import Progress
from .baseline import random_decoder, random_generator
from .data import digits, one_per_class, split
from .figures import image_rows, write_json


@torch.no_grad()
def reconstruct(generator, decoder, images: torch.Tensor, batch: int = 128) -> torch.Tensor:
    return torch.cat([generator(decoder(part)) for part in images.split(batch)])


def nearest_neighbour_agreement(images: torch.Tensor, labels: torch.Tensor,
                                reference: torch.Tensor, held_out: torch.Tensor) -> float:
    """Fraction of held-out images whose nearest reference image (pixels, L2) shares its class."""
    a, b = images[held_out].flatten(1), images[reference].flatten(1)
    nearest = torch.cdist(a, b).argmin(1)
    return float((labels[reference][nearest] == labels[held_out]).float().mean())


def run(out: Path, preset: str | None = None, minutes: float | None = None,
        repeats: int | None = None, quick: bool = False, quiet: bool = False) -> dict:
    trained = load_preset(preset or "gray")
    m = trained.spec.model
    repeats = repeats or (2 if quick else 5)
    images, labels = digits(m.size, m.channels, limit=300 if quick else None)
    reference, held_out = split(len(images), 0.5, seed=0)

    bar = Progress(1 + repeats, "reconstruct", quiet=quiet, unit="model")
    recon = reconstruct(trained.generator, trained.decoder, images)
    score_trained = nearest_neighbour_agreement(recon, labels, reference, held_out)
    bar.update()
    random_scores, random_recon = [], None
    for r in range(repeats):
        gen, dec = random_generator(m, seed=r), random_decoder(m, seed=r, images=images)
        out_r = reconstruct(gen, dec, images)
        random_scores.append(nearest_neighbour_agreement(out_r, labels, reference, held_out))
        random_recon = out_r if random_recon is None else random_recon
        bar.update()
    bar.close()

    # One example of each class, in order.
    show = one_per_class(labels)
    params = {"kind": "study", "study": "reconstruct", "preset": trained.name,
              "weights": trained.weights_hash, "repeats": repeats}
    image_rows(out / "reconstruct.png",
               [("digits", images[show]), (f"{trained.name}", recon[show]),
                ("random weights", random_recon[show])], cell_px=64, params=params)
    mean = sum(random_scores) / len(random_scores)
    result = {**params, "images": len(images), "held_out": len(held_out),
              "agreement_trained": round(score_trained, 4),
              "agreement_random_mean": round(mean, 4),
              "agreement_random_min": round(min(random_scores), 4),
              "agreement_random_max": round(max(random_scores), 4),
              "agreement_inputs": round(nearest_neighbour_agreement(
                  images, labels, reference, held_out), 4),
              "chance": 0.1}
    write_json(out / "reconstruct.json", result)
    return result
