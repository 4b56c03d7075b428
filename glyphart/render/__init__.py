"""The rendering engine: frames, sheets, posters and looping videos, written atomically."""
