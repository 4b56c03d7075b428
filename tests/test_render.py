"""Rendering: sheets, posters, videos; reproducible, self-describing, atomic, clear errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from conftest import assert_one_line_error, run_cli, write_tiny
from glyphart.presets import load_preset
from glyphart.render.api import Render
from glyphart.render.layouts.page import page_size
from glyphart.render.writers.png import read_metadata


def decode(path):
    import imageio_ffmpeg
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3).astype(np.float32) for f in reader]
    return meta, frames


def test_webm_is_vp9_with_exact_seamless_loop(trained_tiny, tmp_path):
    out = tmp_path / "loop.webm"
    job = Render.load(str(trained_tiny), seeds="0-3")
    job.video(out, frames_per_key=8, px=32, quiet=True)
    meta, frames = decode(out)
    assert meta["codec"] == "vp9"
    assert len(frames) == 4 * 8
    assert frames[0].shape == (32, 32, 3)
    steps = [np.abs(frames[(i + 1) % len(frames)] - frames[i]).mean() for i in range(len(frames))]
    median = float(np.median(steps[:-1]))
    assert median > 0.1  # it moves
    assert 0.3 * median < steps[-1] < 3 * median, (steps[-1], median)
    from glyphart import __version__
    from glyphart.render.writers.video import read_video_metadata
    carried = read_video_metadata(out)
    assert carried["preset"] == "tiny" and carried["glyphart_version"] == __version__
    assert carried["seeds"] == "0-3" and carried["options"]["frames"] == 32


def test_grid_video_mp4_and_gif(trained_tiny, tmp_path):
    job = Render.load(str(trained_tiny), seeds="0-15")
    mp4 = job.video(tmp_path / "grid.mp4", grid="2x4", frames_per_key=3, px=16, gap=2, quiet=True)
    meta, frames = decode(mp4)
    assert meta["codec"] == "h264" and len(frames) == 6
    assert frames[0].shape == (2 * 16 + 3 * 2, 4 * 16 + 5 * 2, 3)
    gif = job.video(tmp_path / "grid.gif", grid="2x4", frames_per_key=3, px=16, quiet=True)
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 6


def test_sheet_metadata_round_trips(trained_tiny, tmp_path):
    proc = run_cli("render", "--preset", str(trained_tiny), "--seeds", "0-5,9",
                   "--sheet", str(tmp_path / "s.png"), "--palette", "ink", "--glyph-px", "24")
    assert proc.returncode == 0, proc.stderr
    meta = read_metadata(tmp_path / "s.png")
    preset = load_preset(str(trained_tiny))
    assert meta["preset"] == "tiny" and meta["seeds"] == "0-5,9"
    assert meta["weights"] == preset.weights_hash
    assert meta["options"]["palette"] == "ink" and meta["glyphart_version"]
    with Image.open(tmp_path / "s.png") as im:
        assert "seeds: 0-5,9" in im.info["parameters"]
        pixels = np.asarray(im)
    from glyphart.inks import make_paint
    from glyphart.render.paint import gap_shade
    paint = make_paint(1, "ink")
    assert tuple(pixels[0, 0]) == gap_shade(paint)  # the frame between glyphs
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    assert set(map(tuple, colours[np.argsort(counts)[-2:]])) <= \
        {paint.fg, paint.paper, gap_shade(paint)}


@pytest.mark.parametrize("size, dpi, landscape, expected", [
    ("a5", 100, False, (583, 827)),
    ("a5", 72, True, (595, 420)),
    ("300x200px", 150, False, (300, 200)),
    ("4x3in", 50, False, (200, 150)),
])
def test_poster_pixels_and_dpi_match_print_size(trained_tiny, tmp_path, size, dpi, landscape,
                                                expected):
    args = ["render", "--preset", str(trained_tiny), "--seeds", "0-11", "--poster",
            str(tmp_path / "p.png"), "--size", size, "--dpi", str(dpi), "-q"]
    proc = run_cli(*(args + (["--landscape"] if landscape else [])))
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "p.png") as im:
        assert im.size == expected
        # PNG stores whole pixels per metre: 150 dpi is 5906 px/m, read back as 150.012.
        assert im.info["dpi"] == pytest.approx((dpi, dpi), abs=0.02)
    assert page_size("a0", 300).width == 9933 and page_size("a0", 300).height == 14043


def test_hero_poster_is_crisp_when_enlarged(trained_tiny, tmp_path):
    job = Render.load(str(trained_tiny), seeds="3")
    [path] = job.posters(str(tmp_path / "hero.png"), size="600x600px", dpi=100, layout="hero",
                         margin=0.0, quiet=True)
    with Image.open(path) as im:
        gray = np.asarray(im.convert("L"), dtype=np.float32) / 255
    # Ink style: almost every pixel is near black or near white, edges ~1 px wide.
    mid = ((gray > 0.1) & (gray < 0.9)).mean()
    assert mid < 0.03, mid


def test_batch_posters_one_per_seed_and_skip_done(trained_tiny, tmp_path):
    template = str(tmp_path / "posters" / "{preset}-{seed}.png")
    args = ["render", "--preset", str(trained_tiny), "--seeds", "0-2", "--poster", template,
            "--size", "100x140px", "--dpi", "50"]
    assert run_cli(*args).returncode == 0
    files = sorted((tmp_path / "posters").glob("*.png"))
    assert [f.name for f in files] == ["tiny-0.png", "tiny-1.png", "tiny-2.png"]
    mtimes = [f.stat().st_mtime_ns for f in files]
    again = run_cli(*args)
    assert again.returncode == 0 and "wrote" not in again.stdout  # all skipped
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    forced = run_cli(*args, "--force")
    assert forced.stdout.count("wrote") == 3


def test_same_render_twice_is_byte_identical(trained_tiny, tmp_path):
    for name in ("a", "b"):
        assert run_cli("render", "--preset", str(trained_tiny), "--seeds", "0-8",
                       "--sheet", str(tmp_path / f"{name}.png"), "--poster",
                       str(tmp_path / f"{name}-poster.png"), "--size", "200x300px").returncode == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a-poster.png").read_bytes() == (tmp_path / "b-poster.png").read_bytes()


def test_failed_render_leaves_no_partial_and_keeps_old_file(trained_tiny, tmp_path, monkeypatch):
    from glyphart.render import compose as poster_module
    target = tmp_path / "keep.png"
    target.write_bytes(b"the artist's earlier poster")

    def broken_bands(*args, **kwargs):
        yield np.zeros((poster_module.BAND_ROWS, 200, 3), np.uint8)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(poster_module, "poster_bands", broken_bands)
    job = Render.load(str(trained_tiny), seeds="0-3")
    with pytest.raises(RuntimeError):
        list(job.posters(str(target), size="200x600px", dpi=100, force=True, quiet=True))
    assert target.read_bytes() == b"the artist's earlier poster"
    assert os.listdir(tmp_path) == ["keep.png"]


def test_interrupted_video_leaves_nothing(trained_tiny, tmp_path, monkeypatch):
    from glyphart.render import compose as video_loop

    real = video_loop.loop_frames

    def failing(*args, **kwargs):
        for i, frame in enumerate(real(*args, **kwargs)):
            if i == 5:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(video_loop, "loop_frames", failing)
    job = Render.load(str(trained_tiny), seeds="0-3")
    with pytest.raises(KeyboardInterrupt):
        job.video(tmp_path / "v.webm", frames_per_key=8, quiet=True)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args, needle", [
    (["--seeds", "5-1"], "runs backwards"),
    (["--seeds", "x"], "bad seed list"),
    (["--poster", "{tmp}/p.png", "--size", "b7"], "bad size 'b7'"),
    (["--poster", "{tmp}/p.png", "--size", "10x10px"], "16 to"),
    (["--video", "{tmp}/v.avi"], "unsupported video format"),
    (["--sheet", "/proc/nope/sheet.png"], "cannot"),
    (["--palette", "plaid"], "unknown palette 'plaid'"),
    (["--fg", "#12345"], "bad colour"),
    (["--inks", "#ff0000,#00ff00"], "gives 2 colour(s) but the preset draws 1"),
    (["--poster", "{tmp}/{glyph}.png"], "unknown field {glyph}"),
    (["--message", "{tmp}/missing.npy"], "cannot read message file"),
])
def test_bad_render_inputs(trained_tiny, tmp_path, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = run_cli("render", "--preset", str(trained_tiny), *args)
    assert_one_line_error(proc, needle)


def test_unknown_and_untrained_presets(tmp_path):
    assert_one_line_error(run_cli("render", "--preset", "nope"), "unknown preset")
    path = write_tiny(tmp_path)
    assert_one_line_error(run_cli("render", "--preset", str(path)), "no trained weights")


def test_missing_encoder_is_a_clear_error(trained_tiny, tmp_path, monkeypatch):
    import imageio_ffmpeg
    from glyphart.errors import GlyphartError

    def no_ffmpeg():
        raise RuntimeError("No ffmpeg exe could be found")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_ffmpeg)
    job = Render.load(str(trained_tiny), seeds="0-3")
    with pytest.raises(GlyphartError, match="no video encoder"):
        job.video(tmp_path / "v.webm", quiet=True)
    assert os.listdir(tmp_path) == []


def test_an_encoder_that_dies_mid_video_is_an_error_and_leaves_the_old_file(tmp_path):
    """Frames reach ffmpeg through a queue: an encoder killed while frames are still coming
    is reported (not a hang on the full queue, not a silent short video), and the video
    already at the path stays."""
    from glyphart.errors import GlyphartError
    from glyphart.render.writers.video import QUEUED_FRAMES, VideoWriter
    path = tmp_path / "v.webm"
    path.write_bytes(b"the earlier video")
    frame = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(GlyphartError, match="video encoder failed"):
        with VideoWriter(path) as writer:
            writer.write(frame)
            writer._process.kill()
            for _ in range(4 * QUEUED_FRAMES):
                writer.write(frame)
    assert path.read_bytes() == b"the earlier video"
    assert os.listdir(tmp_path) == ["v.webm"]


def test_message_files_are_keyframes(trained_tiny, tmp_path):
    preset = load_preset(str(trained_tiny))
    np.save(tmp_path / "m.npy", np.ones(preset.spec.model.message_size, np.float32))
    job = Render.load(str(trained_tiny), seeds="0", message_files=[str(tmp_path / "m.npy")])
    seeds, z = job.glyphs("0-63")
    assert seeds == [0] and z.shape == (2, preset.spec.model.message_size)
    assert float(z[1].sum()) == preset.spec.model.message_size


def test_invert_finds_a_message_that_renders(trained_tiny, tmp_path):
    preset = load_preset(str(trained_tiny))
    # Target: the tiny preset's own glyph 5, so a good inversion gets close to it.
    from glyphart.latent import messages
    from glyphart.render.paint import to_rgb8
    with __import__("torch").no_grad():
        target = preset.generator(messages(preset, [5]))
    Image.fromarray(to_rgb8(target)[0]).save(tmp_path / "target.png")
    proc = run_cli("invert", str(tmp_path / "target.png"), "--preset", str(trained_tiny),
                   "--out", str(tmp_path / "m.npy"), "--steps", "150")
    assert proc.returncode == 0, proc.stderr
    mse = float(proc.stdout.split("error ")[1].split(")")[0])
    assert mse < 0.02, proc.stdout
    assert np.load(tmp_path / "m.npy").shape == (preset.spec.model.message_size,)
    proc = run_cli("render", "--preset", str(trained_tiny), "--message", str(tmp_path / "m.npy"),
                   "--seeds", "0-2", "--sheet", str(tmp_path / "s.png"))
    assert proc.returncode == 0, proc.stderr
    assert read_metadata(tmp_path / "s.png")["messages"] == ["m.npy"]
    assert_one_line_error(run_cli("invert", str(tmp_path / "nope.png"), "--preset",
                                  str(trained_tiny), "--out", str(tmp_path / "x.npy")),
                          "cannot read image")


def test_ink_style_sharpens_previews_at_and_below_native_size(trained_tiny):
    """A small sheet shows the same clean regions a poster does: fewer mid-greys than smooth."""
    from glyphart.latent import messages
    from glyphart.render.glyphs import render_glyphs
    preset = load_preset(trained_tiny)
    z = messages(preset, range(16))

    def grey(images):
        return float(((images > 0.1) & (images < 0.9)).float().mean())

    for px in (16, 8):  # native, and a downscaled preview
        ink = render_glyphs(preset.generator, z, px, "ink")
        smooth = render_glyphs(preset.generator, z, px, "smooth")
        assert ink.shape == smooth.shape == (16, 1, px, px)
        assert grey(ink) < grey(smooth), px
