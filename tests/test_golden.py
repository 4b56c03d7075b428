"""Golden outputs: the same presets and seeds draw the same pictures, release after release.

Two small presets are built here from fixed seeds (untrained weights: the shipped presets are
retrained from time to time and their glyphs change): a raster one with two inks laid over
each other and a strokes one with two overprinting inks. Each draws a 4-glyph sheet (PNG, SVG,
PDF), a poster of two bands and ten video frames; the files in tests/golden/ are what they
drew when they were made. The pixels of the frames are compared as drawn (the encoder's
output may vary with ffmpeg's build); the PDF as its page content and its metadata (the file's
framing is fpdf2's).

Pinned so every machine takes the same path through glyphart: the torch stroke rasteriser
(the compiled kernel may differ by a level of float32 rounding; stroke_field's `path`,
GLYPHART_RASTERISER) and fp32 video frames (bf16 is used only where the CPU computes it
natively). Below glyphart, float32 sums still land in another order from one CPU to another
(oneDNN's and MKL's AVX2, AVX-512 and AMX kernels), so the files are compared as pictures
(golden_compare.py): outline coordinates within 0.05 px, pixels within one level, everything
else (metadata, structure, path counts, the set of files) exactly. CI (.ci/run) runs this file
again under AVX2 and scalar kernels and says whether the floats moved (on an AVX-512 machine
scalar kernels move the PDFs' coordinates by 1e-4 pt, an SVG's by 0.01 px, posters by a
level); GLYPHART_GOLDEN_OUTPUTS=FOLDER keeps what each run drew for that comparison.

Regenerate after a deliberate change with GLYPHART_UPDATE_GOLDENS=1 and say why in the commit.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import TINY, write_tiny
from golden_compare import PDF_PARTS, POINTS_PER_PIXEL, difference, pdf_operations

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("GLYPHART_UPDATE_GOLDENS"))
KEEP = os.environ.get("GLYPHART_GOLDEN_OUTPUTS")  # a folder: keep what was drawn (CI)

RASTER = TINY.replace('name = "tiny"', 'name = "golden-raster"').replace(
    "message_size = 16", "message_size = 16\nchannels = 3\ninks = 2").replace(
    "[render]", '[render]\npalette = "sumi"\nblend = "over"')
STROKES = TINY.replace('name = "tiny"', 'name = "golden-strokes"').replace(
    "message_size = 16", 'message_size = 16\nchannels = 3\ninks = 2\ngenerator = "strokes"\n'
    "strokes = 2\nsegments = 2").replace("widths = [32, 16, 8]", "widths = [32]").replace(
    "[render]", '[render]\npalette = "riso"')


@pytest.fixture(autouse=True)
def _pinned_paths(monkeypatch):
    from glyphart import precision, strokes
    monkeypatch.setattr(strokes, "rasteriser", "torch")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})


def _build(folder: Path, text: str, name: str) -> Path:
    """A preset of untrained weights drawn from seed 0, saved as a trained one would be."""
    from glyphart.models import build_models
    from glyphart.presets import save_weights
    from glyphart.spec import load_spec
    path = write_tiny(folder, text, name)
    spec = load_spec(path)
    torch.manual_seed(0)
    generator, decoder = build_models(spec.model)
    save_weights(path.with_suffix(".safetensors"), spec, generator.eval(), decoder.eval())
    return path


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden-presets")
    return {"raster": _build(folder, RASTER, "golden-raster"),
            "strokes": _build(folder, STROKES, "golden-strokes")}


def _pdf_content(path: Path) -> bytes:
    """The page's drawing (its content stream, inflated) and the document's subject line."""
    data = path.read_bytes()
    streams = [zlib.decompress(m.group(1).strip(b"\r\n"))
               for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S)]
    subject = re.search(rb"/Subject \((.*?)\)\s*/", data, re.S)
    return PDF_PARTS.join(streams + [subject.group(1) if subject else b""])


def _video_frames(job, path: Path) -> np.ndarray:
    """The frames the video writer was handed, (10, H, W, 3) uint8."""
    from glyphart.render.writers.video import VideoWriter
    frames = []
    real = VideoWriter.write

    def keep(self, frame):
        frames.append(np.array(frame))
        real(self, frame)

    VideoWriter.write = keep
    try:
        job.video(path, grid="1x2", frames_per_key=5, px=24, gap=2, quiet=True)
    finally:
        VideoWriter.write = real
    return np.stack(frames)


def _job(preset_path: Path):
    """A render job of seeds 0-3. The weights' hash, which every output records, is pinned:
    safetensors writes its metadata in a random order, so equal weights hash differently."""
    from glyphart.render.api import Render
    job = Render.load(str(preset_path), seeds="0-3")
    job.preset.__dict__["weights_hash"] = "golden-weights"
    return job


def _outputs(preset_path: Path, tmp: Path) -> dict[str, bytes]:
    job = _job(preset_path)
    out = {}
    out["sheet.png"] = job.sheet(tmp / "sheet.png", grid="2x2", glyph_px=32, gap=3).read_bytes()
    out["sheet.svg"] = job.sheet(tmp / "sheet.svg", grid="2x2", glyph_px=32, gap=3).read_bytes()
    out["sheet.pdf.content"] = _pdf_content(job.sheet(tmp / "sheet.pdf", grid="2x2",
                                                      glyph_px=32, gap=3))
    [poster] = job.posters(str(tmp / "poster.png"), size="120x300px", dpi=100, margin=0.1,
                           quiet=True)  # 300 rows: two bands of 256 and 44
    out["poster.png"] = poster.read_bytes()
    frames = _video_frames(_job(preset_path), tmp / "loop.webm")
    assert frames.shape[0] == 10
    buffer = io.BytesIO()
    np.save(buffer, frames, allow_pickle=False)
    out["frames.npy"] = buffer.getvalue()
    return out


@pytest.mark.parametrize("kind", ["raster", "strokes"])
def test_outputs_match_their_golden_files(presets, tmp_path, kind):
    outputs = _outputs(presets[kind], tmp_path)
    folder = GOLDEN / kind
    keep = ([folder] if UPDATE else []) + ([Path(KEEP) / kind] if KEEP else [])
    for where in keep:
        where.mkdir(parents=True, exist_ok=True)
        for name, data in outputs.items():
            (where / name).write_bytes(data)
    assert sorted(p.name for p in folder.iterdir()) == sorted(outputs)
    differ = {name: why for name, data in outputs.items()
              if (why := difference(name, (folder / name).read_bytes(), data))}
    assert not differ, f"{kind}: differ from tests/golden/{kind}/: {differ}"


# ---- the comparison, both ways: the same picture passes, another picture fails ------------

def _golden(name: str, kind: str = "raster") -> bytes:
    return (GOLDEN / kind / name).read_bytes()


def _svg_numbers(svg: bytes, change, paths: slice = slice(None)) -> bytes:
    """The SVG with change(index, value) for each number of path data, printed as the
    writer prints (0.01 px), in the paths chosen by `paths`."""
    text = svg.decode()
    chosen = list(re.finditer(r' d="([^"]*)"', text))[paths]
    for match in reversed(chosen):
        numbers = iter(range(10**6))
        data = re.sub(r"-?\d+\.\d+", lambda m: f"{change(next(numbers), float(m[0])):.2f}",
                      match[1])
        text = text[:match.start(1)] + data + text[match.end(1):]
    return text.encode()


def _pdf_edit(content: bytes, edit) -> bytes:
    """The PDF content with its first stream's operations replaced by edit(operations)."""
    first, *rest = content.split(PDF_PARTS)
    operations = edit(pdf_operations(first))
    stream = b"\n".join(b" ".join([*args, op]) for op, args in operations)
    return PDF_PARTS.join([stream, *rest])


