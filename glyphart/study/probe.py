"""Study 3, probe: a linear classifier on what the decoder reads from a digit (its N-number
message), with the decoder pretrained (the preset's) or randomly initialised, and frozen or
trainable: four curves of validation accuracy per epoch, mean and spread over R repeats.

Frozen means frozen: the decoder's parameters get requires_grad=False, are left out of the
optimiser and the decoder stays in eval mode, so not even BatchNorm statistics move (the
source's freeze set an attribute that froze nothing). Each run checks its decoder afterwards.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from ..presets import load_preset
from ..progress import Progress
from .baseline import random_decoder
from .data import digits, split
from .figures import figure, save_chart, write_json

CONFIGS = [("pretrained", "frozen"), ("pretrained", "trainable"),
           ("random", "frozen"), ("random", "trainable")]


def probe_run(decoder: nn.Module, frozen: bool, images, labels, train_idx, val_idx,
              epochs: int, seed: int, batch: int = 64, lr: float = 1e-3,
              head_lr: float = 1e-2) -> dict:
    """Train Linear(message -> 10 classes) on top of `decoder`; validation accuracy per epoch."""
    torch.manual_seed(seed)
    # Standardising the features first (BatchNorm without scale) keeps the probe linear and
    # makes it fair to a random decoder, whose raw outputs are tiny.
    head = nn.Sequential(nn.BatchNorm1d(decoder.spec.message_size, affine=False),
                         nn.Linear(decoder.spec.message_size, 10))
    before = {k: v.clone() for k, v in decoder.state_dict().items()}
    if frozen:
        decoder.eval().requires_grad_(False)
        with torch.no_grad():  # a frozen decoder reads each image the same way every epoch
            features = torch.cat([decoder(part) for part in images.split(256)])
        read = features.__getitem__
        groups = [{"params": head.parameters(), "lr": head_lr}]
    else:
        def read(idx):
            return decoder(images[idx])
        groups = [{"params": head.parameters(), "lr": head_lr},
                  {"params": decoder.parameters(), "lr": lr}]
    opt = torch.optim.Adam(groups)
    shuffle = torch.Generator().manual_seed(seed)
    curve = []
    for _ in range(epochs):
        decoder.train(not frozen)
        head.train()
        for idx in train_idx[torch.randperm(len(train_idx), generator=shuffle)].split(batch):
            loss = nn.functional.cross_entropy(head(read(idx)), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        decoder.eval()
        head.eval()
        with torch.no_grad():
            logits = torch.cat([head(read(i)) for i in val_idx.split(256)])
        curve.append(float((logits.argmax(1) == labels[val_idx]).float().mean()))
    changed = max(float((v.float() - before[k].float()).abs().max())
                  for k, v in decoder.state_dict().items() if v.is_floating_point())
    return {"curve": curve, "decoder_changed": changed}


def run(out: Path, preset: str | None = None, minutes: float | None = None,
        repeats: int | None = None, quick: bool = False, quiet: bool = False,
        epochs: int | None = None) -> dict:
    trained = load_preset(preset or "gray")
    m = trained.spec.model
    repeats = repeats or (2 if quick else 5)
    epochs = epochs or (3 if quick else 15)
    images, labels = digits(m.size, m.channels, limit=400 if quick else None)

    runs: dict[str, list[dict]] = {f"{i} {f}": [] for i, f in CONFIGS}
    bar = Progress(repeats * len(CONFIGS), "probe", quiet=quiet, unit="run")
    for r in range(repeats):
        train_idx, val_idx = split(len(images), 2 / 3, seed=r)
        for init, mode in CONFIGS:
            if init == "pretrained":
                decoder = copy.deepcopy(trained.decoder).float()
            else:
                decoder = random_decoder(m, seed=1000 + r, images=images[train_idx])
            result = probe_run(decoder, mode == "frozen", images, labels, train_idx, val_idx,
                               epochs, seed=r)
            if mode == "frozen" and result["decoder_changed"] != 0.0:
                raise AssertionError("a frozen decoder changed during probing")
            runs[f"{init} {mode}"].append(result)
            bar.update(now=f"{init} {mode}", acc=result["curve"][-1])
    bar.close()

    params = {"kind": "study", "study": "probe", "preset": trained.name,
              "weights": trained.weights_hash, "repeats": repeats, "epochs": epochs,
              "representation": f"decoded message ({m.message_size} numbers)"}
    summary = {}
    for key, results in runs.items():
        curves = torch.tensor([res["curve"] for res in results])
        mean = curves.mean(0)
        std = curves.std(0) if len(results) > 1 else torch.zeros_like(mean)
        final = curves[:, -1]
        summary[key] = {"final_mean": round(float(final.mean()), 4),
                        "final_std": round(float(final.std()) if len(final) > 1 else 0.0, 4),
                        "curve_mean": [round(float(v), 4) for v in mean],
                        "curve_std": [round(float(v), 4) for v in std],
                        "decoder_changed_max": max(res["decoder_changed"] for res in results)}
    chart(out / "probe.png", summary, params)
    result = {**params, "images": len(images), "configs": summary}
    write_json(out / "probe.json", result)
    return result


def chart(path: Path, summary: dict, params: dict) -> Path:
    """Validation accuracy per epoch, mean line and a +-1 std band per decoder."""
    fig, (ax,) = figure(width=6.5, height=4.0)
    lowest = 1.0
    for key, c in summary.items():
        mean, std = torch.tensor(c["curve_mean"]), torch.tensor(c["curve_std"])
        x = list(range(1, len(mean) + 1))
        ax.plot(x, mean, label=f"{key} ({100 * c['final_mean']:.1f} %)", lw=2,
                ls="-" if "frozen" in key else "--")
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        lowest = min(lowest, float((mean - std).min()))
    # Zoom to the curves: on easy data every decoder is far above chance (10 %).
    ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(max(0.0, lowest - 0.02), 1.0),
           title=f"Linear probe on the {params['preset']} decoder (digits, mean ± std of "
                 f"{params['repeats']})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return save_chart(fig, path, params)
