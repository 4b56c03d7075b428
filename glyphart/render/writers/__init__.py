"""Bytes to a file: PNG (banded), SVG, PDF, plotter SVG, WebM/MP4/GIF and fonts, each written
atomically (atomic.py) and carrying the parameters that made it (metadata.py)."""
