"""Generator (message -> image) and decoder (image -> message), built from a ModelSpec.

The generator exposes `logits(z)`, the smooth field before the sigmoid: rendering enlarges
that field and sharpens it, so glyphs stay crisp at any size (like signed-distance-field text).
"""

from __future__ import annotations

from dataclasses import astuple

import torch
from torch import nn

from .spec import ModelSpec
from .strokes import Strokes, soft_union, split_segments, stroke_field


def _activation(name: str) -> nn.Module:
    return {"leaky_relu": lambda: nn.LeakyReLU(0.2), "relu": nn.ReLU,
            "silu": nn.SiLU, "gelu": nn.GELU}[name]()


def _norm(kind: str, width: int) -> nn.Module:
    return nn.BatchNorm2d(width) if kind == "batch" else nn.Identity()


class Generator(nn.Module):
    message_tensors = {"project.weight": 1}  # its columns read the message (grow.py)

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        w0, s0 = spec.widths[0], spec.start_size
        self.project = nn.Linear(spec.message_size, w0 * s0 * s0)
        self.start = nn.Sequential(_norm(spec.norm, w0), _activation(spec.activation))
        bias = spec.norm == "none"
        k = spec.kernel

        def conv(w_in: int, w_out: int, use_bias: bool = bias) -> nn.Conv2d:
            return nn.Conv2d(w_in, w_out, k, padding=k // 2, bias=use_bias,
                             padding_mode=spec.padding)

        stages = []
        for w_in, w_out in zip(spec.widths[:-1], spec.widths[1:]):
            layers: list[nn.Module] = []
            if spec.generator == "convtranspose":
                # The source's layer: stride-2 transposed conv, whose uneven kernel overlap is
                # the checkerboard the source's figures show.
                layers += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=bias)]
            else:
                # Resize-convolution: every output pixel sees the same kernel footprint.
                layers += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                           conv(w_in, w_out)]
            layers += [_norm(spec.norm, w_out), _activation(spec.activation)]
            for _ in range(spec.convs_per_stage - 1):
                layers += [conv(w_out, w_out),
                           _norm(spec.norm, w_out), _activation(spec.activation)]
            stages.append(nn.Sequential(*layers))
        # With a draft, the stages up to the draft size draw a draft glyph (`to_image`); the
        # finer ones add detail to its enlargement, starting from none: a warm start from a
        # preset at the draft size begins with exactly that preset's glyphs, enlarged.
        drafted = len(stages) - (spec.size // spec.draft).bit_length() + 1 if spec.draft else 0
        self.stages = nn.Sequential(*stages[:drafted or None])
        self.detail = nn.Sequential(*stages[drafted:]) if spec.draft else None
        self.to_image = conv(spec.widths[drafted if spec.draft else -1], spec.layers,
                             use_bias=True)
        if spec.draft:
            self.to_detail = conv(spec.widths[-1], spec.layers, use_bias=True)
            nn.init.zeros_(self.to_detail.weight)
            nn.init.zeros_(self.to_detail.bias)
        self.register_buffer("edge", _edge_field(spec.size, spec.edge_margin), persistent=False)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        s = self.spec
        x = self.project(z).view(z.shape[0], s.widths[0], s.start_size, s.start_size)
        features = self.stages(self.start(x))
        logits = self.to_image(features)
        if self.detail is not None:
            logits = (nn.functional.interpolate(logits, size=s.size, mode="bilinear",
                                                align_corners=False)
                      + self.to_detail(self.detail(features)))
        return logits if self.spec.edge_margin == 0 else logits - self.edge

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Coverage in [0, 1], shape (B, layers, size, size)."""
        return torch.sigmoid(self.logits(z))


def _edge_field(size: int, margin: float, depth: float = 16.0) -> torch.Tensor:
    """A logit offset that is 0 inside and rises smoothly to `depth` on the border pixels:
    whatever the network draws there fades to background (sigmoid(-16) is black)."""
    if margin == 0:
        return torch.zeros(1)
    centre = (torch.arange(size) + 0.5) / size
    distance = torch.minimum(centre, 1 - centre)            # to the nearest edge, 0..0.5
    edge = 0.5 / size                                        # distance of the border pixels
    t = ((margin - distance) / max(margin - edge, 1e-6)).clamp(0, 1)
    ramp = t * t * (3 - 2 * t)                               # smoothstep: no crease inside
    return depth * torch.maximum(ramp[:, None], ramp[None, :])


# The image frame's corners in normalised coordinates (x, y in [-1, 1], align_corners=True),
# clockwise from the top left.
CORNERS = ((-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0))


class Registration(nn.Module):
    """Finds where the channel moved the glyph's corners, and unwarps the glyph.

    A small conv net predicts the four corners; the homography through them resamples the
    received image back onto the glyph's own frame, so the reader sees glyphs upright and in
    place. Training supervises the corners with the channel's own transform (train.py), which
    learns registration in a few hundred steps instead of leaving the reader to become
    invariant to 30-degree turns and strong perspective on its own.
    """

    def __init__(self, spec: ModelSpec, size: int):
        super().__init__()
        layers: list[nn.Module] = []
        w_in, side = spec.channels, size
        for w in (16, 32, 64, 64):
            layers += [nn.Conv2d(w_in, w, 3, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
            w_in, side = w, (side + 1) // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(w_in * side * side, 128),
                                 nn.LeakyReLU(0.2), nn.Linear(128, 8))
        nn.init.zeros_(self.net[-1].weight)  # start at "not moved"
        nn.init.zeros_(self.net[-1].bias)
        self.register_buffer("frame", torch.tensor(CORNERS), persistent=False)
        axis = torch.linspace(-1, 1, size)
        ys, xs = torch.meshgrid(axis, axis, indexing="ij")
        self.register_buffer("points", torch.stack([xs, ys, torch.ones_like(xs)]).view(3, -1),
                             persistent=False)  # (3, size^2): homogeneous pixel centres
        self.size = size

    def corners(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4, 2): where the frame's corners are in x. The image is detached: the
        generator is not asked to draw registration marks, the decoder learns to find glyphs."""
        return self.frame + 0.5 * self.net(x.detach() - 0.5).float().view(-1, 4, 2)

    def unwarp(self, x: torch.Tensor, corners: torch.Tensor) -> torch.Tensor:
        from kornia.geometry.transform import get_perspective_transform
        with torch.autocast(x.device.type, enabled=False):
            h = get_perspective_transform(self.frame.expand(len(x), 4, 2), corners.float())
            # One (3B, 3) x (3, pixels) product, each row contiguous: 3x cheaper, backward
            # included, than a batched product against the points broadcast B times.
            moved = (h.view(-1, 3) @ self.points).view(len(x), 3, -1)
            grid = moved[:, :2] / moved[:, 2:].clamp_min(1e-3)
            grid = grid.transpose(1, 2).reshape(len(x), self.size, self.size, 2)
            return nn.functional.grid_sample(x.float(), grid, align_corners=True)


class Decoder(nn.Module):
    message_tensors = {"readout.weight": 0, "readout.bias": 0}  # a row a number (grow.py)

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        # Averaging first keeps a high-resolution decoder cheap (the channel still runs at
        # full resolution, before the pool).
        p = spec.decoder_pool
        self.pool = nn.AvgPool2d(p) if p > 1 else nn.Identity()
        self.input_size = spec.size // p
        self.registration = Registration(spec, self.input_size) if spec.register else None
        layers: list[nn.Module] = []
        w_in = spec.channels
        for w in spec.decoder_widths:
            layers += [nn.Conv2d(w_in, w, 3, stride=2, padding=1, bias=spec.norm == "none"),
                       _norm(spec.norm, w), _activation(spec.activation)]
            w_in = w
        self.features = nn.Sequential(*layers)
        side = self.input_size
        for _ in spec.decoder_widths:  # k3, stride 2, padding 1: ceil(side / 2)
            side = (side + 1) // 2
        self.readout = nn.Linear(w_in * side * side, spec.message_size)

    def locate_and_read(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(message, corners) of an image already at the pooled resolution; corners is None
        without registration. Exchangeable strokes are read left to right (sets.py)."""
        corners = None
        if self.registration is not None:
            corners = self.registration.corners(x)
            x = self.registration.unwarp(x, corners)
        # Centre around zero: the images live in [0, 1] plus channel noise.
        return self.readout(self.features(x - 0.5).flatten(1)), corners

    def read(self, x: torch.Tensor) -> torch.Tensor:
        """Decode an image already at the pooled resolution."""
        return self.locate_and_read(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.read(self.pool(x))


HEAD_GAIN = 1.5
STROKE_REACH = 1.2  # how far (logit units) a centred stroke's control points may lie from its
# centre: about a third of the glyph each way, so strokes stay compact and can be told apart
DETAIL_REACH = 0.08  # how far (glyph units) [model] detail may move a split stroke's point
PROBIT_TO_LOGIT = 1.702  # sigmoid(1.702 z) is within 0.01 of the normal CDF: a message number
# z ~ N(0, 1) so scaled is a logit whose sigmoid is uniform over the glyph


class StrokeGenerator(nn.Module):
    """Message -> K brush strokes (an MLP) -> their image (strokes.py), at any size.

    Control points pass through a sigmoid into the inset square; half-widths at the joints pass
    through a sigmoid into the [model] width range, and along each stroke the width swells from
    `taper` at both ends to full (strokes.envelope), like a brush pressed down and lifted.
    A colour preset's glyph has `strokes` strokes in each of its ink layers."""

    draws_any_size = True
    has_strokes = True

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        k, s = spec.strokes * (spec.inks or 1), spec.segments
        self.points_per_stroke = 3 * s + 1
        per_stroke = 2 * self.points_per_stroke + s + 1
        # An exchangeable stroke also has a centre: its control points are placed around it.
        self.set = StrokeSet(spec, per_stroke + 2) if spec.exchangeable else None
        if self.set is None:
            self.body, w_in = _mlp(spec.message_size, spec.widths, spec.activation)
            self.head = nn.Linear(w_in, k * per_stroke)
            _init_body(self.body)
            _init_head(self.head, w_in)

    def strokes(self, z: torch.Tensor) -> Strokes:
        """The strokes of messages z, in the glyph's unit square (x right, y down)."""
        return place_strokes(self.spec, self.raw(z), z)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """What the head reads: (B, K, width) a stroke each for a set, else (B, width)."""
        return self.set.features(z) if self.set is not None else self.body(z)

    def raw(self, z: torch.Tensor) -> torch.Tensor:
        """The network's numbers for each stroke of messages z, (B, K, numbers)."""
        raw = self.set(z) if self.set is not None else self.head(self.body(z))
        return raw.float().view(len(z), self.spec.strokes * (self.spec.inks or 1), -1)

    def logits(self, z: torch.Tensor, size: int | None = None,
               rows: tuple[int, int] | None = None) -> torch.Tensor:
        """Logit field (B, layers, H, size): at the native size with the training edge softness;
        at any other size anti-aliased to about one output pixel (rows: a band of them)."""
        return self.logits_of(self.strokes(z), size, rows)

    def logits_of(self, strokes: Strokes, size: int | None = None,
                  rows: tuple[int, int] | None = None, each_stroke: bool = False
                  ) -> torch.Tensor:
        """The logit field of given strokes (see `logits`); with `each_stroke`, one layer per
        stroke instead of per ink (`join_strokes` makes the glyph of them)."""
        union, edge = self._union_and_edge(size)
        size = size or self.spec.size
        # Past 6 edge widths the sigmoid is flat (ink and gradient 0.25 %): plain paper.
        layers = strokes.points.shape[1] if each_stroke else self.spec.layers
        return stroke_field(strokes, size, union, 6 * edge + 2 * union, rows, layers) / edge

    def _union_and_edge(self, size: int | None) -> tuple[float, float]:
        """The soft union's temperature is a property of the shape (glyph units), so overlaps
        look the same at every size; the edge width follows the output pixel (the training
        softness at the native size, None)."""
        edge = self.spec.softness / self.spec.size if size is None else 0.3 / size
        return 0.5 / self.spec.size, edge

    def join_strokes(self, each: torch.Tensor, size: int | None = None) -> torch.Tensor:
        """Logits of each stroke (B, K, H, W) drawn at `size` -> each ink layer's, exactly as
        `logits` draws them (the same soft union, in logit units)."""
        b, k, h, w = each.shape
        union, edge = self._union_and_edge(size)
        grouped = each.view(b, self.spec.layers, k // self.spec.layers, h, w)
        return soft_union(grouped, union / edge, 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Coverage in [0, 1], shape (B, layers, size, size)."""
        return torch.sigmoid(self.logits(z))

    # -- growing from a parent preset (grow.py)

    @property
    def message_tensors(self) -> dict:
        return {} if self.set is not None else {"body.0.weight": 1}

    def message_places(self, parent: ModelSpec) -> torch.Tensor:
        """Where each of the parent's message numbers sits in this message: a stroke's
        numbers stay that stroke's."""
        from .grow import centre_places, chunk_places
        from .sets import SetLayout
        m, n = self.spec, torch.arange(parent.message_size)
        if parent.generator == "strokes" and parent.exchangeable and m.exchangeable:
            return chunk_places(*(astuple(SetLayout.of(x)) for x in (parent, m)))
        if parent.generator == "strokes" and parent.place == m.place == "message":
            return centre_places(parent.message_size, 2 * parent.strokes * (parent.inks or 1),
                                 m.message_size, 2 * m.strokes * (m.inks or 1))
        return torch.where(n < m.message_size, n, -1)

    def grow_from(self, parent_state: dict, parent: ModelSpec | None) -> dict:
        """The stroke head grown from a parent of the same design with fewer segments (each
        split by de Casteljau, the parent's strokes redrawn) or other strokes (grow.py)."""
        from .grow import grow_stroke_head
        return grow_stroke_head(self, parent_state, parent)


def place_strokes(spec: ModelSpec, raw: torch.Tensor, z: torch.Tensor) -> Strokes:
    """A stroke generator's numbers (B, K, numbers) -> its strokes: control points through a
    sigmoid into the inset square (around each stroke's centre, for a set or strokes placed by
    the message), radii into the width range, then [model] detail's bends."""
    k, n = raw.shape[1], 2 * (3 * spec.segments + 1)
    if spec.detail:  # the detail head's numbers come last
        bends = 2 * (6 * spec.segments + 1)
        raw, bends = raw[..., :-bends], raw[..., -bends:]
    if spec.place == "message":  # stroke i's centre is message numbers 2i, 2i + 1, uniform
        centres = PROBIT_TO_LOGIT * z[:, :2 * k].float().view(len(z), k, 2)
        raw = torch.cat([centres, raw], -1)  # the head gives the points around it
    if spec.exchangeable or spec.place == "message":  # points near the stroke's centre (logits)
        offsets = STROKE_REACH * torch.tanh(raw[..., 2:2 + n].unflatten(-1, (-1, 2)))
        raw = torch.cat([offsets.add(raw[..., None, :2]).flatten(-2), raw[..., 2 + n:]], -1)
    points = spec.inset + (1 - 2 * spec.inset) * torch.sigmoid(raw[..., :n])
    low, high = spec.width
    radii = 0.5 * (low + (high - low) * torch.sigmoid(raw[..., n:]))
    strokes = Strokes(points.view(len(z), k, n // 2, 2), radii, spec.taper)
    if spec.detail:  # the same curves in halves, bent by the detail head (0 at the start)
        strokes = split_segments(strokes)
        bend = DETAIL_REACH * torch.tanh(bends.view(strokes.points.shape))
        strokes = Strokes(strokes.points + bend, strokes.radii, spec.taper)
    return strokes


class StrokeSet(nn.Module):
    """The message as a set of strokes: each stroke drawn by one shared network from its own
    chunk of the message, beside a symmetric summary of all chunks (their mean embedding, as in
    Deep Sets) so strokes still arrange themselves together. The chunks are i.i.d., so every
    stroke has the same distribution of places by construction: none keeps a home. A colour
    preset's strokes also know their ink (a learned embedding): inks are told apart by colour."""

    def __init__(self, spec: ModelSpec, per_stroke: int):
        super().__init__()
        self.groups, self.strokes = spec.inks or 1, spec.strokes
        chunk = spec.message_size // (self.groups * self.strokes)
        width = spec.widths[0]
        self.embed, _ = _mlp(chunk, [width, width], spec.activation)
        self.ink = nn.Parameter(torch.zeros(self.groups, width)) if self.groups > 1 else None
        self.body, w_in = _mlp(2 * width, spec.widths, spec.activation)
        self.head = nn.Linear(w_in, per_stroke)
        _init_body(self.embed)
        _init_body(self.body)
        _init_head(self.head, w_in)
        with torch.no_grad():  # centres anywhere in the glyph
            self.head.bias[:2] = 0
        # [model] detail: each control point of the split strokes moved by its own two
        # numbers, from zero (the strokes unbent) so a parent's weights draw its own glyphs.
        self.bends = 2 * (6 * spec.segments + 1) if spec.detail else 0
        self.detail = nn.Linear(w_in, self.bends) if spec.detail else None
        if self.detail is not None:
            nn.init.zeros_(self.detail.weight)
            nn.init.zeros_(self.detail.bias)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """(B, N) -> (B, groups * strokes, width): what the heads read, a stroke each."""
        chunks = z.view(len(z), self.groups * self.strokes, -1)
        e = self.embed(chunks)  # (B, K, width)
        if self.ink is not None:
            e = e + self.ink.repeat_interleave(self.strokes, 0)
        summary = e.mean(1, keepdim=True).expand_as(e)
        return self.body(torch.cat([e, summary], -1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, N) -> (B, groups * strokes, per_stroke): raw stroke parameters, ink-major."""
        h = self.features(z)
        return self.head(h) if self.detail is None else torch.cat([self.head(h),
                                                                   self.detail(h)], -1)


def _mlp(w_in: int, widths, activation: str) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Linear(w_in, w), _activation(activation)]
        w_in = w
    return nn.Sequential(*layers), w_in


def _init_body(body: nn.Sequential) -> None:
    """Kaiming weights and zero biases: activations keep their scale through the layers."""
    with torch.no_grad():
        for layer in body:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(layer.bias)


def _init_head(head: nn.Linear, w_in: int) -> None:
    """Start with glyphs that already differ and spread over the square: the message moves
    every control point by about a sigmoid's width (weights), and each stroke starts at its
    own random place (bias); with torch's default init they would all sit at the centre."""
    with torch.no_grad():
        nn.init.normal_(head.weight, 0, HEAD_GAIN / w_in ** 0.5)
        nn.init.normal_(head.bias, 0, 0.5)


def build_models(spec: ModelSpec) -> tuple[nn.Module, Decoder]:
    from .kinds.shapes import ShapeGenerator
    kinds = {"strokes": StrokeGenerator, "shapes": ShapeGenerator}
    generator = kinds.get(spec.generator, Generator)(spec)
    return generator, Decoder(spec)


def flops_per_image(module: nn.Module, example: torch.Tensor) -> int:
    """Multiply-adds x 2 of convs and linears for one forward pass (for benchmarks)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            spatial = (out if isinstance(mod, nn.Conv2d) else inp[0]).shape[-2:].numel()
            total += 2 * k * mod.out_channels * spatial
        elif isinstance(mod, nn.Linear):
            total += 2 * mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    with torch.no_grad():
        module(example[:1])
    for h in handles:
        h.remove()
    return total
