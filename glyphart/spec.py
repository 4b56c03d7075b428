"""Preset specification: dataclasses for the TOML tables, strict loading and dumping.

Every field carries its allowed values in its metadata, so the validator can name the file,
the key and what is allowed in one line. No torch import here: `glyphart presets` stays fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GlyphartError
from .parse import color, entries, shown


def _f(default, *, lo=None, hi=None, choices=None, length=None, unset="", doc="", kinds=None):
    """A field with its constraints. `length` constrains lists (exact int or (min, max));
    `unset` says what leaving the key out means, when the default is no allowed value;
    `kinds`: the generators it acts on (None: every one), so forms show only what applies."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "length": length, "unset": unset,
            "doc": doc, "kinds": kinds}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------------------------------------
# [model]

RASTER, STROKES, SHAPES = ("resize", "convtranspose"), ("strokes",), ("shapes",)


@dataclass
class ShapesSpec:
    """[model.shapes]: the shapes generator's own fields."""
    grid: int = _f(12, lo=4, hi=64,
                   doc="field cells a side: no feature is much finer than a cell (the band "
                       "limit; 8-16 at 64 px draws a few bold shapes)")
    detail: bool = _f(False, doc="a second field on a grid twice as fine, started at zero: an hd "
                                 "preset grows from its parent with the parent's glyphs, then "
                                 "adds detail the parent's grid cannot hold")
    softness: float = _f(0.7, lo=0.05, hi=8.0,
                         doc="edge softness at the native size in pixels, in training (renders "
                             "are always anti-aliased to about one output pixel)")


