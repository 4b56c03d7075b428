"""Separations (issue 40): beside a poster or sheet, one black-on-white master per ink, which a
printer overprints (multiply) or lays knocked out (over) to give the composite back; PDF
masters in DeviceGray that are the PNG masters in vectors; trap, ink density, marks; names,
metadata, batches, torchrun, the gallery and the studio; bad input as one line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image, ImageFilter

from conftest import assert_usage_or_one_line_error
from glyphart.inks import PALETTES
from glyphart.parse import color
from glyphart.render.api import Render
from glyphart.render.separations import Separations
from glyphart.render.writers.png import read_metadata

RISO = PALETTES["riso"]
PAPER = np.array(color(RISO.paper), float) / 255
INKS = np.array([color(ink) for ink in RISO.inks], float) / 255
NAMES = [f"ink{k + 1}-{ink[1:]}" for k, ink in enumerate(RISO.inks)]
A5 = {"size": "a5", "dpi": 60}  # 350 x 496 px


def _gray(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "L", (path, im.mode)
        return np.asarray(im, float)


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), float)


def _masters(folder: Path, stem: str, suffix: str = ".png") -> list[Path]:
    return [folder / f"{stem}-{name}{suffix}" for name in NAMES]


def _printed(masters: list[np.ndarray], blend: str, density=(1, 1, 1)) -> np.ndarray:
    """What a printer makes of the masters, written out here without glyphart: multiply, each
    ink filtering the paper by ink / paper where its master is black; over (knocked out), each
    ink in its own spots, the paper in the rest."""
    ink = 1 - np.stack(masters) / 255  # (K, H, W)
    if blend == "multiply":
        transmit = np.clip(INKS / np.maximum(PAPER, 1e-3), 0, 1)
        picture = PAPER * np.prod(1 - ink[..., None] * (1 - transmit[:, None, None]), axis=0)
    else:
        picture = PAPER + (ink[..., None] * (INKS[:, None, None] - PAPER)).sum(axis=0)
    return np.round(picture * 255)


@pytest.fixture(scope="module")
def riso(tmp_path_factory) -> Path:
    """Six glyphs of the shipped `color` in riso: plain posters and separated ones, PNG and
    PDF, under each blend."""
    folder = tmp_path_factory.mktemp("riso")
    for blend in ("multiply", "over"):
        job = Render.load("color", seeds="0-5", blend=blend)
        list(job.posters(str(folder / f"plain-{blend}.png"), quiet=True, **A5))
        for suffix in (".png", ".pdf"):
            list(job.posters(str(folder / f"{blend}{suffix}"), quiet=True,
                             separations=Separations(), **A5))
    return folder


# -- the masters print the composite -----------------------------------------------------------


@pytest.mark.parametrize("blend", ["multiply", "over"])
def test_a_colour_poster_has_a_grayscale_master_per_ink_that_print_its_composite(riso, blend):
    composite = _rgb(riso / f"{blend}.png")
    masters = [_gray(path) for path in _masters(riso, blend)]
    assert [m.shape for m in masters] == [composite.shape[:2]] * 3
    for path in _masters(riso, blend):
        with Image.open(path) as im:
            assert im.info["dpi"] == pytest.approx((60, 60), abs=0.01)
    # Printed by the poster's blend, the masters give the composite within one level...
    assert np.abs(_printed(masters, blend) - composite).max() <= 1
    # ...and that composite is the poster drawn without separations, within one level.
    plain = _rgb(riso / f"plain-{blend}.png")
    assert np.abs(composite - plain).max() <= 1
    assert (np.abs(composite - plain) > 0).mean() < 0.05
    # Each master holds ink: none is blank, none is the whole page.
    for master in masters:
        assert 0.01 < (master < 128).mean() < 0.5


def test_each_master_carries_the_posters_parameters_its_ink_and_its_place(riso):
    poster = read_metadata(riso / "over.png")
    assert poster["separations"] == {"mode": "files", "marks": False, "trap_mm": 0.0,
                                     "density": None}
    for k, path in enumerate(_masters(riso, "over")):
        meta = read_metadata(path)
        separation = meta.pop("separation")
        assert meta == poster
        assert separation == {"composite": "over.png", "inks": 3, "blend": "over",
                              "ink": k + 1, "colour": RISO.inks[k], "density": 1.0}


def test_over_knocks_each_ink_out_where_the_inks_above_it_cover(riso):
    masters = [_gray(path) for path in _masters(riso, "over")]
    for k in range(2):
        covered = np.any([m == 0 for m in masters[k + 1:]], axis=0)
        assert covered.sum() > 500
        assert (masters[k][covered] == 255).all()
    # Under multiply the inks overprint: the lower masters keep their ink there.
    overprinted = [_gray(path) for path in _masters(riso, "multiply")]
    assert (overprinted[0][masters[1] == 0] < 128).sum() > 100


# -- PDF masters -------------------------------------------------------------------------------


def _colour_operators(pdf: Path) -> set[str]:
    """The colour operators in a PDF's content streams (fpdf2 deflates each)."""
    found = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf.read_bytes(), re.S):
        try:
            text = zlib.decompress(stream)
        except zlib.error:
            text = stream
        found |= {op.decode() for op in re.findall(rb"[\d.]\s+(g|rg|k|G|RG|K|sc|scn)\b", text)}
    return found