def _pdf_coordinates(change):
    """An edit: change(index, value) for each path coordinate, printed to 0.0001 pt."""
    def edit(operations):
        counter = iter(range(10**6))
        return [(op, [f"{change(next(counter), float(a)):.4f}".encode() for a in args]
                 if op in (b"m", b"l", b"c") else args) for op, args in operations]
    return edit


def _first_subpath(operations) -> tuple[int, int]:
    start = next(i for i, (op, _) in enumerate(operations) if op == b"m")
    end = next(i for i, (op, _) in enumerate(operations) if i > start and op == b"h")
    return start, end + 1


def _png_pixels(png: bytes, change, text=lambda key, value: value) -> bytes:
    """The PNG with change(pixels) for its pixels and text(key, value) for its metadata."""
    from PIL import Image, PngImagePlugin
    image = Image.open(io.BytesIO(png))
    info = PngImagePlugin.PngInfo()
    for key, value in image.info.items():
        if isinstance(value, str):
            info.add_text(key, text(key, value))
    buffer = io.BytesIO()
    Image.fromarray(change(np.asarray(image).copy())).save(
        buffer, format="PNG", pnginfo=info, dpi=image.info.get("dpi"))
    return buffer.getvalue()


def _jitter(step: float):
    """Each coordinate moved by +-step, as another order of float sums moves it."""
    signs = np.random.default_rng(0).choice([-1.0, 1.0], size=10**5)
    return lambda i, value: value + step * signs[i]


