"""glyphart: grow glyphs out of nothing with inverted auto-encoders, and render them as art.

    >>> import glyphart
    >>> preset = glyphart.load_preset("hd-color")
    >>> z = glyphart.messages(preset, "0-7")
    >>> images = preset.generator(z)          # (8, 3, 256, 256) in [0, 1]

Heavy modules (torch) load on first use, so `glyphart --help` stays fast.
"""

__version__ = "0.1.0"

from .memory import keep_freed_memory as _keep_freed_memory  # noqa: E402

_keep_freed_memory()  # freed tensors are reused, not unmapped (memory.py: the numbers)

_LAZY = {
    "load_preset": ("presets", "load_preset"),
    "messages": ("latent", "messages"),
    "parse_seeds": ("latent", "parse_seeds"),
    "load_spec": ("spec", "load_spec"),
    "train": ("train", "train"),
    "evaluate": ("metrics", "evaluate"),
    "Render": ("render.api", "Render"),
    "render_sheet": ("render.api", "render_sheet"),
    "render_poster": ("render.api", "render_poster"),
    "render_video": ("render.api", "render_video"),
    "GlyphartError": ("errors", "GlyphartError"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'glyphart' has no attribute {name!r}")
