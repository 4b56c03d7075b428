"""The look of a render: its paint (palette, inks, paper, blend) and how raster glyphs are
enlarged, resolved once from the preset's [render] table and the user's choices."""

from __future__ import annotations

from dataclasses import dataclass

from ..inks import Paint, make_paint


@dataclass
class Look:
    """How glyphs are drawn: shared by sheets, posters, plots and videos."""
    palette: str = "chalk"
    inks: str = ""  # '#rrggbb,...' replacing the palette's inks, one per layer
    paper: str = ""  # '#rrggbb' replacing the palette's paper
    blend: str = ""  # multiply or over; "" = the palette's own, else the preset's
    style: str = "ink"

    def paint(self, preset) -> Paint:
        return make_paint(preset.spec.model.layers, self.palette, self.inks, self.paper,
                          self.blend, preset.spec.render.blend)

    @classmethod
    def from_preset(cls, preset, **overrides) -> "Look":
        r = preset.spec.render
        look = cls(palette=r.palette, inks=r.inks, paper=r.paper, style=r.scale)
        if overrides.get("palette"):  # another palette: the preset's own colours go with it
            look.inks = look.paper = ""
        for key, value in overrides.items():
            if value is not None:
                setattr(look, key, value)
        look.paint(preset)  # validate now
        return look
