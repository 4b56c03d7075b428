"""The parameters every glyphart file carries: which preset, weights, seeds and options made
it, with the glyphart version, as JSON (and a readable line for PNG viewers)."""

from __future__ import annotations

import json

from ... import __version__


def metadata_json(params: dict) -> str:
    """The parameters with the glyphart version, as sorted JSON."""
    return json.dumps({"glyphart_version": __version__, **params}, sort_keys=True)


def metadata_text(params: dict) -> dict[str, str]:
    """The two text entries every glyphart PNG carries: a readable line and the full JSON."""
    params = {"glyphart_version": __version__, **params}
    readable = ", ".join(f"{k}: {v}" for k, v in params.items() if k != "options")
    options = params.get("options") or {}
    if options:
        readable += ", " + ", ".join(f"{k}: {v}" for k, v in options.items())
    return {"parameters": readable, "glyphart": json.dumps(params, sort_keys=True)}
