"""Export what is on screen: the very files `glyphart render` / `glyphart font` write (through
`Render`, so the same pixels and metadata), named by the server and kept under the export
folder, with the command that remakes each."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

from ..errors import GlyphartError
from ..latent import compact_seeds
from ..presets import safe_file_name
from .view import PaintChoice

# kind -> (file suffix, what the CLI calls it)
KINDS = {
    "sheet": (".png", "--sheet"), "sheet-svg": (".svg", "--sheet"),
    "sheet-pdf": (".pdf", "--sheet"), "poster": (".png", "--poster"),
    "poster-separations": (".png", "--poster"),  # and a grayscale master per ink beside it
    "video": (".webm", "--video"), "plot": (".svg", "--plot"), "font": (".ttf", "--out"),
}
POSTER = {"size": "a4", "dpi": 150.0}   # a poster the page can make in seconds
VIDEO = {"seconds": 4.0, "px": 256}


def build_font(preset, seeds: list[int], path: Path) -> Path:
    """The font `glyphart font --seeds ...` writes, wherever the render package keeps its
    builder (issue 25 moves it into `Render.font`): the one place that asks."""
    try:
        from ..render.font import build_font as build, character_map
    except ImportError:
        from ..render.api import Render
        from ..render.layouts.font import character_map
        return Render(preset, seeds).font(path, character_map(len(seeds), False))
    return build(preset, seeds, path, characters=character_map(len(seeds), False))


class Exports:
    """The export folder and the files this server wrote there (the only ones it serves)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).expanduser().resolve()
        self.written: dict[str, Path] = {}
        self._lock = threading.Lock()

    def name_for(self, preset: str, kind: str) -> Path:
        """A new file name made here, never from the request: PRESET-KIND-NNNN.EXT."""
        suffix = KINDS[kind][0]
        stem = f"{safe_file_name(preset)}-{kind}"
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            n = 1
            while (self.folder / f"{stem}-{n:04d}{suffix}").exists() or \
                    f"{stem}-{n:04d}{suffix}" in self.written:
                n += 1
            path = self.folder / f"{stem}-{n:04d}{suffix}"
            self.written[path.name] = path
        return self.confined(path.name)

    def confined(self, name: str) -> Path:
        """The path of a file this server wrote, resolved under the folder; else an error."""
        path = self.written.get(name)
        if path is None or path.resolve().parent != self.folder:
            raise GlyphartError("no such export")
        return path

    def export(self, preset: str, kind: str, seeds: list[int], choice: PaintChoice,
               interp: str = "slerp") -> dict:
        if kind not in KINDS:
            raise GlyphartError(f"kind: use one of {', '.join(KINDS)}")
        if not seeds:
            raise GlyphartError("seeds: pick at least one glyph")
        path = self.name_for(preset, kind)
        try:
            also = self._write(preset, kind, seeds, choice, interp, path)
        except BaseException:
            self.written.pop(path.name, None)
            path.unlink(missing_ok=True)
            raise
        return {"file": path.name, "url": f"/exports/{path.name}",
                "command": command(preset, kind, seeds, choice, interp, shown_path(path))} | \
            ({"separations": [self._keep(extra) for extra in also]} if also else {})

    def _keep(self, path: Path) -> str:
        """A file written beside an export (a master): served like it."""
        with self._lock:
            self.written[path.name] = path
        return path.name

    def _write(self, preset, kind, seeds, choice, interp, path: Path) -> list[Path]:
        """Write the export at `path`; returns any files written beside it."""
        from ..render.api import Render
        if kind == "font":
            from ..presets import load_preset
            build_font(load_preset(preset), seeds, path)
            return []
        job = Render.load(preset, seeds=compact_seeds(seeds), **choice.options())
        if kind.startswith("sheet"):
            job.sheet(path)
        elif kind.startswith("poster"):
            from ..render.separations import Separations
            separations = Separations() if kind == "poster-separations" else None
            return list(job.posters(str(path), quiet=True, separations=separations,
                                    **POSTER))[1:]
        elif kind == "video":
            job.video(path, interp=interp, quiet=True, seconds=VIDEO["seconds"],
                      px=VIDEO["px"])
        elif kind == "plot":
            job.plot(path)
        return []


def shown_path(path: Path) -> str:
    """The path as a command run here would name it: relative to the working folder if under it."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def command(preset: str, kind: str, seeds: list[int], choice: PaintChoice, interp: str,
            name: str) -> str:
    """The `glyphart` command that writes the same file."""
    words = ["glyphart"]
    if kind == "font":
        words += ["font", "--preset", preset, "--seeds", compact_seeds(seeds), "--out", name]
        return shlex.join(words)
    words += ["render", "--preset", preset, "--seeds", compact_seeds(seeds)]
    for key, value in vars(choice).items():
        if value:
            words += [f"--{key}", value]
    if kind.startswith("poster"):
        words += ["--size", POSTER["size"], "--dpi", f"{POSTER['dpi']:g}"]
    if kind == "poster-separations":
        words += ["--separations"]
    if kind == "video":
        words += ["--interp", interp, "--seconds", f"{VIDEO['seconds']:g}",
                  "--video-px", str(VIDEO["px"])]
    words += [KINDS[kind][1], name]
    return shlex.join(words)
