"""A preset and messages -> glyphs: coverage layers at any size (whole, or a band of rows),
outlines, or a pen's lines.

This is the only place that asks which kind of generator drew a glyph. A strokes generator
draws exactly at any size, and its outlines are its strokes; a raster generator draws a logit
field at its native size, which enlarge.py brings to any size and outline.py traces. Every
function returns coverage in [0, 1] as (B, layers, H, W), one layer per ink, or geometry in
the glyph's own square; colour comes later (paint.py).
"""

from __future__ import annotations

import torch

from ..errors import GlyphartError
from ..precision import native_bf16
from ..strokes import Strokes, centre_lines
from .enlarge import STYLES, draw, edge_sharpness, enlarge
from .outline import field_outline, flatten, hatch_lines, stroke_outline, traced_outline

# Glyphs per generator call. At 256 px a larger batch's activations fall out of cache: hd-color
# draws a glyph in 14 ms in batches of 8-16 and in 36 ms in one batch of 256 (one core, bf16),
# with identical pixels.
GENERATOR_BATCH = 16


def draws_any_size(generator) -> bool:
    """True for generators that draw exactly at any size (strokes): no enlarging needed."""
    return getattr(generator, "draws_any_size", False)


def has_strokes(generator) -> bool:
    """True for generators made of strokes: their glyphs are vectors already (centre lines,
    capsules), pen lines are their strokes'."""
    return getattr(generator, "has_strokes", False)


def draws_strokes(preset) -> bool:
    return has_strokes(preset.generator)


# ---------------------------------------------------------------------------------------------
# coverage


def render_glyphs(generator, z: torch.Tensor, px: int | None = None, style: str = "ink"
                  ) -> torch.Tensor:
    """Glyph coverage in [0, 1], (B, layers, px, px); px defaults to the native size."""
    if style not in STYLES:
        raise GlyphartError(f"unknown scale style {style!r}; use one of {', '.join(STYLES)}")
    if draws_any_size(generator):
        return exact_images(generator, z, px or generator.spec.size)
    logits = generate_logits(generator, z)
    return draw(logits, px or logits.shape[-1], style)


def frame_coverage(generator, z: torch.Tensor, px: int, style: str) -> torch.Tensor:
    """Coverage for video frames: as render_glyphs, but a raster generator runs in bf16 where
    the CPU has it natively.

    bf16 on the CPU: 2.9x less generation time (measured on hd-color), a mean pixel change of
    0.001, where the CPU has bf16 natively (elsewhere emulated: slower). Videos are
    throughput-bound; sheets and posters stay fp32. In ink style the gain is measured per frame
    from the frame itself, so it moves smoothly along the path (one gain per cell for the whole
    loop would pop between keys)."""
    if draws_any_size(generator):
        return exact_images(generator, z, px)
    return draw(generate_logits(generator, z, bf16=native_bf16()), px, style)


def exact_images(generator, z: torch.Tensor, px: int, rows: tuple[int, int] | None = None
                 ) -> torch.Tensor:
    """Glyphs drawn at px (or a band of their rows), anti-aliased to about one pixel."""
    on = _device(generator)
    with torch.no_grad():  # in place, one part without a copy: big frames cost their passes
        parts = [generator.logits(part.to(on), size=px, rows=rows).sigmoid_().cpu()
                 for part in z.split(GENERATOR_BATCH)]
        return parts[0] if len(parts) == 1 else torch.cat(parts)


def generate_logits(generator, z: torch.Tensor, bf16: bool = False) -> torch.Tensor:
    """The generator's logit fields (float32) for messages z, GENERATOR_BATCH at a time."""
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16,
                                         enabled=bf16 and z.device.type == "cpu"):
        return torch.cat([generator.logits(part.to(_device(generator))).float().cpu()
                          for part in z.split(GENERATOR_BATCH)])


def _device(generator) -> torch.device:
    """Where the generator runs (`--device`): messages go there, glyphs come back to the CPU,
    where painting, layouts and writers work (`.to` and `.cpu` are free on the CPU)."""
    return next(generator.parameters()).device


