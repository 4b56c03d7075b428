"""Inks on paper: how a preset's coverage layers become a coloured picture.

A gray preset draws one layer and a colour preset K ink layers (`[model] inks`), each a
coverage map in [0, 1]. A palette gives every layer an ink and the picture its paper, and the
blend lays them down: `multiply` overprints like a risograph (each ink a transparent filter,
so where two meet a third colour appears) and `over` lays flat colours in order like a screen
print. Palettes are chosen at render time: the layers' shapes carry the glyph, not the hues.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import GlyphartError
from .parse import color as parse_color, entries  # every colour is read by parse.color

BLENDS = ("multiply", "over")


@dataclass(frozen=True)
class Palette:
    paper: str
    inks: tuple[str, ...]  # layer 1 first: the ink that stands out most from the paper
    blend: str = ""  # the blend this palette needs ("" = the preset's)
    about: str = ""


PALETTES = {
    # one ink: gray presets (a colour preset takes the first K inks of a larger set)
    "chalk": Palette("#000000", ("#ffffff",), about="white chalk on black"),
    "ink": Palette("#f3eee3", ("#16140f",), about="black ink on warm paper"),
    "blueprint": Palette("#123a73", ("#e9f2ff",), about="pale lines on blueprint blue"),
    "neon": Palette("#07090c", ("#4dff88",), about="green neon at night"),
    "gold": Palette("#17140f", ("#f0c35a",), about="gold leaf on black lacquer"),
    "rose": Palette("#fff4f2", ("#c2185b",), about="deep rose on blush paper"),
    "sepia": Palette("#e9d8b8", ("#3b2410",), about="sepia on old paper"),
    # ink sets: colour presets
    "riso": Palette("#f5f0e6", ("#0078bf", "#ff48b0", "#ffe800"), "multiply",
                    "risograph blue, fluorescent pink and yellow, overprinted on cream"),
    "sumi": Palette("#f1eadb", ("#1c1a19", "#d9381e", "#8c9aa6"), "multiply",
                    "sumi ink, vermilion and a grey wash on washi"),
    "harbour": Palette("#fbfaf5", ("#3d5588", "#ff7477", "#5ec8e5"), "multiply",
                       "risograph federal blue, fluorescent orange and aqua on white"),
    "screen": Palette("#efe4cf", ("#1d3557", "#c1272d", "#2a9d8f", "#e9a23b"), "over",
                      "screen-print navy, red, teal and mustard, flat layers on card"),
    "night": Palette("#0b0d12", ("#f5f3ea", "#ffd23f", "#2fd3ff", "#ff3e7f"), "over",
                     "white, yellow, cyan and neon pink on night blue"),
}


def contrast(color, paper) -> float:
    """How far an ink stands from the paper in luminance (0-1): layers are ordered by it."""
    weights = np.array([0.299, 0.587, 0.114]) / 255
    return float(abs(np.dot(weights, color) - np.dot(weights, paper)))


@dataclass(frozen=True)
class Paint:
    """Paper, one ink per layer and the blend: what turns coverage into RGB."""
    paper: tuple[int, int, int]
    inks: tuple[tuple[int, int, int], ...]
    blend: str = "over"

    @property
    def fg(self) -> tuple[int, int, int]:
        return self.inks[0]

    @property
    def bg(self) -> tuple[int, int, int]:
        return self.paper

    def tensors(self, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(inks (1, K, 3), paper (1, 3)) in [0, 1]."""
        inks = torch.tensor(self.inks, dtype=torch.float32, device=device) / 255
        paper = torch.tensor(self.paper, dtype=torch.float32, device=device) / 255
        return inks[None], paper[None]

    def composite(self, coverage: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W) coverage in [0, 1] -> (B, 3, H, W) colour in [0, 1]."""
        return composite(coverage.float(), *self.tensors(coverage.device), self.blend)

    def to_rgb8(self, coverage: torch.Tensor) -> np.ndarray:
        """(B, K, H, W) coverage -> (B, H, W, 3) uint8 (contiguous). The compiled painter
        where there is one (the same bytes, 5-10x less time), else torch."""
        from . import stroke_kernel
        if coverage.device.type == "cpu" and stroke_kernel.available() and \
                self.blend in BLENDS:
            inks, paper = self.tensors()
            if self.blend == "multiply":
                inks = (inks / paper[:, None].clamp_min(1e-3)).clamp(0, 1)
            return stroke_kernel.paint_rgb8(coverage.float(), paper[0], inks[0],
                                            self.blend == "over").numpy()
        return self.torch_rgb8(coverage)

    def torch_rgb8(self, coverage: torch.Tensor) -> np.ndarray:
        rgb = self.composite(coverage.clamp(0, 1)) * 255
        return rgb.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()

    def mixes(self, steps: int = 11) -> np.ndarray:
        """(M, 3) uint8-scale colours this paint can make: every layer at `steps` coverages."""
        k = len(self.inks)
        levels = torch.linspace(0, 1, steps)
        grid = torch.stack(torch.meshgrid(*[levels] * k, indexing="ij"), -1).view(-1, k)
        return (self.composite(grid[:, :, None, None])[:, :, 0, 0] * 255).numpy()


def composite(coverage: torch.Tensor, inks: torch.Tensor, paper: torch.Tensor, blend: str
              ) -> torch.Tensor:
    """Lay K coverage layers (B, K, H, W) onto paper (B or 1, 3) with inks (B or 1, K, 3).

    multiply: each ink filters the light by ink / paper, so one ink alone shows exactly its own
    colour and overlaps darken into a third; over: each layer covers what lies below it."""
    paper = paper[:, :, None, None]
    if blend == "multiply":
        transmit = (inks / paper[:, None, :, 0, 0].clamp_min(1e-3)).clamp(0, 1)  # (B, K, 3)
        picture = paper.expand(coverage.shape[0], 3, *coverage.shape[2:])
        for k in range(coverage.shape[1]):
            c = coverage[:, k:k + 1]
            picture = picture * (1 - c + c * transmit[:, k, :, None, None])
        return picture
    if blend == "over":
        picture = paper.expand(coverage.shape[0], 3, *coverage.shape[2:])
        for k in range(coverage.shape[1]):
            c = coverage[:, k:k + 1]
            picture = picture + c * (inks[:, k, :, None, None] - picture)
        return picture
    raise GlyphartError(f"unknown blend {blend!r}; use one of {', '.join(BLENDS)}")


def make_paint(layers: int, palette: str, inks: str = "", paper: str = "", blend: str = "",
               default_blend: str = "multiply") -> Paint:
    """The paint for a preset with `layers` layers: a named palette, its inks or paper
    replaced by `--inks '#rrggbb,...'` and `--paper '#rrggbb'`, and the blend (the option's,
    else the palette's own, else the preset's)."""
    if palette not in PALETTES:
        raise GlyphartError(f"unknown palette {palette!r}; use one of {', '.join(PALETTES)}")
    named = PALETTES[palette]
    colours = entries(inks, "inks") if inks else list(named.inks)
    if inks and len(colours) != layers:
        raise GlyphartError(f"--inks gives {len(colours)} colour(s) but the preset draws "
                            f"{layers} layer(s); give {layers}, e.g. "
                            f"--inks '{','.join(PALETTES['screen'].inks[:layers])}'")
    if len(colours) < layers:
        fits = [n for n, p in PALETTES.items() if len(p.inks) >= layers]
        raise GlyphartError(f"palette {palette!r} has {len(colours)} ink(s) but the preset "
                            f"draws {layers} layers; use one of {', '.join(fits)} or --inks")
    blend = blend or named.blend or default_blend
    if blend not in BLENDS:
        raise GlyphartError(f"unknown blend {blend!r}; use one of {', '.join(BLENDS)}")
    if layers == 1:
        blend = "over"  # one ink: the two agree wherever multiply can show the ink at all
    return Paint(parse_color(paper or named.paper),
                 tuple(parse_color(c) for c in colours[:layers]), blend)


def training_inks(paint: Paint, batch: int, device=None, random_share: float = 0.5
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inks (B, K, 3) and paper (B, 3) for one training step: half the glyphs in the preset's
    own palette, shifted a little, half in random inks ordered by their contrast with the
    paper (layer 1 stands out most), as every named palette is: the decoder learns to tell the
    layers apart by shape and rank, not by particular hues, so other palettes read back."""
    inks, paper = paint.tensors(device)
    k = inks.shape[1]
    paper = (paper + 0.03 * torch.randn(batch, 3, device=device)).clamp(0, 1)
    own = (inks + 0.06 * torch.randn(batch, k, 3, device=device)).clamp(0, 1)
    random = torch.rand(batch, k, 3, device=device)
    weights = torch.tensor([0.299, 0.587, 0.114], device=device)
    rank = ((random @ weights) - (paper @ weights)[:, None]).abs().argsort(1, descending=True)
    random = random.gather(1, rank[..., None].expand(-1, -1, 3))
    pick = torch.rand(batch, 1, 1, device=device) < random_share
    return torch.where(pick, random, own), paper
