"""Checkpoints: tensors in safetensors, scalars in its metadata, written atomically (nothing
pickled); `resume` continues with the optimizer and RNG state. And warm starts: a run that
begins from another preset's weights."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from ..atomic import atomic_path
from ..errors import GlyphartError
from ..presets import check_tensor_values, module_part, read_tensors
from ..spec import Spec

CHECKPOINT_FORMAT = "glyphart-checkpoint-1"


def checkpoint_path(out_toml: Path) -> Path:
    return out_toml.with_suffix(".checkpoint.safetensors")


def save_checkpoint(path: Path, spec: Spec, gen, dec, opt, step: int, elapsed: float,
                    cpu: float, loss0: float) -> None:
    from safetensors.torch import save_file
    tensors = {f"{part}.{k}": v.detach().cpu().contiguous()
               for part, model in (("generator", gen), ("decoder", dec))
               for k, v in model.state_dict().items()}
    for i, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"optim.{i}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.cpu"] = torch.get_rng_state()
    meta = {"format": CHECKPOINT_FORMAT, "model_hash": spec.model_hash, "step": str(step),
            "elapsed": repr(elapsed), "cpu": repr(cpu), "loss0": repr(loss0),
            "carried": json.dumps([n for g in opt.param_groups for n in g.get("carried", [])])}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def checkpoint_carried(path: Path) -> list[str]:
    """The tensors a checkpoint's optimiser held in its carried group ([train] carried_lr), so
    a resumed run groups them as the run it continues did."""
    from safetensors import safe_open
    try:
        with safe_open(str(path), framework="pt") as f:
            return json.loads((f.metadata() or {}).get("carried", "[]"))
    except Exception:  # noqa: BLE001 - a damaged file: load_checkpoint says what is wrong
        return []


def load_checkpoint(path: Path, spec: Spec, gen, dec, opt) -> dict:
    tensors, meta = read_tensors(path, "checkpoint", "delete it and train without --resume")
    if meta.get("format") != CHECKPOINT_FORMAT or meta.get("model_hash") != spec.model_hash:
        raise GlyphartError(f"checkpoint {path} belongs to a different [model] table; "
                            "delete it and train without --resume")
    damaged = GlyphartError(f"checkpoint {path} is damaged or incomplete; delete it and "
                            "train without --resume")
    try:
        for prefix, module in (("generator", gen), ("decoder", dec)):
            part = module_part(tensors, prefix, module)
            if part is None:
                raise damaged
            check_tensor_values(part, module.state_dict(), f"checkpoint {path}",
                                "delete it and train without --resume")
            module.load_state_dict(part)
        state = opt.state_dict()
        for name, value in tensors.items():
            if name.startswith("optim."):
                _, i, key = name.split(".", 2)
                state["state"].setdefault(int(i), {})[key] = value
        opt.load_state_dict(state)
        torch.set_rng_state(tensors["rng.cpu"])
        numbers = {"step": int(meta["step"]), "elapsed": float(meta["elapsed"]),
                   "cpu": float(meta["cpu"]), "loss0": float(meta["loss0"])}
    except (KeyError, ValueError, RuntimeError, TypeError):
        raise damaged from None
    if numbers["step"] < 0 or not all(math.isfinite(numbers[k]) for k in ("elapsed", "cpu")):
        raise damaged
    return numbers


def init_from(name: str, gen, dec) -> dict:
    """Grow from another preset's weights (grow.py): every tensor that carries over does, the
    parent's glyphs drawn from the first step where the change allows it. Returns the record's
    account: counts, and each tensor under what became of it."""
    from ..grow import grow
    from ..presets import find
    files = find(name)
    if not files.trained:
        raise GlyphartError(f"[train] init_from = {name!r}: that preset has no weights; "
                            f"train it first")
    tensors, meta = read_tensors(files.weights, "weights file", f"retrain {name}")
    parent_model, known_from = parent_model_of(files, meta)
    report = grow(gen, dec, tensors, parent_model, name)
    total = sum(len(names) for how, names in report.items() if how != "dropped")
    return {"preset": name, "weights": str(files.weights.name),
            "tensors_copied": len(report["copied"]), "tensors_total": total,
            "parent_model": known_from, "tensors": {k: v for k, v in report.items() if v}}


def parent_model_of(files, meta: dict):
    """(the [model] its weights were trained for, where that was read): the weights' own
    record of it, else its TOML when the hash says it is unedited since; else (None, ...)."""
    from ..spec import load_spec, model_from_json
    if meta.get("model"):
        try:
            return model_from_json(meta["model"]), "weights"
        except (GlyphartError, ValueError):
            pass
    try:
        spec = load_spec(files.toml)
    except GlyphartError:
        return None, "unknown (its TOML does not load)"
    if spec.model_hash == meta.get("model_hash"):
        return spec.model, "toml"
    return None, "unknown (its TOML was edited since it was trained: carried by shape alone)"