def row_painter(generator, z: torch.Tensor, sides: list[int], style: str):
    """A function drawing rows [first, end) of glyph i at side x side (sides[i]): strokes are
    drawn there exactly; raster logit fields are enlarged (ink: edges sharpened to a pixel)."""
    if draws_any_size(generator):
        return lambda i, side, first, end: exact_images(generator, z[i:i + 1], side,
                                                        (first, end))
    logits = generate_logits(generator, z)
    gains = [edge_sharpness(logits[i:i + 1], side / logits.shape[-1]) if style == "ink"
             else None for i, side in enumerate(sides)]
    return lambda i, side, first, end: enlarge(logits[i:i + 1], side, side, style, first, end,
                                               gains[i])


# ---------------------------------------------------------------------------------------------
# outlines and pen lines


def glyph_outlines(preset, z: torch.Tensor, side: float, clip: bool = True) -> list[list]:
    """Per glyph, per ink layer: its outline in a square of `side` units, y down. Strokes are
    clipped to the square (as on a sheet) unless `clip` is False: a font's letters end in
    their own caps and tapers, overhanging where a stroke runs past the square."""
    layers = preset.spec.model.layers
    if draws_strokes(preset):
        per_layer = layer_strokes(preset.strokes(z), layers)
        return [[stroke_outline(s[i:i + 1], side, clip) for s in per_layer]
                for i in range(len(z))]
    gen = preset.generator
    if hasattr(gen, "outline_field"):  # a kind that samples its own field finely
        with torch.no_grad():
            fields = gen.outline_field(z.to(_device(gen))).float().cpu()
        return [[traced_outline(field, side, 0) for field in glyph] for glyph in fields]
    logits = generate_logits(gen, z)
    return [[field_outline(field, side) for field in glyph] for glyph in logits]


def cell_outlines(preset, z: torch.Tensor, cells) -> list[list]:
    """Per cell (x, y, side) of a page, glyph i's outline per ink layer, at that cell's side."""
    return [glyph_outlines(preset, z[i:i + 1], side)[0] for i, (_, _, side) in enumerate(cells)]


def layer_strokes(strokes: Strokes, layers: int) -> list[Strokes]:
    """The strokes of each ink layer (strokes are shared out among layers in order)."""
    k = strokes.points.shape[1] // layers
    return [Strokes(strokes.points[:, i * k:(i + 1) * k], strokes.radii[:, i * k:(i + 1) * k],
                    strokes.taper) for i in range(layers)]


def check_hatch(preset, hatch: float) -> None:
    """Hatching fills outlines: a strokes preset has centre lines to plot instead."""
    if hatch and draws_strokes(preset):
        raise GlyphartError("--hatch fills raster outlines; a strokes preset plots its "
                            "strokes' centre lines (drop --hatch)")


def check_style(preset, style: str | None) -> None:
    """--style says how raster glyphs are enlarged; strokes are drawn exactly at every size."""
    if style and draws_any_size(preset.generator):
        raise GlyphartError(f"--style sets how raster glyphs are enlarged; {preset.name!r} "
                            "draws its glyphs exactly at every size (drop --style)")


def pen_lines(preset, z: torch.Tensor, side: float, hatch: float = 0.0) -> list[list]:
    """What a pen draws of one glyph (z of batch 1) in a square of `side` px: per ink layer,
    (polyline, closed) pairs. A strokes preset's glyph is its strokes' whole centre lines (a pen
    lifts where a stroke ends, never where it crosses the square); a raster preset's its
    outline's contours (closed) and, with `hatch` px, hatch lines that far apart."""
    check_hatch(preset, hatch)
    if draws_strokes(preset):
        layers = layer_strokes(preset.strokes(z), preset.spec.model.layers)
        return [[(line.double().numpy() * side, False) for line in centre_lines(s, 24)[0][0]]
                for s in layers]
    result = []
    for outline in glyph_outlines(preset, z, side)[0]:
        contours = flatten(outline)
        hatches = hatch_lines(contours, side, hatch) if hatch else []
        result.append([(c, True) for c in contours] + [(h, False) for h in hatches])
    return result


def letter_outlines(preset, z: torch.Tensor, side: float) -> list:
    """Per glyph, one outline of all its inks together, unclipped (a font's letter: strokes
    that run past the square end in their own caps)."""
    import pathops
    letters = []
    for i in range(len(z)):
        layers = glyph_outlines(preset, z[i:i + 1], side, clip=False)[0]
        outline = layers[0]
        if len(layers) > 1:  # a colour glyph types as one shape: all its inks together
            outline = pathops.Path()
            pathops.union(layers, outline.getPen())
        letters.append(outline)
    return letters
