"""The training panel in a real headless browser (the OS's Chromium, as the explorer's other
browser tests): open it on a tiny preset, change a knob, train, watch the live glyphs change,
stop, resume, reload the page and find the training again, stop, and open the new preset from
the picker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import tiny_four_strokes  # noqa: E402
from explore_server import browser_or_fail, running_server  # noqa: E402
from test_explore_browser import GRID_DECODED, PIXELS  # noqa: E402

STATE = "(want) => window.glyphart.training && want.includes(window.glyphart.training.state)"
STEP = ("(n) => { const s = window.glyphart.training; "
        "return s && s.progress && s.progress.step > n; }")


@pytest.fixture
def chromium():
    yield from browser_or_fail()


@pytest.fixture
def seedling():
    """A tiny trained strokes preset in the user folder: what the artist starts from."""
    from glyphart.presets import user_dir
    from glyphart.spec import load_spec
    from glyphart.train import train
    user_dir().mkdir(parents=True, exist_ok=True)
    path = user_dir() / "seedling.toml"
    path.write_text(tiny_four_strokes("exchangeable = true", steps=30))
    train(load_spec(path), path, quiet=True, eval_messages=0)
    return path


def test_train_watch_stop_resume_reattach_and_open_the_new_preset(chromium, seedling,
                                                                  tmp_path):
    with running_server(tmp_path / "exports", preset="seedling") as (url, app):
        page = chromium.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "#preset=seedling")
        page.wait_for_function(GRID_DECODED, arg=8, timeout=60_000)
        page.click("#train-open")
        page.wait_for_selector("#train-form [data-key=strokes]")
        assert page.is_hidden("#train-form [data-table=model][data-key=kernel]")  # raster only
        # change knobs: train long (until stopped), the channel's noise a little stronger
        page.fill("#train-form [data-table=train][data-key=steps]", "100000")
        page.fill("#train-form [data-sub=noise][data-key=std]", "0.3")
        page.fill("#train-name", "sprout")
        page.click("#train-start")
        page.wait_for_function(STATE, arg=["training"], timeout=60_000)
        # the live glyphs change as it learns, and the numbers and curve come with them
        page.wait_for_function(STEP, arg=0, timeout=60_000)
        page.wait_for_function("() => document.querySelector('#train-sheet').naturalWidth > 0")
        first = page.evaluate(PIXELS, "#train-sheet")
        page.wait_for_function(f"(b) => {{ const p = ({PIXELS})('#train-sheet'); "
                               "return p && p.sum !== b; }", arg=first["sum"], timeout=30_000)
        assert "steps/s" in page.inner_text("#train-numbers")
        # stop: it saves; resume continues from the checkpoint
        page.click("#train-stop")
        page.wait_for_function(STATE, arg=["stopped"], timeout=120_000)
        stopped_at = page.evaluate("window.glyphart.training.progress.step")
        page.click("#train-resume")
        page.wait_for_function(STEP, arg=stopped_at, timeout=60_000)
        # reload: the page finds the training again, panel, glyphs and all
        page.reload()
        page.wait_for_function(STATE, arg=["training"], timeout=30_000)
        page.wait_for_selector("#train:not([hidden]) #train-form [data-key=strokes]")
        assert page.input_value("#train-name") == "sprout"
        page.click("#train-stop")
        page.wait_for_function(STATE, arg=["stopped"], timeout=120_000)
        # the new preset is in the picker, and renders
        page.wait_for_selector("#train-open-preset:not([hidden])")
        assert "sprout" in page.evaluate("[...document.querySelector('#preset').options]"
                                         ".map((o) => o.value)")
        page.click("#train-open-preset")
        page.wait_for_function("() => location.hash.includes('preset=sprout')")
        page.wait_for_function(GRID_DECODED, arg=8, timeout=60_000)
        assert not errors, errors
    record = json.loads(seedling.with_name("sprout.json").read_text())
    assert record["resumed_from_step"] == stopped_at and record["stopped_by"] == "interrupt"
    assert "std = 0.3" in seedling.with_name("sprout.toml").read_text()