def _rasterised(pdf: Path, dpi: float) -> np.ndarray:
    """A one-page PDF drawn by pdfium at `dpi`, as gray levels."""
    import pypdfium2
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    return np.asarray(image, float)


def _solid(mask: np.ndarray) -> np.ndarray:
    """Pixels whose whole 3 x 3 neighbourhood is in the mask: over a pixel from any edge."""
    image = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MinFilter(3))
    return np.asarray(image, bool)


@pytest.mark.parametrize("blend", ["multiply", "over"])
def test_pdf_masters_are_the_png_masters_in_vectors_in_device_gray(riso, blend):
    import pypdfium2
    for png_path, pdf_path in zip(_masters(riso, blend), _masters(riso, blend, ".pdf")):
        png = _gray(png_path)
        assert _colour_operators(pdf_path) == {"g"}, pdf_path  # DeviceGray fills only
        document = pypdfium2.PdfDocument(pdf_path)
        assert len(document) == 1
        width, height = document[0].get_size()
        assert (width, height) == pytest.approx((350 * 72 / 60, 496 * 72 / 60))
        document.close()
        pdf = _rasterised(pdf_path, 60)[:png.shape[0], :png.shape[1]]
        # Full ink and bare paper agree wherever they are over a pixel's width from an edge,
        # and the ink is the same amount.
        inside = _solid(png == 0) | _solid(png == 255)
        assert inside.mean() > 0.8
        assert np.abs(pdf - png)[inside].max() <= 8, png_path
        assert (255 - pdf).sum() == pytest.approx((255 - png).sum(), rel=0.01)
    composite = riso / f"{blend}.pdf"
    assert "rg" in _colour_operators(composite)  # the composite keeps its colours


def test_pages_put_every_master_in_one_pdf(tmp_path):
    import pypdfium2
    job = Render.load("color", seeds="0-3")
    written = list(job.posters(str(tmp_path / "p.pdf"), quiet=True,
                               separations=Separations("pages"), **A5))
    assert written == [tmp_path / "p.pdf", tmp_path / "p-separations.pdf"]
    document = pypdfium2.PdfDocument(written[1])
    meta = json.loads(document.get_metadata_dict()["Subject"])
    assert len(document) == 3 and _colour_operators(written[1]) == {"g"}
    document.close()
    assert [page["colour"] for page in meta["separation"]["pages"]] == list(RISO.inks)


# -- trap, density, marks ----------------------------------------------------------------------


