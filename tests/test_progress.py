"""Progress: tqdm on a terminal, whole lines in a log, nothing when quiet; a time budget
shrinks the bar's total to the steps it leaves room for."""

from __future__ import annotations

import io

from glyphart.progress import Progress


def test_a_log_gets_whole_lines_with_the_count():
    stream = io.StringIO()
    with Progress(100, "train", stream=stream) as bar:
        bar.update(50, loss=0.5)
        bar.update(100, loss=0.25)
    lines = stream.getvalue().splitlines()
    assert lines and "\r" not in stream.getvalue()
    assert "100/100" in lines[-1] and "loss=0.25" in lines[-1]


def test_a_time_budget_projects_the_steps_it_leaves_room_for():
    stream = io.StringIO()
    bar = Progress(1_000_000, "train", stream=stream, seconds=60)
    bar.started -= 30  # half the budget spent, 10 steps done: about 20 in all
    bar.update(10)
    assert 15 <= bar.bar.total <= 25
    bar.close()
    assert "/1000000" not in stream.getvalue()


def test_quiet_bar_writes_nothing():
    stream = io.StringIO()
    bar = Progress(10, "x", stream=stream, quiet=True)
    bar.update(10)
    bar.close()
    assert stream.getvalue() == ""
