"""The progress bar follows whichever ends first: the step count or the time budget."""

from __future__ import annotations

import io

from glyphart.progress import Progress


def _line(bar: Progress) -> str:
    bar.draw()
    return bar.stream.getvalue().strip().splitlines()[-1]


def test_step_bound_bar_counts_steps():
    bar = Progress(100, "train", stream=io.StringIO(), seconds=10_000)
    bar.update(50)
    assert "50/100" in _line(bar)


def test_time_bound_bar_shows_the_budget_not_a_huge_step_count():
    bar = Progress(1_000_000, "train", stream=io.StringIO(), seconds=60)
    bar.started -= 30  # half the budget spent
    bar.update(10)
    line = _line(bar)
    assert "/1000000" not in line
    assert "############" in line  # about half full
    assert line.endswith(("<0:29", "<0:30"))


def test_quiet_bar_writes_nothing():
    stream = io.StringIO()
    bar = Progress(10, "x", stream=stream, quiet=True)
    bar.update(10)
    bar.close()
    assert stream.getvalue() == ""
