"""Where each glyph goes: cells (x, y, side) in a picture's pixels, frames in time, letters
on an em. Nothing here draws or writes; no layout imports another (grid.py and page.py are
the measures they share)."""
