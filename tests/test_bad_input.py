"""Every bad input is one line on stderr and exit code 2: no traceback, no silent nonsense, no
file written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY, assert_usage_or_one_line_error, run_cli, write_tiny


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _check(proc, folder: Path, before: set[str], *needles: str) -> None:
    assert_usage_or_one_line_error(proc, *needles)
    assert _files(folder) == before, "a file was written"


# -- numbers in a preset TOML ------------------------------------------------------------------


@pytest.mark.parametrize("old, new, needle", [
    ("lr = 0.003", "lr = nan", "lr"),
    ("lr = 0.003", "lr = inf", "lr"),
    ("checkpoint_minutes = 0.01", "checkpoint_minutes = -inf", "checkpoint_minutes"),
    ("std = 0.25", "std = nan", "std"),
    ("[model]", "[model]\nkernel = 4", "kernel 4 is even"),
    ("[model]", "[model]\ngenerator = \"convtranspose\"\nkernel = 4", "kernel 4 is even"),
])
def test_bad_numbers_in_a_preset(tmp_path, old, new, needle):
    assert old in TINY
    toml = write_tiny(tmp_path, TINY.replace(old, new, 1))
    before = _files(tmp_path)
    _check(run_cli("train", str(toml), "--steps", "1"), tmp_path, before, needle)


# -- command-line options ----------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--poster", "{tmp}/p.png", "--dpi", "nan"], "--dpi"),
    (["--poster", "{tmp}/p.png", "--margin", "nan"], "--margin"),
    (["--poster", "{tmp}/p.png", "--margin", "inf"], "--margin"),
    (["--video", "{tmp}/v.webm", "--seconds", "nan"], "--seconds"),
    (["--video", "{tmp}/v.webm", "--seconds", "inf"], "--seconds"),
    (["--video", "{tmp}/v.webm", "--seconds", "1e7"], "too long"),
    (["--video", "{tmp}/v.webm", "--video-px", "4096", "--video-grid", "4x4"], "at most 8192"),
    (["--seeds", "99999999999999999999", "--sheet", "{tmp}/s.png"], "too large"),
    (["--poster", "{tmp}/{seed:.0s}.png"], "bad poster name"),
    (["--poster", "{tmp}/{preset:d}.png"], "bad poster name"),
    (["--poster", "{tmp}/{seed"], "bad poster name"),
    (["--sheet", "{tmp}/s.jpg"], "PNG"),
    (["--poster", "{tmp}/p.tiff"], "PNG"),
    (["--sheet", "{tmp}/s.png", "--crf", "20"], "--crf applies to --video"),
    (["--video", "{tmp}/v.webm", "--dpi", "600"], "--dpi applies to --poster"),
    (["--poster", "{tmp}/p.png", "--labels"], "--labels applies to --sheet"),
    (["--poster", "{tmp}/p.png", "--force"], "--force applies to batch posters"),
    (["--margin", "0.5"], "--margin applies to --poster"),
])
def test_bad_render_options(trained_tiny, tmp_path, args, needle):
    before = _files(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    _check(run_cli("render", "--preset", str(trained_tiny), *args, cwd=tmp_path), tmp_path,
           before, needle)


def test_a_colour_preset_wants_an_ink_per_layer(tmp_path):
    before = _files(tmp_path)
    _check(run_cli("render", "--preset", "color", "--inks", "#ff0000", "--sheet",
                   str(tmp_path / "s.png")), tmp_path, before, "--inks gives 1 colour(s)",
           "draws 3 layer(s)")


# -- message files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name, make, needle", [
    ("nan.npy", lambda: np.full(16, np.nan, np.float32), "NaN"),
    ("inf.npy", lambda: np.full(16, np.inf, np.float32), "infinite"),
    ("huge.npy", lambda: np.full(16, 1e30), "huge"),
    ("complex.npy", lambda: np.ones(16, np.complex64), "complex64"),
    ("bool.npy", lambda: np.ones(16, bool), "bool"),
    ("short.npy", lambda: np.ones(5, np.float32), "needs messages of 16"),
    ("empty.npy", lambda: np.ones((0, 16), np.float32), "shape"),
    ("many.npz", None, ".npy"),
])
def test_bad_message_files(trained_tiny, tmp_path, name, make, needle):
    path = tmp_path / name
    if make is None:
        np.savez(path, a=np.zeros(16))
    else:
        np.save(path, make())
    before = _files(tmp_path)
    _check(run_cli("render", "--preset", str(trained_tiny), "--message", str(path), "--sheet",
                   str(tmp_path / "s.png")), tmp_path, before, needle)


def test_labels_with_message_glyphs(trained_tiny, tmp_path):
    np.save(tmp_path / "m.npy", np.zeros(16, np.float32))
    before = _files(tmp_path)
    _check(run_cli("render", "--preset", str(trained_tiny), "--message", str(tmp_path / "m.npy"),
                   "--labels", "--sheet", str(tmp_path / "s.png")), tmp_path, before, "--labels")


# -- weights and checkpoints -------------------------------------------------------------------


def _tampered_copy(trained_tiny: Path, folder: Path, change) -> Path:
    from safetensors.torch import load_file, safe_open, save_file
    toml = folder / "bad.toml"
    shutil.copy(trained_tiny, toml)
    with safe_open(str(trained_tiny.with_suffix(".safetensors")), framework="pt") as f:
        metadata = f.metadata()
    tensors = load_file(str(trained_tiny.with_suffix(".safetensors")))
    change(tensors)
    save_file(tensors, str(toml.with_suffix(".safetensors")), metadata=metadata)
    return toml


def _first_float(tensors):
    return next(k for k, v in tensors.items() if v.is_floating_point() and v.numel() > 1)


@pytest.mark.parametrize("change, needle", [
    (lambda t: t[_first_float(t)].view(-1).__setitem__(0, float("nan")), "NaN"),
    (lambda t: t[_first_float(t)].view(-1).__setitem__(0, float("inf")), "infinite"),
    (lambda t: t.__setitem__(_first_float(t), t[_first_float(t)].to(int)), "int64"),
    (lambda t: t.__setitem__(_first_float(t), t[_first_float(t)] > 0), "bool"),
    (lambda t: t.pop(_first_float(t)), "do not fit"),
])
def test_bad_weights_are_refused_on_load(trained_tiny, tmp_path, change, needle):
    toml = _tampered_copy(trained_tiny, tmp_path, change)
    before = _files(tmp_path)
    _check(run_cli("render", "--preset", str(toml), "--sheet", str(tmp_path / "s.png")),
           tmp_path, before, needle)


@pytest.mark.parametrize("damage", ["missing tensor", "bad step"])
def test_a_damaged_checkpoint_is_refused(tmp_path, damage):
    import torch
    from safetensors.torch import load_file, safe_open, save_file
    from glyphart.models import build_models
    from glyphart.spec import load_spec
    from glyphart.train import _save_checkpoint, checkpoint_path
    toml = write_tiny(tmp_path)
    spec = load_spec(toml)
    gen, dec = build_models(spec.model)
    opt = torch.optim.Adam(list(gen.parameters()) + list(dec.parameters()))
    ckpt = checkpoint_path(toml)
    _save_checkpoint(ckpt, spec, gen, dec, opt, 5, 1.0, 1.0, 0.5)
    with safe_open(str(ckpt), framework="pt") as f:
        metadata = f.metadata()
    tensors = load_file(str(ckpt))
    if damage == "missing tensor":
        tensors.pop(next(k for k in tensors if k.startswith("generator.")))
    else:
        metadata["step"] = "five"
    save_file(tensors, str(ckpt), metadata=metadata)
    before = _files(tmp_path)
    _check(run_cli("train", str(toml), "--resume", "--steps", "10"), tmp_path, before,
           "checkpoint", "damaged")


# -- images given to invert --------------------------------------------------------------------


@pytest.mark.parametrize("side, needle", [(20000, "decompression bomb"), (8000, "megapixels")])
def test_huge_images_given_to_invert_are_refused(trained_tiny, tmp_path, side, needle):
    from PIL import Image
    image = tmp_path / "big.png"
    Image.new("L", (side, side)).save(image)
    before = _files(tmp_path)
    _check(run_cli("invert", str(image), "--preset", str(trained_tiny), "--out",
                   str(tmp_path / "m.npy")), tmp_path, before, needle)


def test_a_click_usage_error_keeps_clicks_form():
    proc = run_cli("render", "--preset", "gray", "--speed", "99")
    assert proc.returncode == 2 and "Usage:" in proc.stderr and "Traceback" not in proc.stderr
