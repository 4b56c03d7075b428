"""Golden outputs: the same presets and seeds give the same bytes, release after release.

Two small presets are built here from fixed seeds (untrained weights: the shipped presets are
retrained from time to time and their glyphs change): a raster one with two inks laid over
each other and a strokes one with two overprinting inks. Each draws a 4-glyph sheet (PNG, SVG,
PDF), a poster of two bands and ten video frames; the files in tests/golden/ are what they
drew when they were made. The pixels of the frames are compared as drawn (the encoder's
output may vary with ffmpeg's build); the PDF as its page content and its metadata (the file's
framing is fpdf2's).

Pinned so every machine draws the same: the torch stroke rasteriser (the compiled kernel may
differ by a level of float32 rounding; stroke_field's `path`, GLYPHART_RASTERISER) and fp32
video frames (bf16 is used only where the CPU computes it natively). Pixels may still move by
one level from one CPU to another (a raster preset's float32 convolutions): images and frames
match within a level, everything else byte for byte.

Regenerate after a deliberate change with GLYPHART_UPDATE_GOLDENS=1 and say why in the commit.
"""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import TINY, write_tiny

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("GLYPHART_UPDATE_GOLDENS"))

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
    import re
    data = path.read_bytes()
    streams = [zlib.decompress(m.group(1).strip(b"\r\n"))
               for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S)]
    subject = re.search(rb"/Subject \((.*?)\)\s*/", data, re.S)
    return b"\n--\n".join(streams + [subject.group(1) if subject else b""])


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
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in outputs.items():
            (folder / name).write_bytes(data)
    differ = [name for name, data in outputs.items()
              if not (folder / name).is_file() or not _same(name, (folder / name).read_bytes(),
                                                            data)]
    assert not differ, f"{kind}: {differ} differ from tests/golden/{kind}/"


def _same(name: str, golden: bytes, data: bytes) -> bool:
    """Byte for byte, except pixels: a raster generator's convolutions round differently on
    each CPU (oneDNN's AVX-512 and AVX2 kernels sum in another order), which moves a pixel by
    a level now and then; so images match within one level, their metadata exactly."""
    if golden == data:
        return True
    if name.endswith(".png"):
        from PIL import Image
        old, new = Image.open(io.BytesIO(golden)), Image.open(io.BytesIO(data))
        if old.info != new.info:
            return False
        old, new = np.asarray(old), np.asarray(new)
    elif name.endswith(".npy"):
        old, new = np.load(io.BytesIO(golden)), np.load(io.BytesIO(data))
    else:
        return False
    return old.shape == new.shape and np.abs(old.astype(int) - new.astype(int)).max() <= 1