@dataclass
class ModelSpec:
    message_size: int = _f(64, lo=1, hi=4096, doc="numbers in a message")
    channels: int = _f(1, choices=[1, 3], doc="1 = grayscale, 3 = color")
    inks: int = _f(0, lo=2, hi=4, unset="leave it out for a gray preset",
                   doc="colour presets: ink layers the generator draws, laid on paper with a "
                       "palette's inks at render time (left out: the channels are the picture)")
    size: int = _f(64, lo=8, hi=1024, doc="native image size in pixels")
    generator: str = _f("resize", choices=["resize", "convtranspose", "strokes", "shapes"],
                        doc="resize = upsample + conv (no checkerboard); convtranspose = "
                            "source's; strokes = a few brush strokes, drawn exactly at any size; "
                            "shapes = bold shapes, the level set of a smooth field, exact at any "
                            "size")
    widths: list = _f([256, 128, 64, 32, 16], length=(1, 10), lo=1, hi=2048,
                      doc="generator channels per resolution, coarse to fine (each doubles)")
    decoder_widths: list = _f([16, 32, 64, 128, 256], length=(1, 10), lo=1, hi=2048,
                              doc="decoder channels per stride-2 conv, fine to coarse")
    decoder_pool: int = _f(1, choices=[1, 2, 4, 8],
                           doc="decoder averages NxN pixels first (the channel runs before, "
                               "at full size)")
    convs_per_stage: int = _f(1, lo=1, hi=4, doc="3x3 convs after each upsampling", kinds=RASTER)
    kernel: int = _f(3, choices=[3, 4, 5], doc="generator kernel size", kinds=RASTER)
    activation: str = _f("leaky_relu", choices=["leaky_relu", "relu", "silu", "gelu"])
    norm: str = _f("batch", choices=["batch", "none"])
    padding: str = _f("zeros", choices=["zeros", "reflect", "replicate"],
                      doc="generator conv padding: zeros lets border pixels know they are at "
                          "the border (frames grow there); reflect makes them look like the "
                          "inside",
                          kinds=RASTER)
    draft: int = _f(0, lo=0, hi=1024,
                    doc="size at which the generator first draws a draft glyph; the finer "
                        "stages add detail to its smooth enlargement (0 = no draft)", kinds=RASTER)
    register: bool = _f(False, doc="the decoder first finds where the glyph's corners went "
                                   "(a small localisation net) and unwarps it before reading")
    edge_margin: float = _f(0.0, lo=0.0, hi=0.25,
                            doc="fraction of the size along each edge that fades to the "
                                "background, so glyphs never draw frames or corner marks",
                                kinds=RASTER)

    strokes: int = _f(4, lo=1, hi=16, doc="strokes generator: brush strokes per glyph",
                      kinds=STROKES)
    segments: int = _f(2, lo=1, hi=8, doc="strokes generator: cubic Bezier segments per stroke "
                                          "(more bend more)", kinds=STROKES)
    exchangeable: bool = _f(False, doc="strokes generator: the message is a set of strokes, "
                                       "each drawn by one shared network from its own share "
                                       "of the message, so no stroke keeps a home; the "
                                       "decoder reads the set back in any order", kinds=STROKES)
    place: str = _f("learned", choices=["learned", "message"],
                    doc="strokes generator: where each stroke's centre comes from: learned "
                        "(the network's choice) or message (two numbers of the message each, "
                        "so every stroke lands anywhere in the glyph with equal chance and "
                        "none keeps a home, while the network shapes it)", kinds=STROKES)
    detail: bool = _f(False, doc="exchangeable strokes: every Bezier segment split in two "
                                 "(the same curve) and bent by a detail head that starts at "
                                 "zero: an hd preset grows from its parent with every tensor "
                                 "copied and the parent's glyphs, then learns bends the parent "
                                 "cannot draw", kinds=STROKES)
    width: list = _f([0.05, 0.14], length=2, lo=0.005, hi=0.5,
                     doc="strokes generator: [thinnest, thickest] stroke width, as a fraction "
                         "of the glyph's side", kinds=STROKES)
    taper: float = _f(0.35, lo=0.0, hi=1.0,
                      doc="strokes generator: width at a stroke's two ends relative to its "
                          "middle (1 = blunt, 0 = a brush lifted to a point)", kinds=STROKES)
    softness: float = _f(0.7, lo=0.05, hi=4.0,
                         doc="strokes generator: edge softness at native size in pixels, in "
                             "training (renders are always anti-aliased to one output pixel)",
                             kinds=STROKES)
    inset: float = _f(0.12, lo=-0.25, hi=0.4,
                      doc="strokes generator: control points stay this fraction of the side "
                          "away from the glyph's edges; below 0 strokes may run off the glyph "
                          "and are cut by its edge, like shapes cut by a frame", kinds=STROKES)
    shapes: ShapesSpec | None = _f(None, doc="[model.shapes]: the shapes generator's fields",
                                   kinds=SHAPES)

    def __post_init__(self):
        if self.generator == "shapes" and self.shapes is None:
            self.shapes = ShapesSpec()

    @property
    def draws_any_size(self) -> bool:
        """Whether the generator draws exactly at any size (listings ask without building it)."""
        return self.generator in ("strokes", "shapes")

    @property
    def kind(self) -> str:
        """What an artist is told it draws: gray or color, and strokes for stroke presets."""
        return ("color" if self.channels == 3 else "gray") + \
            (f" {self.inks} inks" if self.inks else "") + \
            (f" {self.generator}" if self.generator in ("strokes", "shapes") else "")

    @property
    def layers(self) -> int:
        """Images the generator draws per glyph: its ink layers, else its channels."""
        return self.inks or self.channels

    @property
    def start_size(self) -> int:
        return self.size // 2 ** (len(self.widths) - 1)


# ---------------------------------------------------------------------------------------------
# [channel]: each transformation is a sub-table; a missing table means "off".


@dataclass
class NoiseSpec:
    std: float = _f(0.25, lo=0.0, hi=4.0, doc="std of gaussian noise added before the warp")
    p: float = _f(1.0, lo=0.0, hi=1.0)


@dataclass
class MultiplicativeSpec:
    std: float = _f(0.1, lo=0.0, hi=2.0, doc="std of the per-pixel gain noise (x * (1 + n))")
    p: float = _f(1.0, lo=0.0, hi=1.0)


@dataclass
class AffineSpec:
    degrees: float = _f(30.0, lo=0.0, hi=180.0)
    translate: float = _f(0.1, lo=0.0, hi=0.5, doc="fraction of the image size")
    scale: list = _f([0.9, 1.1], length=2, lo=0.1, hi=4.0)
    shear: float = _f(10.0, lo=0.0, hi=45.0, doc="degrees")
    p: float = _f(0.5, lo=0.0, hi=1.0)


