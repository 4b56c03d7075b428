"""How good a generator is: bits per glyph, identification accuracy, high-frequency fraction.

Definitions are DESIGN.md's, so figures compare across presets and with the source.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def bits_from_correlation(sent: torch.Tensor, read: torch.Tensor) -> float:
    """Sum over message dimensions of -1/2 log2(1 - rho_i^2).

    For Gaussian messages this lower-bounds the information one glyph carries.
    """
    sent = sent.double() - sent.double().mean(0)
    read = read.double() - read.double().mean(0)
    rho = (sent * read).sum(0) / (sent.norm(dim=0) * read.norm(dim=0)).clamp_min(1e-12)
    rho2 = (rho ** 2).clamp(max=1 - 1e-9)
    return float((-0.5 * torch.log2(1 - rho2)).sum())


def identification_accuracy(sent: torch.Tensor, read: torch.Tensor, k: int = 1024,
                            layout=None) -> float:
    """How often the decoded vector's nearest candidate (cosine) among k is the one sent
    (for a set layout, each candidate compared in its best order of strokes)."""
    from .sets import similarity
    hits = total = 0
    for start in range(0, sent.shape[0] - k + 1, k):
        nearest = similarity(read[start:start + k], sent[start:start + k], layout).argmax(1)
        hits += int((nearest == torch.arange(k)).sum())
        total += k
    return hits / max(total, 1)


def set_bits(sent: torch.Tensor, read: torch.Tensor, layout=None) -> float:
    """Bits per glyph of a read-back (`bits_from_correlation`); for a set layout, after
    matching each glyph's strokes to the sent ones, less the order no glyph can carry."""
    if layout is None:
        return bits_from_correlation(sent, read)
    from .sets import match
    return bits_from_correlation(sent, match(read, sent, layout)) - layout.order_bits


def high_frequency_fraction(images: torch.Tensor, cutoff: float = 0.25) -> float:
    """Share of spectral energy above `cutoff` cycles/pixel, per glyph and channel, averaged.

    Checkerboards and stripes put energy near 0.5 cycles/pixel; smooth shapes keep it low.
    """
    x = images.double()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs() ** 2
    h, w = x.shape[-2:]
    fy = torch.fft.fftfreq(h, dtype=torch.float64).view(-1, 1)
    fx = torch.fft.fftfreq(w, dtype=torch.float64).view(1, -1)
    high = (fy ** 2 + fx ** 2).sqrt() > cutoff
    total = power.sum(dim=(-2, -1))
    frac = (power * high).sum(dim=(-2, -1)) / total.clamp_min(1e-20)
    # Flat glyphs (no energy at all) count as clean.
    frac = torch.where(total > 1e-12, frac, torch.zeros_like(frac))
    return float(frac.mean())


# ---------------------------------------------------------------------------------------------
# the look: script, not texture (DESIGN.md's definitions; images binarised at 0.5)

SPECK = 0.003  # parts under this share of the cell are specks, not counted
SMALL = 0.02  # counted parts under this share are "small" (dots, beads)