def test_a_trap_leaves_each_lower_ink_under_the_edges_of_the_inks_above(tmp_path):
    dpi, trap_mm = 150, 0.5  # 2.95 px
    job = Render.load("color", seeds="0-3", blend="over")
    for name, trap in (("flush", 0.0), ("trapped", trap_mm)):
        list(job.posters(str(tmp_path / f"{name}.png"), size="600x400px", dpi=dpi, quiet=True,
                         separations=Separations(trap_mm=trap)))
    flush = [_gray(path) for path in _masters(tmp_path, "flush")]
    trapped = [_gray(path) for path in _masters(tmp_path, "trapped")]
    assert (trapped[2] == flush[2]).all()  # nothing lies above the top ink
    for k in range(2):
        above = np.any([m < 255 for m in flush[k + 1:]], axis=0)  # any ink above shows
        full = np.any([m == 0 for m in flush[k + 1:]], axis=0)
        # Deeper inside the inks above than the trap (a square of 2 * 4 + 1 px holds the
        # 2.95 px disc), the lower ink is still knocked out...
        deep = _solid(full)
        for _ in range(3):
            deep = _solid(deep)
        assert deep.sum() > 100 and (trapped[k][deep] == 255).all()
        # ...and it only gains ink, under the edges of the inks above.
        gained = trapped[k] < flush[k] - 8
        assert (trapped[k] <= flush[k]).all()
        assert gained.sum() > 50 and not (gained & ~above).any()
    # The composite (printed from the masters) is the flush one where registration is true.
    assert np.abs(_rgb(tmp_path / "trapped.png") - _rgb(tmp_path / "flush.png")).mean() < 0.5
    # The vector masters trap as far: the same ink, within a pixel of every edge.
    list(job.posters(str(tmp_path / "trapped.pdf"), size="600x400px", dpi=dpi, quiet=True,
                     separations=Separations(trap_mm=trap_mm)))
    for png, pdf_path in zip(trapped, _masters(tmp_path, "trapped", ".pdf")):
        pdf = _rasterised(pdf_path, dpi)[:png.shape[0], :png.shape[1]]
        inside = _solid(png == 0) | _solid(png == 255)
        assert np.abs(pdf - png)[inside].max() <= 8
        assert (255 - pdf).sum() == pytest.approx((255 - png).sum(), rel=0.01)


def test_ink_density_lightens_each_master_and_the_composite_shows_it(riso, tmp_path):
    job = Render.load("color", seeds="0-5")
    list(job.posters(str(tmp_path / "d.png"), quiet=True,
                     separations=Separations(density=[1.0, 0.5, 0.0]), **A5))
    lightened = [_gray(path) for path in _masters(tmp_path, "d")]
    full = [_gray(path) for path in _masters(riso, "multiply")]
    assert np.array_equal(lightened[0], full[0])
    assert np.abs(lightened[1] - (255 - (255 - full[1]) / 2)).max() <= 1  # half the ink
    assert (lightened[2] == 255).all()
    composite = _rgb(tmp_path / "d.png")
    assert np.abs(_printed(lightened, "multiply") - composite).max() <= 1
    alone = (full[2] == 0) & (full[0] == 255) & (full[1] == 255)  # only yellow was there
    assert alone.sum() > 100 and (composite[alone] == np.round(PAPER * 255)).all()


def test_marks_frame_the_composite_and_every_master_alike(riso, tmp_path):
    job = Render.load("color", seeds="0-5")
    list(job.posters(str(tmp_path / "m.png"), quiet=True, separations=Separations(marks=True),
                     **A5))
    border = round(12 / 25.4 * 60)  # marks.BORDER_MM at 60 dpi
    masters = [_gray(path) for path in _masters(tmp_path, "m")]
    composite = _rgb(tmp_path / "m.png")
    assert composite.shape[:2] == (496 + 2 * border, 350 + 2 * border)
    trim = (slice(border, border + 496), slice(border, border + 350))
    ring = np.ones(composite.shape[:2], bool)
    ring[trim] = False
    for master, plain in zip(masters, _masters(riso, "multiply")):
        assert master.shape == composite.shape[:2]
        assert np.array_equal(master[trim], _gray(plain))  # inside the trim: the poster
        assert np.array_equal(master[ring], masters[0][ring])  # outside: the same marks
    marked = ring & (masters[0] < 128)
    assert 100 < marked.sum() < 0.05 * ring.sum()
    # In the composite the marks are every ink overprinted: darker than any one ink alone.
    assert composite[marked].sum(-1).max() < (INKS * 255).sum(-1).min()
    assert np.abs(_printed(masters, "multiply") - composite).max() <= 1


# -- gray presets, sheets, SVG -----------------------------------------------------------------


