"""The source's experiments, reproduced with one command each: `glyphart study NAME`.

Every study writes figures (PNG, with their parameters in the metadata) and numbers (JSON)
into one folder and returns the numbers. `quick=True` shrinks it to a smoke test.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import GlyphartError

STUDIES = {
    "sweep": "bits per glyph and artifacts against message size (trains gray and color)",
    "reconstruct": "digits through decoder -> generator; is the class still readable?",
    "probe": "linear probe on the decoder: pretrained vs random, frozen vs trainable",
    "invert": "optimise messages to redraw digits: trained vs random generator",
}
_MODULES = {"sweep": "sweep", "reconstruct": "reconstruct", "probe": "probe",
            "invert": "inversion"}


def run_study(name: str, preset: str | None = None, out: str | Path | None = None,
              minutes: float | None = None, repeats: int | None = None, quick: bool = False,
              quiet: bool = False) -> dict:
    if name not in STUDIES:
        raise GlyphartError(f"unknown study {name!r}; choose one of: {', '.join(STUDIES)}")
    if minutes is not None and name != "sweep":
        raise GlyphartError(f"--minutes sets the training budget of the sweep; the {name} "
                            "study has a fixed size (use --quick for a smaller run)")
    from .data import require
    require("sklearn")
    require("matplotlib")
    out = Path(out) if out is not None else Path("outputs") / "studies" / name
    module = importlib.import_module(f".{_MODULES[name]}", __name__)
    return module.run(out, preset=preset, minutes=minutes, repeats=repeats, quick=quick,
                      quiet=quiet)
