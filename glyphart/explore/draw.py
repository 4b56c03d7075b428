"""Glyph pixels for the page: tiles, walk frames and the channel's view, drawn by one worker.

One worker thread per process with a fixed thread count: requests never run side by side and
fight for cores, so each finishes as fast as the machine allows and the newest wins (the app
drops requests a client has replaced). Tile PNGs are cached by (preset, seed, size, paint);
the drawn coverage of tiles and views by (preset, walk, size), so a new paint only repaints.

Live drawing is one glyph at a time, which the stroke kernel draws on one thread: the worker
keeps torch at one thread (torch's parallel loops cost 2-4x on a busy machine, where a thread
waits for a descheduled one) and draws a large glyph in row bands, one per thread, which need
no barrier. Exports and the channel's view are batches: they get `threads` torch threads.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from ..errors import GlyphartError
from ..latent import INTERPOLATIONS, message, messages
from . import wire
from .view import PaintChoice

BAND_PX = 512                # from this size a glyph is drawn in row bands (below, one is faster)
TILE_CACHE = 4096            # tiles kept: 128 px PNGs of a few kB each
VIEW_CACHE = 96 << 20        # bytes of coverage kept: 96 views of 1024 px or 6000 tiles (one ink)
CANDIDATES = 1024            # identification among this many messages, as DESIGN.md measures


class Studio:
    """The presets the page has opened, their paints, a tile cache and the worker."""

    def __init__(self, threads: int = 2, device: str = "cpu"):
        self.threads, self.device = threads, device  # where live glyphs are drawn
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glyphart-draw",
                                         initializer=torch.set_num_threads, initargs=(1,))
        self.bands = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="glyphart-band")
        self._presets: dict[str, object] = {}
        self._lock = threading.Lock()
        self.tiles: OrderedDict[tuple, bytes] = OrderedDict()
        self.hits = self.misses = 0
        self.views = Kept(VIEW_CACHE)

    async def run(self, fn, *args):
        """fn(*args) on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    async def run_batch(self, fn, *args):
        """fn(*args) on the worker thread with `threads` torch threads (exports, batches)."""
        return await self.run(self._batch, fn, *args)

    def _batch(self, fn, *args):
        torch.set_num_threads(self.threads)
        try:
            return fn(*args)
        finally:
            torch.set_num_threads(1)

    def close(self) -> None:
        self.worker.shutdown(wait=False, cancel_futures=True)
        self.bands.shutdown(wait=False, cancel_futures=True)

    # -- presets and paint ------------------------------------------------------------------

    def preset(self, name: str):
        with self._lock:
            if name not in self._presets:
                from ..presets import available, load_preset
                if name not in {p.name for p in available() if not p.shadowed}:
                    raise GlyphartError(f"preset: unknown {name!r}; pick one from the list")
                self._presets[name] = load_preset(name, device=self.device)
            return self._presets[name]

    def forget(self, name: str) -> None:
        """Drop what was loaded and drawn of a preset whose weights changed (a training ended):
        the next request loads it afresh. On the worker, which alone touches the caches."""
        with self._lock:
            self._presets.pop(name, None)
        for key in [k for k in self.tiles if k[0] == name]:
            del self.tiles[key]
        for key in [k for k in self.views.items if k[0] == name]:
            self.views.drop(key)

    def paint(self, preset, choice: PaintChoice):
        return preset.paint(choice.palette, choice.inks, choice.paper, choice.blend)

    # -- drawing ----------------------------------------------------------------------------

    def coverage(self, preset, z: torch.Tensor, size: int) -> torch.Tensor:
        """(B, N) -> (B, layers, size, size): strokes drawn exactly at `size`, raster glyphs
        drawn at their native size and enlarged as logits (crisp edges, like style "ink")."""
        from ..render.glyphs import draws_any_size
        gen, native = preset.generator, preset.spec.model.size
        z = z.to(self.device)
        with torch.no_grad():
            if draws_any_size(gen):
                logits = self.stroke_logits(gen, z, None if size == native else size)
            else:
                logits = gen.logits(z)
                if size != native:
                    logits = torch.nn.functional.interpolate(
                        logits, size=(size, size), mode="bicubic", align_corners=False)
            return torch.sigmoid(logits.float()).cpu()

    def stroke_logits(self, gen, z: torch.Tensor, size: int | None) -> torch.Tensor:
        """gen.logits(z, size), one glyph of BAND_PX or more in row bands on the band threads:
        every pixel's field is computed alone, so the bands join into the same bytes."""
        if len(z) != 1 or size is None or size < BAND_PX or self.threads < 2:
            return gen.logits(z, size)
        cuts = [size * i // self.threads for i in range(self.threads + 1)]

        def band(rows):
            with torch.no_grad():  # grad mode is per thread
                return gen.logits(z, size, rows)
        return torch.cat(list(self.bands.map(band, zip(cuts[:-1], cuts[1:]))), 2)

    def ink_table(self, preset, choice: PaintChoice) -> np.ndarray:
        """(256, 3) uint8: a one-ink glyph's colour at each coverage level."""
        levels = torch.linspace(0, 1, 256)[:, None, None, None]
        return self.paint(preset, choice).to_rgb8(levels)[:, 0, 0]

    def rgb(self, preset, z, size, choice: PaintChoice):
        """(B, size, size, 3) uint8: the full render. One ink: the colour table indexed by the
        coverage quantised to 8 bits, 3-4x faster than compositing in float at 1024 px; the
        page's large view paints the same table[levels] itself (wire.py): the same bytes."""
        coverage = self.coverage(preset, z, size)
        if coverage.shape[1] != 1:
            return self.paint(preset, choice).to_rgb8(coverage)
        return self.ink_table(preset, choice)[quantised(coverage)]

    def drawn(self, name: str, keys: tuple[int, ...], t: float, interp: str, size: int):
        """A view's coverage, kept by (preset, walk, size) and painted on demand, so the same
        glyphs in another paint skip drawing: (size, size) uint8 levels for one ink, else
        (1, K, size, size) float coverage. One key is that glyph (t and interp unused)."""
        key = (name, keys, t, interp, size) if len(keys) > 1 else (name, keys, 0.0, "", size)
        found = self.views.get(key)
        if found is not None:
            return found
        self.misses += 1
        preset = self.preset(name)
        z = path_point(messages(preset, list(keys)), t, interp) if len(keys) > 1 else \
            message(preset.spec.model.message_size, keys[0])
        coverage = self.coverage(preset, z[None], size)
        found = quantised(coverage)[0] if coverage.shape[1] == 1 else coverage
        self.views.put(key, found)
        return found

    def painted(self, name: str, drawn, choice: PaintChoice) -> np.ndarray:
        """What `drawn` gives -> (size, size, 3) uint8, as `rgb` paints it."""
        preset = self.preset(name)
        if isinstance(drawn, np.ndarray):
            return self.ink_table(preset, choice)[drawn]
        return self.paint(preset, choice).to_rgb8(drawn)[0]

    def raw_frame(self, request_id: int, name: str, keys: tuple[int, ...], t: float,
                  interp: str, size: int, choice: PaintChoice, deflate: bool = False) -> bytes:
        """A walk frame for the websocket (wire.py): no PNG encoding (30-40 ms at 1024 px
        here); `deflate`: the page inflates the coverage."""
        drawn = self.drawn(name, keys, t, interp, size)
        if isinstance(drawn, np.ndarray):
            return wire.pack_table(request_id, self.ink_table(self.preset(name), choice), drawn,
                                   deflate)
        return wire.pack_rgb(request_id, self.painted(name, drawn, choice))

    def tile(self, name: str, seed: int, size: int, choice: PaintChoice) -> bytes:
        """A grid tile's PNG, kept by (preset, seed, size, paint)."""
        key = (name, seed, size, choice)
        if key in self.tiles:
            self.hits += 1
            self.tiles.move_to_end(key)
            return self.tiles[key]
        data = png(self.painted(name, self.drawn(name, (seed,), 0.0, "", size), choice))
        self.tiles[key] = data
        while len(self.tiles) > TILE_CACHE:
            self.tiles.popitem(last=False)
        return data

    def frame(self, name: str, keys: tuple[int, ...], t: float, interp: str, size: int,
              choice: PaintChoice) -> bytes:
        """The walk through `keys` at phase t (0-1, a closed loop as videos take it) as a PNG;
        one key, or t = 0: that glyph (through the tile cache)."""
        if len(keys) == 1 or t == 0:
            return self.tile(name, keys[0], size, choice)
        return png(self.painted(name, self.drawn(name, keys, t, interp, size), choice))

    def channel_view(self, name: str, seed: int, trials: int, size: int,
                     choice: PaintChoice) -> dict:
        """The glyph through the preset's own noisy channel `trials` times: what the decoder
        sees, and where the sent glyph ranks among CANDIDATES messages (seed and the
        CANDIDATES - 1 seeds after it) by the decoder's reading."""
        from ..sets import SetLayout, similarity
        preset = self.preset(name)
        torch.manual_seed(seed)  # the same noise for the same view
        z = messages(preset, [seed] * trials).to(self.device)
        candidates = messages(preset, range(seed, seed + CANDIDATES))
        with torch.no_grad():
            seen = preset.channel(preset.picture(z))
            read = preset.decoder(seen)
            seen, read = seen.cpu(), read.cpu()
            sim = similarity(read, candidates, SetLayout.of(preset.spec.model))
        ranks = (sim > sim[:, :1]).sum(1).tolist()  # 0: the sent glyph is the nearest
        images = seen.clamp(0, 1)
        if images.shape[1] != 3:
            images = self.paint(preset, choice).composite(images).clamp(0, 1)
        images = torch.nn.functional.interpolate(images, size=(size, size), mode="nearest")
        rgb = (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return {"candidates": CANDIDATES, "ranks": ranks,
                "identified": sum(r == 0 for r in ranks), "trials": trials,
                "images": [png(a) for a in rgb]}


class Kept:
    """A least-recently-used cache bounded by the bytes of what it keeps (arrays, tensors)."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self.items: OrderedDict[tuple, object] = OrderedDict()

    def get(self, key):
        if key in self.items:
            self.items.move_to_end(key)
        return self.items.get(key)

    def drop(self, key) -> None:
        self.used -= _bytes(self.items.pop(key, None))

    def put(self, key, value) -> None:
        self.used += _bytes(value) - _bytes(self.items.pop(key, None))
        self.items[key] = value
        while self.used > self.budget and len(self.items) > 1:
            self.used -= _bytes(self.items.popitem(last=False)[1])


def _bytes(value) -> int:
    if value is None:
        return 0
    return value.nbytes if isinstance(value, np.ndarray) else value.numel() * value.element_size()


def quantised(coverage: torch.Tensor) -> np.ndarray:
    """(B, 1, H, W) coverage in [0, 1] -> (B, H, W) uint8 levels."""
    return (coverage[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def path_point(keys: torch.Tensor, t: float, interp: str) -> torch.Tensor:
    """A point of the loop through keys; two keys walk there and back (a loop)."""
    return INTERPOLATIONS[interp](keys, t % 1.0)


def png(rgb) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)  # speed over bytes
    return buffer.getvalue()
