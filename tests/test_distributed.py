"""Beyond one process: torchrun with 2 local CPU ranks (gloo) trains data-parallel, survives a
killed rank, shares out a batch export byte for byte; and `--device cuda` without CUDA is a
one-line error. Each torchrun costs a few seconds of start-up: a handful of them, tiny preset."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from conftest import TINY, write_tiny
from glyphart import distributed
from glyphart.errors import GlyphartError
from glyphart.train import checkpoint_path

HERE = Path(__file__).parent


def torchrun(*args: str, nproc: int = 2, timeout: float = 240, wait: bool = True):
    """`torchrun --nproc-per-node N --standalone ARGS`, from outside the checkout, one thread a
    rank (the installed glyphart, as run_cli runs it)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc),
               "--standalone", *args]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=tempfile.gettempdir())
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=tempfile.gettempdir())


def train_args(path: Path, *more: str) -> list[str]:
    return ["-m", "glyphart", "train", str(path), "--eval-messages", "0", "-q", *more]


def record(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())


def no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".part" in p.name]


# -- training ----------------------------------------------------------------------------------


def test_two_ranks_train_into_one_weights_file_and_one_record(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 12"))
    done = torchrun(*train_args(path, "--video", str(tmp_path / "train.webm")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("trained tiny: 12 steps") == 1  # rank 0 reports, once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.safetensors",
                                                          "tiny.toml", "train.webm"]
    r = record(path)
    assert (r["world_size"], r["batch"], r["batch_per_rank"], r["device"]) == (2, 32, 16, "cpu")
    assert r["steps"] == 12 and r["loss_final"] < r["loss_first"]


def test_a_killed_rank_leaves_a_checkpoint_that_resumes_with_one_or_two_ranks(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 100000"))
    ckpt = checkpoint_path(path)
    job = torchrun(*train_args(path), wait=False)
    try:
        deadline = time.time() + 120
        while not ckpt.exists() and time.time() < deadline and job.poll() is None:
            time.sleep(0.2)
        assert ckpt.exists(), "no checkpoint was written"
        time.sleep(1.0)  # a few more checkpoints
        os.kill(_rank_pid(job.pid, 1), signal.SIGKILL)
        _, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0
    # Rank 0 saw its peer go (or torchrun's agent stopped it first, a race either may win),
    # saved where it was and said how to go on.
    said = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(said) == 1, err[-2000:]
    assert ("another process of this job stopped" in said[0]
            or "torchrun stops the whole job" in said[0]), said
    assert "checkpoint saved to" in said[0] and "continue with --resume" in said[0], said
    no_leftovers(tmp_path)
    from safetensors import safe_open
    with safe_open(str(ckpt), framework="pt") as f:
        saved = int(f.metadata()["step"])
    assert saved > 0
    twin = tmp_path / "twin"
    twin.mkdir()
    shutil.copy(path, twin), shutil.copy(ckpt, twin)
    # Resumed alone, and with two ranks again: each continues from the saved step.
    alone = subprocess.run([sys.executable, "-m", "glyphart", *train_args(
        path, "--resume", "--steps", str(saved + 6))[2:]], capture_output=True, text=True,
        timeout=240, env=os.environ | {"OMP_NUM_THREADS": "1"})
    assert alone.returncode == 0, alone.stderr
    both = torchrun(*train_args(twin / path.name, "--resume", "--steps", str(saved + 6)))
    assert both.returncode == 0, both.stderr
    for target, size in ((path, 1), (twin / path.name, 2)):
        r = record(target)
        assert (r["resumed_from_step"], r["steps"], r["world_size"]) == (saved, saved + 6, size)
        assert not checkpoint_path(target).exists()


def _rank_pid(launcher: int, rank: int) -> int:
    """The process torchrun started for `rank` (its environment says RANK=rank)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        for task in Path(f"/proc/{launcher}/task").iterdir():
            for child in (task / "children").read_text().split():
                environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
                if f"RANK={rank}".encode() in environ:
                    return int(child)
        time.sleep(0.2)
    raise AssertionError(f"no rank {rank} under torchrun {launcher}")


def test_a_second_job_on_a_preset_in_training_is_refused(tmp_path):
    from glyphart.lock import exclusive_lock
    path = write_tiny(tmp_path)
    with exclusive_lock(path, "a training"):
        refused = torchrun(*train_args(path), timeout=120)
    assert refused.returncode != 0
    assert "is already running" in refused.stderr and "rank 0 could not start" in refused.stderr
    assert not path.with_suffix(".safetensors").exists()


def test_averaged_gradient_of_two_ranks_is_the_gradient_of_the_whole_batch(tmp_path):
    """float64: each rank's half batch, gradients averaged by all_reduce_grads, against one
    process on both halves together; BatchNorm's saved statistics are the ranks' mean."""
    path = write_tiny(tmp_path)
    done = torchrun(str(HERE / "dist_check.py"), str(path), str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    ranks = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in (0, 1)]
    for found in ranks:
        assert found["world_size"] == 2
        assert found["gradient_gap"] < 1e-12, found
        assert found["batchnorm_gap"] < 1e-12, found
    assert ranks[0]["seeds"][0] == 0 and ranks[0]["seeds"][1] != 0  # rank 0 keeps the seed
    assert sorted(ranks[0]["shard"] + ranks[1]["shard"]) == list(range(10))


def test_a_batch_that_does_not_split_over_the_ranks_is_refused():
    assert distributed.per_rank_batch(32, 2) == 16
    with pytest.raises(GlyphartError, match="batch = 33 does not split over 2 processes"):
        distributed.per_rank_batch(33, 2)


# -- batch export ------------------------------------------------------------------------------


def test_sharded_export_equals_one_process_byte_for_byte(trained_tiny, tmp_path):
    args = ["-m", "glyphart", "render", "--preset", str(trained_tiny), "--seeds", "0-7",
            "--size", "48x64px", "-q", "--poster"]
    one = subprocess.run([sys.executable, *args, str(tmp_path / "one" / "{seed}.png")],
                         capture_output=True, text=True, timeout=240)
    assert one.returncode == 0, one.stderr
    two = torchrun(*args, str(tmp_path / "two" / "{seed}.png"))
    assert two.returncode == 0, two.stderr
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted([f"{s}.png" for s in range(8)] + ["manifest.json"])
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    manifest = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert manifest["preset"] == "tiny" and manifest["kind"] == "poster"
    assert [f["file"] for f in manifest["files"]] == [f"{s}.png" for s in range(8)]
    # Resumable: a second sharded run finds every file done and writes none.
    again = torchrun(*args[:-2], "--poster", str(tmp_path / "two" / "{seed}.png"))
    assert again.returncode == 0 and "wrote" not in again.stdout, again.stderr


def test_under_torchrun_only_batch_posters_are_shared_out(trained_tiny, tmp_path, monkeypatch):
    from glyphart.render.api import Render
    job = Render.load(str(trained_tiny), seeds="0-3")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(GlyphartError, match="write a sheet with one process"):
        job.sheet(tmp_path / "s.png")
    assert not any(tmp_path.iterdir())


# -- devices -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train {tiny}", "render --preset {trained}",
                                     "eval {trained}", "font --preset {trained} --out {tmp}/f.ttf",
                                     "explore --no-open --export-dir {tmp}/x"])
def test_device_cuda_without_cuda_is_a_one_line_error(command, trained_tiny, tmp_path,
                                                      monkeypatch):
    from glyphart.cli import main
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as here, on any machine
    args = command.format(tiny=write_tiny(tmp_path), trained=trained_tiny, tmp=tmp_path).split()
    result = CliRunner().invoke(main, [*args, "--device", "cuda"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: --device cuda: no CUDA device is available here; use --device cpu"]
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".toml"]


def test_device_auto_takes_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert distributed.resolve_device("auto") == torch.device("cpu")