@dataclass
class PerspectiveSpec:
    distortion: float = _f(0.6, lo=0.0, hi=1.0)
    p: float = _f(0.5, lo=0.0, hi=1.0)


@dataclass
class CropSpec:
    scale: list = _f([0.7, 1.0], length=2, lo=0.05, hi=1.0, doc="area fraction kept")
    ratio: list = _f([0.8, 1.25], length=2, lo=0.1, hi=10.0)
    p: float = _f(0.5, lo=0.0, hi=1.0)


@dataclass
class BlurSpec:
    sigma: list = _f([0.1, 1.5], length=2, lo=0.01, hi=20.0, doc="pixels at native size")
    p: float = _f(0.5, lo=0.0, hi=1.0)


@dataclass
class WarpSpec:
    """Thin-plate-spline warp: a smooth random UV remap."""
    scale: float = _f(0.1, lo=0.0, hi=0.5)
    p: float = _f(0.5, lo=0.0, hi=1.0)


@dataclass
class ColorJitterSpec:
    brightness: float = _f(0.2, lo=0.0, hi=1.0)
    contrast: float = _f(0.2, lo=0.0, hi=1.0)
    saturation: float = _f(0.2, lo=0.0, hi=1.0)
    hue: float = _f(0.05, lo=0.0, hi=0.5)
    p: float = _f(0.5, lo=0.0, hi=1.0)


@dataclass
class ChannelSpec:
    # Order of application is fixed (see channel.py): colour, blur, gain, noise, warps, crop.
    color_jitter: ColorJitterSpec | None = _f(None)
    blur: BlurSpec | None = _f(None)
    multiplicative: MultiplicativeSpec | None = _f(None)
    noise: NoiseSpec | None = _f(None)
    affine: AffineSpec | None = _f(None)
    perspective: PerspectiveSpec | None = _f(None)
    warp: WarpSpec | None = _f(None)
    crop: CropSpec | None = _f(None)


# ---------------------------------------------------------------------------------------------
# [train] and [render]