def ink_masks(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) in [0, 1] -> (B, H, W) bool: ink where any channel is over 0.5."""
    return (images > 0.5).any(1)


def connected_parts(mask: torch.Tensor) -> list[torch.Tensor]:
    """Sizes (in pixels) of each glyph's 4-connected ink regions, one tensor per glyph
    (8-connected regions give the same figures to within 1 % on the shipped presets).

    Labels spread by max-propagation over the four neighbours until nothing changes (a
    diameter's worth of steps, cheap at native sizes), then each label's pixels are counted."""
    b, h, w = mask.shape
    try:  # scipy's labelling where installed: 4-connected as below, 500x faster at 256 px
        # (the propagation takes a step per pixel of a region's length: 96 s for 16 glyphs)
        from scipy import ndimage
        return [torch.bincount(torch.from_numpy(ndimage.label(g)[0]).flatten())[1:]
                for g in mask.cpu().numpy()]
    except ImportError:
        pass
    labels = torch.where(mask, torch.arange(1, h * w + 1).view(1, h, w).expand(b, h, w),
                         torch.zeros((), dtype=torch.long))
    while True:
        padded = torch.nn.functional.pad(labels, (1, 1, 1, 1))
        spread = torch.stack([labels, padded[:, :-2, 1:-1], padded[:, 2:, 1:-1],
                              padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]).amax(0)
        spread = torch.where(mask, spread, torch.zeros((), dtype=torch.long))
        if torch.equal(spread, labels):
            break
        labels = spread
    return [torch.unique(g[g > 0], return_counts=True)[1] for g in labels]


def look_measures(images: torch.Tensor) -> dict:
    """Parts per glyph, share of small parts, shared layout and distinctness of a batch of
    glyphs (B, layers, H, W) in [0, 1] (ink where any layer is); see DESIGN.md."""
    mask = ink_masks(images.float())
    b, h, w = mask.shape
    cell = h * w
    counted = [sizes[sizes >= SPECK * cell] for sizes in connected_parts(mask)]
    parts = torch.tensor([len(c) for c in counted], dtype=torch.float64)
    # Per glyph, the share of its parts that are small; averaged over glyphs with ink.
    shares = [float((c < SMALL * cell).double().mean()) for c in counted if len(c)]
    flat = mask.flatten(1).double()
    layout = float(shared_layout(mask[:, None].double())[0])
    fractions = flat.mean(1)
    differ = (flat @ (1 - flat).T + (1 - flat) @ flat.T) / flat.shape[1]
    expected = fractions[:, None] * (1 - fractions[None, :]) + \
        fractions[None, :] * (1 - fractions[:, None])
    pairs = torch.triu(torch.ones(b, b, dtype=torch.bool), 1) & (expected > 0)
    distinct = float((differ[pairs] / expected[pairs]).mean()) if pairs.any() else 0.0
    return {"parts": round(float(parts.mean()), 2),
            "composition": round(composition(mask), 3),
            "small_parts": round(sum(shares) / max(len(shares), 1), 3),
            "shared_layout": round(layout, 3),
            "distinctness": round(distinct, 3)}


@torch.no_grad()
def read_back(send, n: int, message_size: int, seed: int = 1234, batch: int = 256, device="cpu",
              bar=None):
    """Send n fresh messages through `send` (message -> decoded message); return (sent, read)."""
    rng_state = torch.get_rng_state()
    torch.manual_seed(seed)  # the channel draws from the global RNG: fix it for repeatability
    try:
        sent = torch.randn(n, message_size)
        read = []
        for start in range(0, n, batch):
            z = sent[start:start + batch].to(device)
            read.append(send(z).float().cpu())
            if bar is not None:
                bar.update(advance=len(z))
        return sent, torch.cat(read)
    finally:
        torch.set_rng_state(rng_state)


EVAL_PIXELS = 1 << 22  # glyph pixels a batch holds: 16 MB a float image, under glibc's largest
# mmap threshold (32 MiB, memory.py), so freed batches are reused; at 256 px a batch of 256
# was 200 MB a tensor, mapped and zeroed by the kernel anew each time (hd-gray's eval: 52 s of
# system time for 58 s of user time)


def eval_batch(model) -> int:
    """Glyphs read back at once for a [model] table: 256 at 64 px, 64 at 256 px (gray)."""
    return max(8, min(256, EVAL_PIXELS // (max(model.channels, model.layers) * model.size ** 2)))


def other_palettes(preset, count: int = 2) -> list[str]:
    """The named colour palettes, other than the preset's own, that eval reads back under:
    those with enough inks made for the preset's blend."""
    from .inks import PALETTES
    r = preset.spec.render
    return [name for name, p in PALETTES.items() if name != r.palette
            and len(p.inks) >= preset.spec.model.inks and p.blend in ("", r.blend)][:count]


COARSE = 0.1  # the composition's blur: a Gaussian of a tenth of the cell


def blurred_ink(mask: torch.Tensor) -> torch.Tensor:
    """Glyphs' ink (B, H, W), a mask or coverage in [0, 1], blurred by a Gaussian of a tenth
    of the cell: their coarse composition, (B, H * W), centred and of unit norm (a dot product
    is a correlation). Differentiable in a float coverage, so training can use it."""
    ink = mask.double() if mask.dtype == torch.bool else mask
    g = blur_matrix(mask.shape[-1], COARSE * mask.shape[-1], ink.dtype, ink.device)
    blurred = (g @ ink @ g.T).flatten(1)
    return nn.functional.normalize(blurred - blurred.mean(1, keepdim=True), dim=1)


def blur_matrix(n: int, sigma: float, dtype, device) -> torch.Tensor:
    """(n, n): a Gaussian blur along one axis, zero beyond the edges (kornia's kernel, 3
    sigma each way), so g @ image @ g.T is kornia's gaussian_blur2d with a constant border.
    As two small matrix products it is 20x cheaper than the 39-tap convolution it replaces,
    backward included (the composition penalty took a third of a colour step)."""
    from kornia.filters import get_gaussian_kernel1d
    r = round(3 * sigma)
    taps = get_gaussian_kernel1d(2 * r + 1, sigma, dtype=dtype, device=device)[0]
    offset = torch.arange(n, device=device)
    offset = offset[None, :] - offset[:, None] + r  # column j of row i takes tap j - i + r
    inside = (offset >= 0) & (offset <= 2 * r)
    return torch.where(inside, taps[offset.clamp(0, 2 * r)], 0).to(dtype)


def mean_correlation(ink: torch.Tensor) -> torch.Tensor:
    """The correlation of two glyphs' coarse compositions (`blurred_ink`), averaged over
    pairs of the batch (B, H, W): 1 - `composition`, as a tensor that gradients flow through."""
    coarse = blurred_ink(ink)
    b = coarse.shape[0]
    r = coarse @ coarse.T
    return (r.sum() - r.diagonal().sum()) / max(b * (b - 1), 1)


def composition(mask: torch.Tensor) -> float:
    """How differently glyphs (B, H, W) compose their ink at coarse scale: 1 - the correlation
    of two glyphs' blurred ink (`blurred_ink`), averaged over pairs. 0 when every glyph is the
    same composition (a motif repeated, however its strokes vary in detail), about 1 when they
    are unrelated. The source's trained sheet measures 0.79; the first stroke presets, one
    composition each, 0.48-0.68."""
    return float(1 - mean_correlation(mask)) if mask.shape[0] > 1 else 0.0


def shared_layout(images: torch.Tensor) -> torch.Tensor:
    """Each layer's shared layout over the batch (B, layers, H, W) -> (layers,): the spatial
    std / mean of its mean image (0 when glyphs share no placement)."""
    means = images.mean(0).flatten(1)
    return means.std(1) / means.mean(1).clamp_min(1e-12)


def homes(each: torch.Tensor) -> torch.Tensor:
    """How much each of K strokes keeps a home of its own, from their coverage (B, K, H, W):
    the distance (RMS over pixels) of its mean image over the batch from the mean image of
    all K, relative to that image's mean ink. 0 when strokes are interchangeable (any may be
    anywhere any other may be); high when one is always on the left, one always across the
    top, and every glyph is a variation on one composition, which the glyphs' shared layout
    does not see."""
    means = each.mean(0).flatten(1)
    pooled = means.mean(0, keepdim=True)
    return ((means - pooled).pow(2).mean(1) + 1e-12).sqrt() / pooled.mean().clamp_min(1e-6)


@torch.no_grad()
def stroke_homes(generator, z: torch.Tensor) -> list[float]:
    """`homes` of a stroke generator's glyphs z, on binarised ink as the look measures."""
    each = generator.logits_of(generator.strokes(z), each_stroke=True)
    return [round(float(h), 3) for h in homes((each > 0).double().cpu())]


def evaluate(preset, n: int = 4096, k: int = 1024, seed: int = 1234, device="cpu",
             quiet: bool = True) -> dict:
    """All metrics of a loaded preset, under its own channel and the reference channel."""
    from .channel import REFERENCE_CHANNEL, reference_channel
    from .latent import messages
    from .progress import Progress

    from .sets import SetLayout
    spec = preset.spec.model
    layout = SetLayout.of(spec)
    preset.generator.to(device)
    dec = preset.decoder.to(device)
    reference = reference_channel(spec.size).to(device)
    others = other_palettes(preset) if spec.inks else []
    batch = eval_batch(spec)
    # A preset trained through the reference channel reads the same under both: the same
    # messages and the same draws of the same channel (seeded), so one read-back serves both.
    own_is_reference = preset.spec.channel == REFERENCE_CHANNEL
    with Progress((2 - own_is_reference + len(others)) * n, f"evaluate {preset.name}",
                  quiet=quiet, unit="glyph") as bar:
        ref_sent, ref_read = read_back(lambda z: dec(reference(preset.picture(z))), n,
                                       spec.message_size, seed, batch, device, bar)
        own_sent, own_read = (ref_sent, ref_read) if own_is_reference else read_back(
            preset.send, n, spec.message_size, seed, batch, device, bar)
        per_palette = {}
        for name in others:
            paint = preset.paint(name)
            sent, read = read_back(lambda z: dec(reference(preset.picture(z, paint))), n,
                                   spec.message_size, seed, batch, device, bar)
            per_palette[name] = round(set_bits(sent, read, layout), 2)
    z = messages(spec.message_size, range(64)).to(device)
    with torch.no_grad():
        glyphs = preset.generator(z).float().cpu()
    bits_ref = set_bits(ref_sent, ref_read, layout)
    from .boldness import LARGE_PX, boldness
    from .render.glyphs import has_strokes, render_glyphs
    large = render_glyphs(preset.generator, z[:8], LARGE_PX)
    extra = {"stroke_homes": stroke_homes(preset.generator, z)} \
        if has_strokes(preset.generator) else {}
    if spec.inks:
        alone = [look_measures(glyphs[:, i:i + 1]) for i in range(spec.inks)]
        extra |= {"small_parts_per_ink": [m["small_parts"] for m in alone],
                  "shared_layout_per_ink": [m["shared_layout"] for m in alone],
                  "palette": preset.spec.render.palette, "bits_per_palette": per_palette}
    return {
        **look_measures(glyphs), **boldness(glyphs, large), **extra,
        "bits_per_glyph": round(set_bits(own_sent, own_read, layout), 2),
        "bits_per_glyph_reference": round(bits_ref, 2),
        "identification_accuracy": round(identification_accuracy(ref_sent, ref_read, k, layout),
                                         4),
        "high_frequency_fraction": round(high_frequency_fraction(glyphs), 4),
        "bits_per_pixel_reference": round(bits_ref / (spec.size ** 2), 5),
        "messages": n,
        "candidates": k,
        "distinct_glyphs_log2": round(min(bits_ref, math.log2(max(n, 2))), 2),
    }
