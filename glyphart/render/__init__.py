"""The rendering engine: a preset's glyphs to files, one stage per folder.

glyphs.py (coverage or outlines; enlarge.py, outline.py) -> paint.py and look.py (colour) ->
layouts/ (where each glyph goes) -> compose.py (pixels) -> writers/ (files, atomically) ->
api.py (`Render`, the API the CLI and Python users share). docs/architecture.md is the map.
"""
