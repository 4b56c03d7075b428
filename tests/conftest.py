"""Shared fixtures: a tiny preset (16 px, a few dozen steps) so tests train in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Every test's reads are audited: one that opens a file outside the repository fails.
from read_audit import (pytest_make_collect_report, pytest_runtest_call,  # noqa: F401
                        pytest_runtest_makereport, pytest_runtest_setup,
                        pytest_runtest_teardown)


def _share_the_cores() -> None:
    """Under pytest-xdist, each worker's torch (and the CLI subprocesses it starts) takes its
    share of the cores: two workers each running two threads on two cores would spin-wait."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


_share_the_cores()  # before any test module imports torch

TINY = """
name = "tiny"
description = "a tiny test preset"

[model]
message_size = 16
size = 16
widths = [32, 16, 8]
decoder_widths = [8, 16]

[channel.noise]
std = 0.25

[channel.affine]
p = 0.5

[channel.perspective]
p = 0.5

[train]
batch = 32
lr = 0.003
steps = 40
checkpoint_minutes = 0.01

[render]
frames_per_key = 6
video_seeds = "0-3"
sheet_seeds = "0-15"
"""


@pytest.fixture(autouse=True)
def _isolated_user_presets(tmp_path_factory, monkeypatch):
    """Never touch the real user preset folder."""
    monkeypatch.setenv("GLYPHART_PRESETS", str(tmp_path_factory.mktemp("user-presets")))


def tiny_four_strokes(model_line: str, steps: int = 40) -> str:
    """TINY as a preset of four one-segment strokes on a 64-wide network, with `model_line`
    (e.g. 'exchangeable = true') added to its [model] table."""
    return TINY.replace("[model]", f"[model]\ngenerator = \"strokes\"\n{model_line}\n"
                                   "strokes = 4\nsegments = 1").replace(
        "widths = [32, 16, 8]", "widths = [64]").replace("steps = 40", f"steps = {steps}")


def write_tiny(folder: Path, text: str = TINY, name: str = "tiny") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory) -> Path:
    """A trained tiny preset (TOML path); shared, so treat it as read-only."""
    from glyphart.spec import load_spec
    from glyphart.train import train
    folder = tmp_path_factory.mktemp("tiny")
    path = write_tiny(folder)
    train(load_spec(path), path, quiet=True, eval_messages=1024)
    return path


def run_cli(*args: str, check_ok: bool = False, timeout: float = 300, cwd=None
            ) -> subprocess.CompletedProcess:
    """Run `python -m glyphart ARGS` in a subprocess (real exit codes, real stderr). It runs
    outside the checkout (unless `cwd` says otherwise), so it uses the installed glyphart, as
    the tests themselves do, never the source folder beside them."""
    proc = subprocess.run([sys.executable, "-m", "glyphart", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd or tempfile.gettempdir())
    if check_ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def assert_usage_or_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A click usage error (its usual Usage/Try/Error form) or glyphart's one line: exit 2,
    no traceback, the error line naming what is wrong."""
    if not proc.stderr.startswith("Usage:"):
        return assert_one_line_error(proc, *needles)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    for needle in needles:
        assert needle in error, (needle, error)


def default_sigint() -> None:
    """A child's SIGINT as a terminal gives it, even when the tests run in a background job
    (which a shell starts with SIGINT ignored, and Python keeps ignoring)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
