"""`strokes`: the stroke rasteriser, torch and kernel, and an exact 1024 px render."""

from __future__ import annotations

import time

from measure import report, alternating


STROKES_ROWS = (("brush", None), ("gray", None), ("hd-color", None), ("brush", 256))


def bench_strokes() -> None:
    """The stroke rasteriser on shipped presets' own glyphs: forward + backward per glyph,
    today's torch path and the compiled kernel side by side (alternating, one run); the dense
    reference once; the exact render of one glyph at 1024 px, both paths."""
    import torch

    from glyphart import strokes as S
    from glyphart.presets import load_preset
    from glyphart.render.glyphs import exact_images

    kernel = S.uses_kernel(torch.zeros(1))
    for name, size in STROKES_ROWS:
        preset = load_preset(name)
        gen = preset.generator
        size = size or preset.spec.model.size
        batch = 64 if size <= 64 else 32
        z = torch.randn(batch, preset.spec.model.message_size,
                        generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            strokes = gen.strokes(z)

        def draw(path):
            def run():
                p = strokes.points.clone().requires_grad_()
                r = strokes.radii.clone().requires_grad_()
                S.rasteriser = path
                gen.logits_of(S.Strokes(p, r, strokes.taper), size).sum().backward()
                S.rasteriser = "auto"
            return run

        runs = {"torch": draw("torch")} | ({"kernel": draw("kernel")} if kernel else {})
        t = {k: v / batch for k, v in alternating(runs).items()}
        report("strokes", f"{name}: torch rasteriser fwd+bwd at {size} px", 1000 * t["torch"],
               "ms/glyph")
        if kernel:
            limit = 0.5 if size <= 64 else 4.0
            report("strokes", f"{name}: kernel fwd+bwd at {size} px", 1000 * t["kernel"],
                   "ms/glyph", f"<={limit} ms", 1000 * t["kernel"] <= limit)
            ratio = t["torch"] / t["kernel"]
            report("strokes", f"{name}: kernel vs torch rasteriser at {size} px", ratio, "x",
                   ">=10x" if size <= 64 else "", ratio >= 10 if size <= 64 else None)
    preset = load_preset("brush")
    gen, size = preset.generator, preset.spec.model.size
    z = torch.randn(8, preset.spec.model.message_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        strokes = gen.strokes(z)
    points = strokes.points.clone().requires_grad_()
    radii = strokes.radii.clone().requires_grad_()
    t0 = time.perf_counter()
    (S.reference_field(S.Strokes(points, radii, strokes.taper), size, 0.5 / size)).sum().backward()
    report("strokes", f"brush: dense reference fwd+bwd at {size} px",
           1000 * (time.perf_counter() - t0) / len(z), "ms/glyph")

    def render(path):
        def run():
            S.rasteriser = path
            exact_images(gen, z[:1], 1024)
            S.rasteriser = "auto"
        return run

    runs = {"torch": render("torch")} | ({"kernel": render("kernel")} if kernel else {})
    t = alternating(runs, seconds=0.5)
    report("strokes", "brush: exact render of one glyph at 1024 px, torch", 1000 * t["torch"],
           "ms")
    if kernel:
        report("strokes", "brush: exact render of one glyph at 1024 px, kernel",
               1000 * t["kernel"], "ms", "<=60 ms", 1000 * t["kernel"] <= 60)