def test_a_gray_preset_has_one_master(tmp_path):
    job = Render.load("gray", seeds="0-3", palette="ink")
    written = list(job.posters(str(tmp_path / "g.png"), quiet=True, separations=Separations(),
                               **A5))
    assert [p.name for p in written] == ["g.png", "g-ink1-16140f.png"]
    master = _gray(written[1])
    assert 0.01 < (master < 128).mean() < 0.9


def test_a_sheet_separates_its_glyphs_without_labels_or_shaded_gaps(tmp_path):
    job = Render.load("color", seeds="0-8")
    written = job.sheet(tmp_path / "s.png", separations=Separations())
    assert [p.name for p in written] == ["s.png"] + [f"s-{n}.png" for n in NAMES]
    composite = _rgb(written[0])
    assert (composite[0, 0] == np.round(PAPER * 255)).all()  # the gap is paper
    assert np.abs(_printed([_gray(p) for p in written[1:]], "multiply") - composite).max() <= 1
    svgs = job.sheet(tmp_path / "s-{ink}.svg", separations=Separations())
    assert svgs[0].name == "s-composite.svg"
    for svg in svgs[1:]:
        text = svg.read_text()
        assert 'fill="#000000"' in text and 'fill="#ffffff"' in text and "mix-blend" not in text


# -- batches -----------------------------------------------------------------------------------