@dataclass
class TrainSpec:
    batch: int = _f(64, lo=1, hi=4096)
    lr: float = _f(1e-3, lo=1e-6, hi=1.0)
    lr_final: float = _f(1.0, lo=0.0, hi=1.0, doc="final lr as a fraction of lr (cosine decay)")
    warmup: float = _f(0.0, lo=0.0, hi=0.5,
                       doc="fraction of the run over which lr rises linearly from 0 (a run "
                           "from trained weights starts Adam afresh: at full lr its first "
                           "steps knock the trained glyphs about)")
    steps: int = _f(5000, lo=1, hi=10_000_000)
    minutes: float = _f(0.0, lo=0.0, hi=100_000.0, doc="wall-clock budget, 0 = no limit")
    seed: int = _f(0, lo=0, hi=2**63 - 1)
    init_from: str = _f("", doc="start from this preset's weights where names and shapes match")
    carried_lr: float = _f(1.0, lo=0.0, hi=1.0,
                           doc="with init_from: the learning rate of the tensors copied "
                               "unchanged from the parent, as a fraction of lr (`preset new` "
                               "writes the parent's lr_final): a copy fine-tunes what its parent "
                               "learned while its widened and new parts learn at lr")
    bf16: bool = _f(True, doc="bfloat16 autocast where the machine computes it natively "
                              "(CUDA, CPUs with AVX512_BF16 or AMX); fp32 elsewhere, and "
                              "everywhere when false")
    checkpoint_minutes: float = _f(2.0, lo=0.001, hi=1000.0)
    video_every: int = _f(50, lo=1, hi=1_000_000, doc="steps between training-video frames")
    weights_dtype: str = _f("float16", choices=["float16", "float32"])
    bits_target: float = _f(0.0, lo=0.0, hi=100_000.0,
                            doc="with loss = \"bits\": bits per glyph beyond which a message "
                                "number earns nothing more (0 = no limit); past it the look "
                                "penalties win, instead of the code growing into a fine lattice")
    register_weight: float = _f(1.0, lo=0.0, hi=100.0,
                                doc="weight of the registration loss (where the decoder puts "
                                    "the glyph's corners against where the channel moved them); "
                                    "with [model] register = true")
    saturation: float = _f(0.0, lo=0.0, hi=10.0,
                           doc="weight of a penalty on grey (4 x (1 - x), 0 at black or white): "
                               "glyphs become clean shapes instead of grey clouds")
    look_ramp: list = _f([0.15, 0.5], length=2, lo=0.0, hi=1.0,
                         doc="fractions of the run over which the look penalties (saturation, "
                             "perimeter, homes) phase in: shapes form first, then clean up "
                             "(from the start, the generator can fall into all-black)")
    perimeter: float = _f(0.0, lo=0.0, hi=100.0,
                          doc="weight of a penalty on edge length (mean gradient magnitude, as "
                              "at 64 px): fewer, bolder shapes instead of a fine lattice of dots")
    ink: list = _f([0.0, 1.0], length=2, lo=0.0, hi=1.0,
                   doc="range of mean brightness each channel of a glyph may use; outside it, "
                       "a penalty (keeps glyphs as shapes on a plain background)")
    layout: float = _f(0.0, lo=0.0, hi=100.0,
                       doc="weight of a penalty on a shared layout (the spatial std / mean of "
                           "the batch's mean image): glyphs that place their ink differently, "
                           "not one motif that every glyph repeats. On from the first step")
    composition: float = _f(0.0, lo=0.0, hi=100.0,
                            doc="weight of a penalty on glyphs that share one coarse composition "
                                "(the mean correlation of their ink blurred to a tenth of the "
                                "cell, which eval's composition is 1 minus): each glyph its own "
                                "arrangement, not one motif redrawn. On from the first step")
    homes: float = _f(0.0, lo=0.0, hi=100.0,
                      doc="strokes generator: weight of a penalty on strokes that keep a home "
                          "of their own (one always on the left, one always across the top: "
                          "every glyph a variation on one composition), phased in over "
                          "look_ramp; strokes become interchangeable, any may be anywhere",
                          kinds=STROKES)
    spread: float = _f(0.0, lo=0.0, hi=100.0,
                       doc="strokes generator: weight of a penalty that spreads each control "
                           "point uniformly over the glyph across messages (no stroke keeps a "
                           "home of its own; glyphs differ in layout, not only in detail)",
                           kinds=STROKES)
    logit_noise: float = _f(0.0, lo=0.0, hi=10.0,
                            doc="std of noise on the generator's logits in training: grey "
                                "pixels become unreliable, so glyphs saturate to clean ink")
    best_order_from: float = _f(1.0, lo=0.0, hi=1.0,
                                doc="exchangeable strokes: from this fraction of the run on, "
                                    "the read-back is compared with the sent strokes in their "
                                    "best order, as eval counts it, not left to right (1 = "
                                    "never; from the first step the reader learns only the "
                                    "mean, so for a run that starts from trained weights)",
                                    kinds=STROKES)
    reader_until: float = _f(0.0, lo=0.0, hi=1.0,
                             doc="strokes and shapes with [model] decoder_pool > 1: up to this "
                                 "fraction of the run, steps draw the glyphs anti-aliased at "
                                 "the decoder's size (size / decoder_pool) and run the channel "
                                 "there, its per-pixel noise scaled to the pooled view: "
                                 "decoder_pool^2 fewer pixels to draw, warp and score. From it "
                                 "on, at [model] size, as eval reads them: the decoder ends on "
                                 "eval's own view (0 = never)", kinds=STROKES + SHAPES)
    sharpen: float = _f(0.0, lo=0.0, hi=1.0,
                        doc="shapes generator: fraction of the run over which edges sharpen "
                            "from 8x [model.shapes] softness to it: wide edges early let "
                            "gradients reach every shape, crisp ones at the end are what "
                            "renders show (0 = crisp from the start)", kinds=SHAPES)
    opening: float = _f(0.0, lo=0.0, hi=100.0,
                        doc="weight of a penalty on the ink a morphological opening takes away "
                            "(a square a ninth of the cell wide): dots, beads and hairlines "
                            "narrower than that give their ink back, so a glyph is a few bold "
                            "parts, not bold parts and crumbs. On from the first step")
    margin: float = _f(0.0, lo=0.0, hi=100.0,
                       doc="weight of a penalty on ink in the cell's outer tenth beyond the "
                           "density of its middle half: shapes may run off the cell, as the "
                           "source's do, but never lean on its edge as a frame")
    loss: str = _f("mse", choices=["mse", "bits"],
                   doc="mse: mean squared read-back error; bits: the bits-per-glyph bound itself "
                       "(mean log of each dimension's error), which favours dimensions that "
                       "already carry information")


