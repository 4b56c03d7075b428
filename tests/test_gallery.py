"""`glyphart gallery`: a static index of a batch export, its parameters read back from each
file's own metadata, relative links only; and the page in a real browser from the file system."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from glyphart.explore.gallery import read_parameters, remake_command, write_gallery  # noqa: E402


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A sheet of each format, a poster, a video and a font of the shipped brush preset."""
    from glyphart.explore.exports import Exports
    from glyphart.explore.view import PaintChoice
    folder = tmp_path_factory.mktemp("batch")
    exports = Exports(folder)
    for kind in ("sheet", "sheet-svg", "sheet-pdf", "poster", "video", "font", "plot"):
        exports.export("brush", kind, [3, 4, 5, 6], PaintChoice(palette="rose"))
    (folder / "notes.txt").write_text("not an export")
    return folder


def test_every_file_reads_back_its_parameters(batch):
    for path in sorted(batch.iterdir()):
        if path.suffix == ".txt":
            continue
        params = read_parameters(path)
        assert params.get("preset") == "brush", path.name
        assert params.get("seeds") in ("3-6", [3, 4, 5, 6]), path.name


def test_remake_command_names_the_file_and_its_options(batch):
    params = read_parameters(batch / "brush-sheet-0001.png")
    command = remake_command("brush-sheet-0001.png", params)
    assert command.startswith("glyphart render --preset brush --seeds 3-6 --palette rose")
    assert command.endswith("--sheet brush-sheet-0001.png")
    font = remake_command("brush-font-0001.ttf", read_parameters(batch / "brush-font-0001.ttf"))
    assert font == "glyphart font --preset brush --seeds 3-6 --out brush-font-0001.ttf"
    video = remake_command("v.webm", read_parameters(batch / "brush-video-0001.webm"))
    assert "--video v.webm" in video and "--seconds 4" in video


def test_gallery_page_links_relatively_and_shows_each_file(batch):
    from click.testing import CliRunner
    from glyphart.cli import main
    r = CliRunner().invoke(main, ["gallery", str(batch)])
    assert r.exit_code == 0, r.output
    page = (batch / "index.html").read_text()
    links = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert links and not any(link.startswith(("/", "http", "file:")) or ".." in link
                             for link in links)
    for name in ("brush-sheet-0001.png", "brush-sheet-svg-0001.svg", "brush-sheet-pdf-0001.pdf",
                 "brush-poster-0001.png", "brush-video-0001.webm", "brush-font-0001.ttf"):
        assert f'href="{name}"' in page
    assert "notes.txt" not in page and page.count("<figure>") == 7
    assert all((batch / link).is_file() for link in links)


def test_gallery_of_a_missing_folder_is_a_clean_error(tmp_path):
    from click.testing import CliRunner
    from glyphart.cli import main
    r = CliRunner().invoke(main, ["gallery", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_gallery_in_a_browser_shows_every_thumbnail(batch):
    from explore_server import browser
    write_gallery(batch)
    try:
        context = browser()
        b = context.__enter__()
    except Exception as e:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {e}")
        pytest.skip(f"no browser here: {e}")
    try:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto((batch / "index.html").as_uri())
        images = page.locator("figure img")
        assert images.count() == 7
        for i in range(7):
            images.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("() => [...document.querySelectorAll('figure img')].every("
                               "(i) => i.complete && i.naturalWidth > 0)", timeout=30_000)
    finally:
        context.__exit__(None, None, None)