def test_a_batch_names_its_masters_at_ink_lists_them_and_resumes(tmp_path):
    args = ["render", "--preset", "gray", "--palette", "ink", "--seeds", "0-1", "--size",
            "64x96px", "--separations", "--poster", str(tmp_path / "{preset}-{seed}-{ink}.png")]
    runner = CliRunner()
    first = runner.invoke(_main(), args)
    assert first.exit_code == 0, first.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["gray-0-composite.png", "gray-0-ink1-16140f.png", "gray-1-composite.png",
                     "gray-1-ink1-16140f.png", "manifest.json"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["template"] == "{preset}-{seed}-{ink}.png"
    assert manifest["files"][1] == {"file": "gray-1-composite.png", "seeds": "1",
                                    "separations": ["gray-1-ink1-16140f.png"]}
    again = runner.invoke(_main(), args)
    assert "wrote gray" not in again.output and "skipped 2" in again.output
    (tmp_path / "gray-1-ink1-16140f.png").unlink()  # a master lost: its poster is redrawn
    third = runner.invoke(_main(), args)
    assert "gray-1-ink1-16140f.png" in third.output and "gray-0" not in third.output


def test_sharded_separations_are_the_one_process_files(tmp_path):
    from test_distributed import torchrun
    args = ["-m", "glyphart", "render", "--preset", "gray", "--palette", "ink", "--seeds", "0-3",
            "--size", "48x64px", "-q", "--separations", "--poster"]
    one = subprocess.run([sys.executable, *args, str(tmp_path / "one" / "{seed}.png")],
                         capture_output=True, text=True, timeout=240)
    assert one.returncode == 0, one.stderr
    two = torchrun(*args, str(tmp_path / "two" / "{seed}.png"))
    assert two.returncode == 0, two.stderr
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 9 and "3-ink1-16140f.png" in names
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def _main():
    from glyphart.cli import main
    return main


# -- the gallery and the studio ----------------------------------------------------------------


def test_the_gallery_shows_masters_on_their_composites_card(riso, tmp_path):
    from glyphart.explore.gallery import remake_command, write_gallery
    for path in [riso / "over.png", *_masters(riso, "over")]:
        shutil.copy(path, tmp_path)
    page = write_gallery(tmp_path).read_text()
    assert page.count("<figure>") == 1 and "(4 files)" in page
    for k, name in enumerate(NAMES):
        assert f'href="over-{name}.png"' in page and f"ink {k + 1} {RISO.inks[k]}" in page
    # A master's command remakes its composite, and the masters with it.
    command = remake_command(f"over-{NAMES[1]}.png",
                             read_metadata(tmp_path / f"over-{NAMES[1]}.png"))
    assert "--blend over --size a5 --dpi 60" in command
    assert command.endswith("--separations --poster over.png")


def test_the_studio_exports_a_poster_with_its_masters(tmp_path):
    from glyphart.explore.exports import Exports
    from glyphart.explore.view import PaintChoice
    exports = Exports(tmp_path)
    result = exports.export("color", "poster-separations", [0, 1], PaintChoice())
    assert result["separations"] == [f"color-poster-separations-0001-{n}.png" for n in NAMES]
    assert "--separations --poster" in result["command"]
    for name in [result["file"], *result["separations"]]:
        assert exports.confined(name).is_file()  # served like the export itself


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--video", "{tmp}/v.webm", "--separations"], "--separations applies to --sheet"),
    (["--poster", "{tmp}/p.png", "--marks"], "--marks shapes the masters"),
    (["--poster", "{tmp}/p.png", "--trap", "1"], "--trap shapes the masters"),
    (["--poster", "{tmp}/p.png", "--ink-density", "1,1,1"], "--ink-density shapes the masters"),
    (["--poster", "{tmp}/p.png", "--separations", "--ink-density", "1,1.5,1"], "from 0 to 1"),
    (["--poster", "{tmp}/p.png", "--separations", "--ink-density", "1,-1,1"], "from 0 to 1"),
    (["--poster", "{tmp}/p.png", "--separations", "--ink-density", "1,0.5"],
     "gives 2 value(s) but the preset draws 3 ink(s)"),
    (["--poster", "{tmp}/p.png", "--separations", "--ink-density", "1,,1"], "is empty"),
    (["--poster", "{tmp}/p.png", "--separations", "--palette", "night"], "--palette riso"),
    (["--poster", "{tmp}/p.png", "--separations", "--trap", "0.5"], "add --blend over"),
    (["--poster", "{tmp}/p.png", "--separations", "--blend", "over", "--trap", "nan"], "--trap"),
    (["--poster", "{tmp}/p.png", "--separations", "pages"], "name the output .pdf"),
    (["--poster", "{tmp}/p.png", "--separations", "both"], "--separations"),
    (["--poster", "{tmp}/p-{ink}.png"], "add --separations or drop {ink}"),
    (["--sheet", "{tmp}/s.png", "--separations", "--labels"], "drop --labels"),
])
def test_bad_separations_are_one_line_and_write_nothing(tmp_path, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(_main(), ["render", "--preset", "color", "--seeds", "0-1",
                                          *args])
    assert_usage_or_one_line_error(
        SimpleNamespace(returncode=result.exit_code, stderr=result.stderr), needle)
    assert not any(tmp_path.iterdir()), "a file was written"


def test_a_dark_paper_palette_is_refused_naming_a_light_one(tmp_path):
    result = CliRunner().invoke(_main(), ["render", "--preset", "gray", "--separations",
                                          "--poster", str(tmp_path / "g.png")])
    assert_usage_or_one_line_error(
        SimpleNamespace(returncode=result.exit_code, stderr=result.stderr),
        "palette 'chalk'", "#ffffff on darker paper #000000", "--palette ink")


# -- the erosion behind the trap ---------------------------------------------------------------


def test_erosion_by_a_disc_is_the_least_coverage_within_it():
    from glyphart.render.masters import disc_eroded
    generator = torch.Generator().manual_seed(0)
    coverage = torch.rand(23, 31, generator=generator)
    radius = 3.4
    padded = torch.nn.functional.pad(coverage, (4, 4, 4, 4))
    expected = torch.full_like(coverage, 2.0)
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            if dx * dx + dy * dy <= radius * radius:
                shifted = padded[4 + dy:4 + dy + 23, 4 + dx:4 + dx + 31]
                expected = torch.minimum(expected, shifted)
    assert torch.equal(disc_eroded(coverage, radius), expected)


@pytest.mark.parametrize("radius", [1.0, 2.95, 4.5])
def test_erosion_moves_an_anti_aliased_edge_by_the_radius(radius):
    from glyphart.render.masters import eroded
    edge = 20.3  # ink right of x = 20.3 (its pixel covered 0.7), to the far side
    x = torch.arange(64.0)
    coverage = ((x + 1 - edge).clamp(0, 1)).expand(40, 64).clone()
    shrunk = eroded(coverage, radius)[10:30, :56]  # away from the array's bare borders
    ink_lost = (coverage[10:30, :56] - shrunk).sum(1)
    assert torch.allclose(ink_lost, torch.full_like(ink_lost, radius), atol=1e-4)