@pytest.mark.parametrize("kind", ["raster", "strokes"])
def test_the_same_picture_drawn_another_way_passes(kind):
    """Every coordinate moved by a flip of its last printed digit (SVG: 0.01 px, PDF: 1e-4
    pt), or by 0.04 px, and pixels moved by a level: the same picture."""
    svg, pdf = _golden("sheet.svg", kind), _golden("sheet.pdf.content", kind)
    for step in (0.01, 0.04):
        assert difference("sheet.svg", svg, _svg_numbers(svg, _jitter(step))) == ""
    for step in (1e-4, 0.04 * POINTS_PER_PIXEL):
        assert difference("sheet.pdf.content", pdf,
                          _pdf_edit(pdf, _pdf_coordinates(_jitter(step)))) == ""
    png = _golden("sheet.png", kind)
    levels = np.random.default_rng(1)
    one_level = _png_pixels(png, lambda a: np.clip(
        a + levels.integers(-1, 2, size=a.shape), 0, 255).astype(np.uint8))
    assert one_level != png and difference("sheet.png", png, one_level) == ""


def test_a_shape_moved_by_a_pixel_fails():
    """One glyph's ink moved right by a pixel (or by 0.06 px, just past the tolerance) in the
    SVG, the page's outlines in the PDF, the sheet's and the video's pixels."""
    svg, pdf = _golden("sheet.svg"), _golden("sheet.pdf.content")
    right = (lambda i, v: v + 1 if i % 2 == 0 else v)  # x coordinates come first
    assert "differ by up to 1" in difference("sheet.svg", svg, _svg_numbers(svg, right, slice(1)))
    assert "differ by up to 0.06" in difference("sheet.svg", svg, _svg_numbers(
        svg, lambda i, v: v + 0.06, slice(1)))
    right_pt = (lambda i, v: v + POINTS_PER_PIXEL if i % 2 == 0 else v)
    assert "coordinates differ" in difference("sheet.pdf.content", pdf,
                                              _pdf_edit(pdf, _pdf_coordinates(right_pt)))
    png = _golden("sheet.png")
    assert "pixels differ" in difference("sheet.png", png,
                                         _png_pixels(png, lambda a: np.roll(a, 1, axis=1)))
    frames = np.load(io.BytesIO(_golden("frames.npy")))
    buffer = io.BytesIO()
    np.save(buffer, np.roll(frames, 1, axis=2), allow_pickle=False)
    assert "pixels differ" in difference("frames.npy", _golden("frames.npy"), buffer.getvalue())


def test_a_path_added_or_lost_fails():
    svg = _golden("sheet.svg").decode()
    first_path = re.search(r"    <path [^>]*/>\n", svg)[0]
    added = svg.replace(first_path, first_path * 2).encode()
    lost = svg.replace(first_path, "").encode()
    for other in (added, lost):
        assert "SVG elements" in difference("sheet.svg", svg.encode(), other)
    data = re.search(r' d="([^"]*)"', svg)[1]  # a subpath more within one glyph's path
    more = svg.replace(data, data + data.split("Z")[0] + "Z").encode()
    assert "commands differ" in difference("sheet.svg", svg.encode(), more)
    pdf = _golden("sheet.pdf.content")

    def add(operations):
        start, end = _first_subpath(operations)
        return operations[:end] + operations[start:end] + operations[end:]

    def lose(operations):
        start, end = _first_subpath(operations)
        return operations[:start] + operations[end:]

    for edit in (add, lose):
        assert "operators differ" in difference("sheet.pdf.content", pdf, _pdf_edit(pdf, edit))


def test_metadata_and_the_rest_stay_exact():
    svg, pdf, png = (_golden(n) for n in ("sheet.svg", "sheet.pdf.content", "sheet.png"))
    assert "SVG element" in difference("sheet.svg", svg, svg.replace(b'"0-3"', b'"0-4"'))
    assert "subject" in difference("sheet.pdf.content", pdf, pdf.replace(b'"0-3"', b'"0-4"'))
    assert difference("sheet.pdf.content", pdf, _pdf_edit(pdf, lambda ops: ops)) == ""
    assert "operands of w" in difference("sheet.pdf.content", pdf,
                                         pdf.replace(b"0.57 w", b"0.5701 w"))
    ink = re.search(rb"[\d.]+ [\d.]+ [\d.]+ rg", pdf)[0]  # colours are exact, not coordinates
    assert "operands of rg" in difference("sheet.pdf.content", pdf,
                                          pdf.replace(ink, ink.replace(b" ", b"1 ", 1)))
    assert difference("sheet.png", png, _png_pixels(png, lambda a: a)) == ""
    assert "metadata" in difference("sheet.png", png, _png_pixels(
        png, lambda a: a, lambda key, value: value.replace("0-3", "0-4")))
    assert difference("poster.png", png, _golden("poster.png")) != ""
    assert difference("sheet.pdf", b"a", b"b") == "differs byte for byte"