@dataclass
class RenderSpec:
    palette: str = _f("chalk", doc="paper and inks by name, see `glyphart palettes`; colour "
                                   "presets train on it (and on random inks around it)")
    inks: str = _f("", doc="ink colours overriding the palette's, one per layer: "
                           "'#rrggbb,#rrggbb,...'")
    paper: str = _f("", doc="paper colour (#rrggbb) overriding the palette's")
    blend: str = _f("multiply", choices=["multiply", "over"],
                    doc="how ink layers meet: multiply overprints (a risograph: two inks make "
                        "a third), over lays flat colours in order (a screen print); a "
                        "palette made for one blend (e.g. night) brings its own")
    scale: str = _f("ink", choices=["ink", "smooth", "nearest"], doc="how glyphs are enlarged")
    glyph_px: int = _f(0, lo=0, hi=16384, doc="glyph size on sheets; 0 = native")
    gap: int = _f(4, lo=0, hi=4096)
    fps: int = _f(30, lo=1, hi=240)
    frames_per_key: int = _f(30, lo=1, hi=10_000)
    interp: str = _f("cubic", choices=["lerp", "slerp", "cubic"])
    video_seeds: str = _f("0-7", doc="default keyframe seeds of a video")
    video_px: int = _f(0, lo=0, hi=8192, doc="video cell size; 0 = 2 x native")
    sheet_seeds: str = _f("0-63")


@dataclass
class Spec:
    name: str = _f("", doc="preset name")
    description: str = _f("")
    model: ModelSpec = _f(None)
    channel: ChannelSpec = _f(None)
    train: TrainSpec = _f(None)
    render: RenderSpec = _f(None)
    path: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        self.model = self.model or ModelSpec()
        self.channel = self.channel or ChannelSpec()
        self.train = self.train or TrainSpec()
        self.render = self.render or RenderSpec()

    @property
    def model_hash(self) -> str:
        """Hash of the [model] table: weights record it, so an edited architecture is refused."""
        return hash_model(self.model)


# Keys added to [model] after weights were first shipped: hashed only when set, so older
# weights stay valid.
_HASHED_WHEN_SET = {"edge_margin": 0.0, "padding": "zeros", "register": False, "draft": 0,
                    "strokes": 4, "segments": 2, "width": [0.05, 0.14], "taper": 0.35,
                    "softness": 0.7, "inset": 0.12, "inks": 0,
                    "exchangeable": False, "place": "learned", "detail": False,
                    "shapes": None}


