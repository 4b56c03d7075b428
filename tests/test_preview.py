"""`glyphart train --preview`: the live glyph sheet and its numbers; a stopped run's weights."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from conftest import TINY, run_cli, write_tiny
from PIL import Image

from glyphart.presets import load_preset
from glyphart.spec import load_spec
from glyphart.train import checkpoint_path, train


def test_the_preview_sheet_is_written_every_n_steps_with_the_runs_numbers(tmp_path):
    path = write_tiny(tmp_path)
    sheet = tmp_path / "live" / "sheet.png"
    train(load_spec(path), path, quiet=True, eval_messages=0, preview=sheet, preview_every=10)
    status = json.loads(sheet.with_suffix(".json").read_text())
    assert [point[0] for point in status["curve"]] == [10, 20, 30, 40]
    assert status["state"] == "finishing" and status["step"] == status["steps"] == 40
    assert status["steps_per_second"] > 0 and status["seconds_left"] == 0
    assert all(point[1] > 0 for point in status["curve"])  # the mean loss since the last
    with Image.open(sheet) as image:  # 8 x 8 glyphs of 16 px, 2 px gaps round them
        assert image.size == (8 * 16 + 9 * 2,) * 2
    assert not list(sheet.parent.glob(".*"))  # no temporaries left beside it


def test_a_stopped_run_saves_its_weights_and_resume_replaces_them_without_a_backup(tmp_path):
    """Ctrl-C: a checkpoint, and the weights so far as the preset (it renders at once), the
    sheet marked stopped; --resume finishes from the checkpoint, replacing the stopped
    weights (its own work) without keeping them as a backup."""
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 100000").replace(
        "checkpoint_minutes = 0.01", "checkpoint_minutes = 100"))
    sheet = tmp_path / "sheet.png"
    proc = subprocess.Popen([sys.executable, "-m", "glyphart", "train", str(path), "-q",
                             "--preview", str(sheet)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    status = sheet.with_suffix(".json")
    deadline = time.time() + 120
    while not status.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # a sheet or two more
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--resume" in err and "weights so far" in err, err
    assert json.loads(status.read_text())["state"] == "stopped"
    assert checkpoint_path(path).exists()
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["stopped_by"] == "interrupt" and "--resume" in record["metrics_skipped"]
    load_preset(str(path)).generator  # renders as it is now
    done = run_cli("train", str(path), "--resume", "--steps", str(record["steps"] + 5), "-q",
                   "--eval-messages", "0")
    assert done.returncode == 0, done.stderr
    assert not checkpoint_path(path).exists()
    assert not list(tmp_path.glob("*.~*~"))  # the stopped weights were this run's own
