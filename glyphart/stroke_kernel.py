"""The stroke field as one compiled kernel (stroke_kernel.c): forward and closed-form backward.

The plain-torch rasteriser (strokes.py) streams every (segment, tile) pair through a dozen
tensor passes and recomputes the winners' fields through autograd; this kernel visits each
pixel a piece can reach once, keeps the best field and its winner in cache, joins strokes in
the same pass and writes the gradient of the winner in closed form: 10-30x less time (bench:
strokes). It is compiled with the system's C compiler on first use (about a second) and cached
under ~/.cache/glyphart; where no compiler is found, `available()` is False and strokes.py uses
the torch path, which computes the same field.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("stroke_kernel.c")
PAINT_SOURCE = Path(__file__).with_name("paint_kernel.c")  # built into the same library
# -march=native: the library is built on the machine that runs it (cached per CPU kind).
FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fPIC"]
_TYPES = {torch.float32: ("float", "_f32"), torch.float64: ("double", "_f64")}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "glyphart"


@lru_cache(maxsize=1)
def _library():
    """The compiled kernel (ctypes.CDLL), or None without a compiler (or with
    GLYPHART_NO_KERNEL set: the torch path everywhere)."""
    if os.environ.get("GLYPHART_NO_KERNEL"):
        return None
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        return None
    text = SOURCE.read_bytes() + PAINT_SOURCE.read_bytes()
    key = hashlib.sha256(text + " ".join(FLAGS).encode() + _cpu_key().encode()).hexdigest()[:16]
    lib = cache_dir() / f"stroke_kernel-{key}.so"
    try:
        if not lib.is_file() and not _compile(cc, lib):
            return None
    except OSError:  # a cache folder we cannot write: the torch path
        return None
    try:
        return _declare(ctypes.CDLL(str(lib)))
    except OSError:
        return None


def _compile(cc: str, lib: Path) -> bool:
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
        part = Path(tmp) / lib.name
        objects = []
        for real, suffix in _TYPES.values():
            obj = Path(tmp) / f"{suffix}.o"
            cmd = [cc, *FLAGS, "-c", f"-DREAL={real}", f"-DSUFFIX={suffix}",
                   "-o", str(obj), str(SOURCE)]
            if subprocess.run(cmd, capture_output=True).returncode:
                return False
            objects.append(str(obj))
        obj = Path(tmp) / "paint.o"
        if subprocess.run([cc, *FLAGS, "-ffp-contract=off", "-c", "-o", str(obj),
                           str(PAINT_SOURCE)], capture_output=True).returncode:
            return False
        objects.append(str(obj))
        if subprocess.run([cc, "-shared", "-o", str(part), *objects, "-lm"],
                          capture_output=True).returncode:
            return False
        os.replace(part, lib)  # atomic: a parallel process sees the whole library or none
    return True


def _cpu_key() -> str:
    return f"{sys.platform}-{torch.backends.cpu.get_cpu_capability()}-{os.uname().machine}"


def _declare(lib):
    i64, f64, ptr = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
    for _, suffix in _TYPES.values():
        getattr(lib, f"glyph_field{suffix}").argtypes = [ptr, ptr, i64, i64, i64, i64, i64, i64,
                                                         i64, i64, f64, f64, ptr, ptr, ptr]
        getattr(lib, f"glyph_grad{suffix}").argtypes = [ptr, ptr, i64, i64, i64, i64, i64, i64,
                                                        i64, i64, f64, ptr, ptr, ptr, ptr, ptr]
    lib.paint_rgb8.argtypes = [ptr, i64, i64, i64, i64, ptr, ptr, i64, ptr]
    return lib


def available() -> bool:
    return _library() is not None


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, torch.get_num_threads()), thread_name_prefix="strokes")


def _parallel(call, glyphs: int) -> None:
    """call(g0, g1) over the glyphs, split among torch's thread count (ctypes releases the GIL)."""
    threads = min(max(1, torch.get_num_threads()), glyphs)
    if threads == 1:
        call(0, glyphs)
        return
    bounds = [glyphs * i // threads for i in range(threads + 1)]
    for future in [_pool().submit(call, a, b) for a, b in zip(bounds[:-1], bounds[1:])]:
        future.result()


def _p(t: torch.Tensor) -> int | None:
    return t.data_ptr() if t is not None else None


class KernelField(torch.autograd.Function):
    """Polyline points (B, K, N1, 2) and radii (B, K, N1) -> the glyphs' field
    (B, layers, rows, size): each stroke's max over its pieces, its K / layers strokes per
    layer joined by the soft maximum `union`. The same field as strokes.py's torch path."""

    @staticmethod
    def forward(ctx, pts, rad, size, row0, row1, reach, union, layers):
        lib, (_, suffix) = _library(), _TYPES[pts.dtype]
        pts, rad = pts.detach().contiguous(), rad.detach().contiguous()
        b, k, n1 = rad.shape
        rows, per = row1 - row0, k // layers
        out = pts.new_empty(b, layers, rows, size)
        keep = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        win = torch.empty(b, k, rows, size, dtype=torch.int32) if keep else None
        kernel = getattr(lib, f"glyph_field{suffix}")

        def call(g0, g1):
            scratch = pts.new_empty(per, rows, size) if per > 1 else None
            kernel(pts.data_ptr(), rad.data_ptr(), g0, g1, k, n1, size, row0, rows, layers,
                   reach, union, out.data_ptr(), _p(win), _p(scratch))

        _parallel(call, b)
        if keep:
            ctx.save_for_backward(pts, rad, win, out)
            ctx.shape = (size, row0, rows, layers, union)
        return out

    @staticmethod
    def backward(ctx, grad):
        pts, rad, win, out = ctx.saved_tensors
        size, row0, rows, layers, union = ctx.shape
        grad = grad.to(out.dtype).contiguous()
        b, k, n1 = rad.shape
        gpts = torch.zeros(pts.shape, dtype=torch.float64)
        grad_rad = torch.zeros(rad.shape, dtype=torch.float64)
        kernel = getattr(_library(), f"glyph_grad{_TYPES[pts.dtype][1]}")

        def call(g0, g1):
            kernel(pts.data_ptr(), rad.data_ptr(), g0, g1, k, n1, size, row0, rows, layers,
                   union, win.data_ptr(), out.data_ptr(), grad.data_ptr(), gpts.data_ptr(),
                   grad_rad.data_ptr())

        _parallel(call, b)
        return gpts.to(pts.dtype), grad_rad.to(rad.dtype), None, None, None, None, None, None


def kernel_field(pts, rad, size, row0, row1, reach, union, layers) -> torch.Tensor:
    return KernelField.apply(pts, rad, size, row0, row1, reach, union, layers)


def paint_rgb8(coverage: torch.Tensor, paper: torch.Tensor, inks: torch.Tensor, over: bool
               ) -> torch.Tensor:
    """(B, K, H, W) float32 coverage on paper (3,) in inks (K, 3) (multiply: transmittances)
    -> (B, H, W, 3) uint8, byte for byte what inks.composite and Paint.to_rgb8 give."""
    coverage = coverage.detach().contiguous()
    b, k, h, w = coverage.shape
    paper, inks = paper.contiguous(), inks.contiguous()
    out = torch.empty(b, h, w, 3, dtype=torch.uint8)
    lib = _library()
    _parallel(lambda g0, g1: lib.paint_rgb8(coverage.data_ptr(), g0, g1, k, h * w,
                                            paper.data_ptr(), inks.data_ptr(), int(over),
                                            out.data_ptr()), b)
    return out