def hash_model(model: ModelSpec) -> str:
    table = {k: v for k, v in dataclasses.asdict(model).items()
             if _HASHED_WHEN_SET.get(k, object()) != v}
    text = json.dumps(table, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# loading and validation

_TABLES = {"model": ModelSpec, "channel": ChannelSpec, "train": TrainSpec, "render": RenderSpec}
_FIELDS = {cls: {f.name: f for f in dataclasses.fields(cls)} for cls in _TABLES.values()}


def _default(cls, name: str):
    f = _FIELDS[cls][name]
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def _sub_type(name: str):
    return {
        "color_jitter": ColorJitterSpec, "blur": BlurSpec, "multiplicative": MultiplicativeSpec,
        "noise": NoiseSpec, "affine": AffineSpec, "perspective": PerspectiveSpec,
        "warp": WarpSpec, "crop": CropSpec,
    }[name]


def _type_name(default) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a string"
    if isinstance(default, list):
        return "a list of numbers"
    return type(default).__name__


def _allowed(f: dataclasses.Field, default) -> str:
    m = f.metadata
    parts = [_type_name(default)]
    if m.get("choices"):
        parts = ["one of " + ", ".join(repr(c) for c in m["choices"])]
    if m.get("length") is not None:
        n = m["length"]
        parts.append(f"with {n} items" if isinstance(n, int) else f"with {n[0]} to {n[1]} items")
    if m.get("lo") is not None or m.get("hi") is not None:
        parts.append(f"each between {m['lo']} and {m['hi']}" if isinstance(default, list)
                     else f"between {m['lo']} and {m['hi']}")
    return " ".join(parts) + (f" ({m['unset']})" if m.get("unset") else "")


def _check_value(where: str, f: dataclasses.Field, default, value):
    m = f.metadata
    bad = GlyphartError(f"{where}: got {shown(value)}, expected {_allowed(f, default)}")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        value = float(value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise bad
    elif isinstance(default, list):
        if not isinstance(value, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise bad
        if all(isinstance(v, int) for v in default) and not all(isinstance(v, int) for v in value):
            raise bad
        n = m.get("length")
        if isinstance(n, int) and len(value) != n:
            raise bad
        if isinstance(n, tuple) and not n[0] <= len(value) <= n[1]:
            raise bad
    if m.get("choices") and value not in m["choices"]:
        raise bad
    items = value if isinstance(value, list) else [value]
    for v in items:
        if isinstance(v, float) and not math.isfinite(v):
            raise bad
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if (m.get("lo") is not None and v < m["lo"]) or \
                    (m.get("hi") is not None and v > m["hi"]):
                raise bad
    return value


def _build(cls, table: dict, where: str):
    if not isinstance(table, dict):
        raise GlyphartError(f"{where}: expected a table, got {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
    kwargs = {}
    for key, value in table.items():
        if key not in fields:
            raise GlyphartError(
                f"{where}: unknown key {key!r}; allowed keys: {', '.join(fields)}")
        f = fields[key]
        if cls is ChannelSpec:
            kwargs[key] = _build(_sub_type(key), value, f"[channel.{key}]")
        elif cls is ModelSpec and key == "shapes":
            kwargs[key] = _build(ShapesSpec, value, "[model.shapes]")
        elif cls is Spec and key in _TABLES:
            kwargs[key] = _build(_TABLES[key], value, f"[{key}]")
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kwargs[key] = _check_value(f"{where} {key}" if where else key, f, default, value)
    return cls(**kwargs)


def spec_from_dict(data: dict, source: str = "<preset>") -> Spec:
    try:
        spec = _build(Spec, data, "")
    except GlyphartError as e:
        raise GlyphartError(f"{source}: {e}") from None
    _check_consistency(spec, source)
    return spec


def _check_consistency(spec: Spec, source: str):
    """Tables each valid on its own that do not fit together: one error that names the fix."""
    m = spec.model
    if m.shapes is not None and m.generator != "shapes":
        raise GlyphartError(f"{source}: [model.shapes] belongs to the shapes generator; remove "
                            f"it, or set [model] generator = \"shapes\"")
    for name in ("homes", "spread"):
        if getattr(spec.train, name) and m.generator != "strokes":
            raise GlyphartError(f"{source}: [train] {name} acts on strokes; a {m.generator} "
                                "generator has none (remove it, or set [model] generator = "
                                "\"strokes\")")
    if m.generator == "strokes":
        _check_strokes(spec, source)
    elif m.generator == "shapes":
        _check_shapes(spec, source)
    else:
        _check_raster(spec, source)
    _check_sizes(m, source)
    _check_ranges(spec, source)
    _check_colour(spec, source)
    _check_render_colours(spec, source)


def _check_strokes(spec: Spec, source: str):
    m = spec.model
    if m.width[0] > m.width[1]:
        raise GlyphartError(f"{source}: [model] width {m.width} must be [thinnest, "
                            "thickest] with thinnest <= thickest")
    if m.channels != 1 and not m.inks:
        raise GlyphartError(f"{source}: [model] a strokes generator draws ink layers: "
                            "channels = 1 for one ink, or set inks = 2-4 for colour")
    if m.draft:
        raise GlyphartError(f"{source}: [model] draft is for raster generators; a strokes "
                            "generator draws at every size already (remove draft)")
    total = m.strokes * (m.inks or 1)
    if m.exchangeable and m.message_size % total:
        raise GlyphartError(f"{source}: [model] exchangeable strokes share the message "
                            f"equally: message_size {m.message_size} must be divisible by "
                            f"the {total} strokes (strokes x inks)")
    if m.place == "message" and m.exchangeable:
        raise GlyphartError(f"{source}: [model] place = \"message\" gives each stroke "
                            "fixed numbers of the message; exchangeable strokes share it "
                            "as a set (choose one)")
    _check_reader_until(spec, source)
    if m.detail and not m.exchangeable:
        raise GlyphartError(f"{source}: [model] detail bends exchangeable strokes; set "
                            "exchangeable = true as well, or remove detail")
    if m.place == "message" and m.message_size < 2 * total:
        raise GlyphartError(f"{source}: [model] place = \"message\" needs two numbers "
                            f"per stroke: message_size {m.message_size} must be at least "
                            f"{2 * total} for {total} strokes")


def _check_reader_until(spec: Spec, source: str):
    if spec.train.reader_until > 0 and spec.model.decoder_pool == 1:
        raise GlyphartError(f"{source}: [train] reader_until draws at the decoder's size, "
                            "which is [model] size without a decoder_pool (set "
                            "decoder_pool = 2, 4 or 8, or remove reader_until)")


def _check_raster(spec: Spec, source: str):
    m, stages = spec.model, len(spec.model.widths) - 1
    if spec.train.reader_until > 0:
        raise GlyphartError(f"{source}: [train] reader_until acts on strokes and shapes, "
                            f"which draw at any size; a {m.generator} generator draws at its "
                            "own (remove it)")
    if m.exchangeable or m.place != "learned" or m.detail:
        raise GlyphartError(f"{source}: [model] exchangeable, place and detail act on strokes; a "
                            f"{m.generator} generator has none (remove them, or set "
                            "generator = \"strokes\")")
    if m.size % 2 ** stages or m.start_size < 2:
        raise GlyphartError(
            f"{source}: [model] size {m.size} must be divisible by 2^(len(widths)-1) = "
            f"{2 ** stages} with at least 2 px left (use fewer widths or another size)")


def _check_sizes(m: ModelSpec, source: str):
    """The sizes the generator passes through, the decoder's strides and the kernel."""
    if m.draft and (m.draft >= m.size or m.draft < m.start_size
                    or m.size % m.draft or (m.size // m.draft) & (m.size // m.draft - 1)):
        raise GlyphartError(f"{source}: [model] draft {m.draft} must be one of the sizes the "
                            f"generator passes through below {m.size} (start {m.start_size}, "
                            f"doubling), or 0 for none")
    if m.size % m.decoder_pool or m.size // m.decoder_pool // 2 ** len(m.decoder_widths) < 1:
        raise GlyphartError(f"{source}: [model] decoder_widths has {len(m.decoder_widths)} "
                            f"stride-2 convs after a {m.decoder_pool}x pool, too many for size "
                            f"{m.size}")
    if m.kernel % 2 == 0:
        raise GlyphartError(f"{source}: [model] kernel {m.kernel} is even, which the "
                            f"{m.generator} generator's convolutions cannot centre (each would "
                            "grow the image by a pixel); use kernel = 3 or 5")


def _check_ranges(spec: Spec, source: str):
    """[low, high] pairs in order."""
    for name, pair in (("look_ramp", spec.train.look_ramp), ("ink", spec.train.ink)):
        if pair[0] > pair[1]:
            raise GlyphartError(f"{source}: [train] {name} {pair} must be [low, high] with "
                                f"low <= high")
    for name in ("affine", "crop"):
        table = getattr(spec.channel, name)
        if table is not None and table.scale[0] > table.scale[1]:
            raise GlyphartError(f"{source}: [channel.{name}] scale must be [low, high] "
                                "with low <= high")


def _check_colour(spec: Spec, source: str):
    m = spec.model
    if m.channels == 3 and not m.inks:
        raise GlyphartError(f"{source}: [model] channels = 3 draws colour as ink layers: set "
                            "inks = 2, 3 or 4 (laid on paper with a palette's inks)")
    if m.inks and m.channels != 3:
        raise GlyphartError(f"{source}: [model] inks = {m.inks} lays colour inks on paper; "
                            "set channels = 3 (or leave inks out for a gray preset)")
    if spec.channel.color_jitter is not None and m.channels != 3:
        raise GlyphartError(f"{source}: [channel.color_jitter] needs [model] channels = 3; "
                            "remove the table for a gray preset")


def _check_shapes(spec: Spec, source: str):
    m = spec.model
    _check_reader_until(spec, source)
    if m.exchangeable or m.place != "learned" or m.detail:
        raise GlyphartError(f"{source}: [model] exchangeable, place and detail act on strokes; "
                            "a shapes generator has none (remove them; [model.shapes] detail "
                            "adds a finer field)")


def _check_render_colours(spec: Spec, source: str):
    """[render] inks and paper, read as --inks and --paper are: a colour each, one ink a layer."""
    r, layers = spec.render, spec.model.layers
    try:
        inks = entries(r.inks, "[render] inks") if r.inks else []
        for colour in inks + ([r.paper] if r.paper else []):
            color(colour, "[render] colour")
    except GlyphartError as e:
        raise GlyphartError(f"{source}: {e}") from None
    if inks and len(inks) != layers:
        raise GlyphartError(f"{source}: [render] inks gives {len(inks)} colour(s) but [model] "
                            f"draws {layers} layer(s); give one per layer")


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GlyphartError(f"{path}: no such preset file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise GlyphartError(f"{path}: cannot read preset ({e})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise GlyphartError(f"{path}: invalid TOML: {e}") from None
    except ValueError:  # int() refuses over 4,300 digits, before converting them
        raise GlyphartError(f"{path}: a number of over 4300 digits; no preset value needs "
                            "one (fix that value)") from None
    spec = spec_from_dict(data, str(path))
    if not spec.name:
        spec.name = path.stem
    spec.path = path
    return spec


# ---------------------------------------------------------------------------------------------
# dumping (a small TOML writer: tomllib only reads)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


def spec_to_dict(spec: Spec) -> dict:
    data = dataclasses.asdict(spec)
    data.pop("path", None)
    data["channel"] = {k: v for k, v in data["channel"].items() if v is not None}
    kind = spec.model.generator
    for table, cls in _TABLES.items():
        # An unset key stays out (its default is no value), and so does a default key of
        # another kind (a shapes preset's TOML lists no stroke widths).
        data[table] = {k: v for k, v in data[table].items()
                       if v != _default(cls, k) or not (
                           _FIELDS[cls][k].metadata.get("unset")
                           or kind not in (_FIELDS[cls][k].metadata.get("kinds") or (kind,)))}
    return data


def model_to_json(model: ModelSpec) -> str:
    """The [model] table as JSON: weights carry it, so a preset grows from the model its
    parent's weights were trained for, even after the parent's TOML is edited."""
    table = spec_to_dict(Spec(model=model))["model"]
    return json.dumps({k: v for k, v in table.items() if v is not None}, sort_keys=True)


def model_from_json(text: str) -> ModelSpec:
    return spec_from_dict({"model": json.loads(text)}, "the weights' [model]").model


def dump_spec(spec: Spec) -> str:
    data = spec_to_dict(spec)
    lines = [f"name = {_toml_value(data['name'])}",
             f"description = {_toml_value(data['description'])}"]
    for table in ("model", "channel", "train", "render"):
        values = data[table]
        if table == "channel":
            for sub, sv in values.items():
                lines += ["", f"[channel.{sub}]"]
                lines += [f"{k} = {_toml_value(x)}" for k, x in sv.items()]
            continue
        subs = {k: v for k, v in values.items() if isinstance(v, dict)}
        lines += ["", f"[{table}]"] + [f"{k} = {_toml_value(x)}" for k, x in values.items()
                                       if k not in subs and x is not None]
        for sub, sv in subs.items():
            lines += ["", f"[{table}.{sub}]"] + [f"{k} = {_toml_value(x)}" for k, x in sv.items()]
    return "\n".join(lines) + "\n"
