"""The end of a run: the preset's TOML (if new), the final weights (earlier ones kept as
numbered backups) and the training record, NAME.json, with the evaluation."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import torch

from .. import __version__
from ..atomic import keep_numbered_backup, write_text
from ..metrics import evaluate
from ..presets import Preset, PresetFiles, save_weights
from ..spec import dump_spec


def save_results(run, stopped: bool = False) -> list[Path]:
    """The TOML (if new) and the weights; returns the backups kept of earlier ones. Weights
    this run saved when it was stopped are its own work in progress, not a previous preset:
    a resumed run replaces them without a backup."""
    out, spec = run.out, run.spec
    weights = out.with_suffix(".safetensors")
    if not out.exists():
        write_text(out, dump_spec(spec))
    own = run.resume and _stopped_weights(weights)
    backups = [] if own else [b for b in (keep_numbered_backup(weights),
                                          keep_numbered_backup(out.with_suffix(".json"))) if b]
    was_training = run.gen.training, run.dec.training
    save_weights(weights, spec, run.gen.eval(), run.dec.eval(),
                 dtype=run.train_spec.weights_dtype,
                 extra={"steps": run.step} | ({"stopped": "true"} if stopped else {}))
    run.gen.train(was_training[0]), run.dec.train(was_training[1])
    return backups


def save_stopped(run, clock) -> None:
    """A stopped run's weights and record (no evaluation): what it stopped on renders at once,
    and --resume goes on from its checkpoint."""
    run.stopped_by = run.stopped_by or "interrupt"
    record = training_record(run, clock, save_results(run, stopped=True))
    record["metrics_skipped"] = (f"stopped at step {run.step}: continue with --resume, or "
                                 "measure these weights with `glyphart eval`")
    write_record(run, record)


def _stopped_weights(path: Path) -> bool:
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("stopped") == "true"
    except (SafetensorError, OSError, ValueError):  # missing or damaged: none of this run's
        return False


def training_record(run, clock, backups: list[Path]) -> dict:
    train_spec = run.train_spec
    return {
        "preset": run.spec.name,
        "model_hash": run.spec.model_hash,
        "steps": run.step,
        "batch": train_spec.batch,
        "world_size": run.world.size,  # torchrun's processes, each drawing batch_per_rank
        "batch_per_rank": run.batch,
        "resumed_from_step": run.start if run.resume else None,
        "init_from": run.warm_start,
        "wall_minutes": round(clock.elapsed() / 60, 2),
        "cpu_minutes": round(clock.cpu() / 60, 2),
        "stopped_by": run.stopped_by or ("minutes" if run.step < train_spec.steps else "steps"),
        "loss_first": round(run.loss0, 5),
        "loss_final": round(run.loss_value, 5),
        "steps_skipped": run.skipped,
        "bf16": train_spec.bf16,
        "precision": run.precision,
        "device": str(run.device),
        "versions": {"glyphart": __version__, "torch": torch.__version__,
                     "kornia": package_version("kornia")},
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(["glyphart"] + sys.argv[1:]) if sys.argv else "",
        "previous_weights_kept_as": [b.name for b in backups],
    }


def add_evaluation(record: dict, run, evaluate_after: bool, eval_messages: int,
                   quiet: bool) -> None:
    if not evaluate_after or eval_messages == 0:
        record["metrics_skipped"] = "evaluation skipped (--eval-messages 0)" \
            if evaluate_after else "evaluation skipped"
    else:
        preset = Preset(PresetFiles(run.out, "path"), run.spec, device=str(run.device))
        record["metrics"] = evaluate(preset, n=eval_messages, device=run.device, quiet=quiet)


def write_record(run, record: dict) -> None:
    write_text(run.out.with_suffix(".json"), json.dumps(record, indent=2) + "\n")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "threads": torch.get_num_threads(), "platform": platform.platform(),
            "python": platform.python_version()}


def package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"
