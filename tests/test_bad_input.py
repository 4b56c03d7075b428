"""Every bad input is one line on stderr and exit code 2: no traceback, no silent nonsense, no
file written."""

from __future__ import annotations

import re
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
    from glyphart.train import checkpoint_path
    from glyphart.train.checkpoint import save_checkpoint as _save_checkpoint
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


# -- round two: each number, colour and list read by one parser (glyphart/parse.py) -------------


def _cli(*args: str):
    """The command line in process: its exit code, stdout and stderr, as a user sees them."""
    from click.testing import CliRunner
    from glyphart.cli import main
    return CliRunner().invoke(main, [str(a) for a in args])


def _refused(result, *needles: str) -> None:
    """Exit code 2 and one error line (glyphart's, or click's usage form) naming the needles."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if not result.stderr.startswith("Usage:"):
        assert len(lines) == 1, result.stderr
    (error,) = [line for line in lines if line.startswith(("error:", "Error:"))]
    for needle in needles:
        assert needle in error, (needle, error)


@pytest.mark.parametrize("args, needles", [
    (["--seeds", "1" * 5000, "--sheet", "{tmp}/s.png"], ("bad seed list", "too large")),
    (["--seeds", "0-3,", "--sheet", "{tmp}/s.png"], ("entry 2 of 2 is empty",)),
    (["--poster", "{tmp}/p.png", "--size", "1" * 400 + "x10in"], ("bad size", "too long")),
    (["--poster", "{tmp}/p.png", "--size", "1.2.3x10in"], ("bad size", "not a finite number")),
    (["--sheet", "{tmp}/s.png", "--fg", "#-1-1-1"], ("bad colour '#-1-1-1'",)),
    (["--sheet", "{tmp}/s.png", "--bg", "#-1-1-1"], ("bad colour '#-1-1-1'",)),
    (["--video", "{tmp}/v.webm", "--fg", "#-1-1-1"], ("bad colour '#-1-1-1'",)),
    (["--video", "{tmp}/v.webm", "--bg", "#-1-1-1"], ("bad colour '#-1-1-1'",)),
    (["--sheet", "{tmp}/s.png", "--grid", "1_0x2"], ("bad grid", "not an integer")),
    (["--sheet", "{tmp}/s.png", "--glyph-px", "9" * 5000], ("--glyph-px", "too large")),
    (["--poster", "{tmp}/p.png", "--dpi", "1" * 400], ("--dpi", "too long")),
    (["--poster", "{tmp}/{page}.png", "--per-page", "1" * 400], ("--per-page", "too large")),
])
def test_numbers_colours_and_lists_are_read_strictly(trained_tiny, tmp_path, args, needles):
    before = _files(tmp_path)
    _refused(_cli("render", "--preset", trained_tiny,
                  *[a.replace("{tmp}", str(tmp_path)) for a in args]), *needles)
    assert _files(tmp_path) == before, "a file was written"


def test_an_empty_ink_is_named(tmp_path):
    _refused(_cli("render", "--preset", "color", "--inks", "#ff0000,#00ff00,#0000ff,",
                  "--sheet", tmp_path / "s.png"), "inks", "entry 4 of 4 is empty")
    assert not any(tmp_path.iterdir())


def test_the_grid_error_counts_message_glyphs(trained_tiny, tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((20, 16), np.float32))
    _refused(_cli("render", "--preset", trained_tiny, "--message", tmp_path / "m.npy",
                  "--sheet", tmp_path / "x.png", "--grid", "2x2"),
             "holds 4 glyphs but 20 were given", "20 messages")


@pytest.mark.parametrize("text, needle", [
    ("1" * 5000, "too large"), ("-3", "too small"), ("1.5", "not an integer"),
    ("\u0663", "not an integer"), ("1_000", "not an integer"), ("", "not an integer"),
])
def test_the_bounded_integer_parser(text, needle):
    from glyphart.errors import GlyphartError
    from glyphart.parse import integer
    with pytest.raises(GlyphartError, match=needle) as refused:
        integer(text, 0, 100, "--thing")
    assert len(str(refused.value)) < 160  # a 5,000-digit number is not echoed whole
    assert integer(" 42 ", 0, 100) == 42


@pytest.mark.parametrize("text, needle", [
    ("1" * 400, "too long"), ("nan", "not a finite number"), ("inf", "not a finite number"),
    ("1e999", "not a finite number"), ("0", "too small"), ("2e3", "too large"),
    ("0x10", "not a finite number"),
])
def test_the_bounded_number_parser(text, needle):
    from glyphart.errors import GlyphartError
    from glyphart.parse import number
    with pytest.raises(GlyphartError, match=needle):
        number(text, 0, 1000, lo_open=True)
    assert number("1.5e2", 0, 1000, lo_open=True) == 150.0


@pytest.mark.parametrize("text", ["#-1-1-1", "#ff00", "##ff0000", "#ff00001", "#gg0000", ""])
def test_the_colour_parser(text):
    from glyphart.errors import GlyphartError
    from glyphart.parse import color
    with pytest.raises(GlyphartError, match="bad colour"):
        color(text)
    assert color("#fc0") == (255, 204, 0) and color("ff0000") == (255, 0, 0)


def _commands(group=None, prefix=""):
    from glyphart.cli import main
    for name, command in (group or main).commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_numeric_option_is_read_by_the_bounded_parser():
    import click
    from glyphart.cli import Int, Number
    for name, command in _commands():
        for param in command.params:
            if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType)):
                assert isinstance(param.type, (Int, Number)), (name, param.name)


def test_every_command_reports_errors_and_long_ones_take_quiet():
    quick = {"presets", "palettes", "preset new", "preset show"}
    for name, command in _commands():
        assert hasattr(command.callback, "__wrapped__"), f"{name} is not under reports_errors"
        options = {opt for param in command.params for opt in param.opts}
        assert name in quick or "-q" in options, f"{name} takes no -q"


def test_font_takes_quiet(tmp_path):
    result = _cli("font", "--preset", "brush", "--seeds", "0-1", "--out", tmp_path / "f.ttf",
                  "-q")
    assert result.exit_code == 0, result.output
    assert result.output == "" and (tmp_path / "f.ttf").is_file()


# -- preset values -------------------------------------------------------------------------------


def test_every_numeric_preset_value_has_bounds():
    import dataclasses
    from glyphart import spec
    for cls in (spec.ModelSpec, spec.TrainSpec, spec.RenderSpec, spec.NoiseSpec,
                spec.MultiplicativeSpec, spec.AffineSpec, spec.PerspectiveSpec, spec.CropSpec,
                spec.BlurSpec, spec.WarpSpec, spec.ColorJitterSpec):
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if isinstance(default, (int, float, list)) and not isinstance(default, bool):
                m = f.metadata
                assert m["choices"] or (m["lo"] is not None and m["hi"] is not None), f.name


@pytest.mark.parametrize("old, new, needle", [
    ("[model]", "[model]\ninks = 0", "between 2 and 4 (leave it out for a gray preset)"),
    ("batch = 32", "batch = " + "1" * 5000, "over 4300 digits"),
    ("batch = 32", "batch = " + "1" * 400, "(400 characters)"),
    ("[render]", "[render]\npaper = \"#-1-1-1\"", "bad [render] colour '#-1-1-1'"),
    ("[render]", "[render]\ninks = \"#ffffff,\"", "entry 2 of 2 is empty"),
])
def test_bad_values_in_a_preset_are_refused_on_load(tmp_path, old, new, needle):
    from glyphart.errors import GlyphartError
    from glyphart.spec import load_spec
    with pytest.raises(GlyphartError, match=re.escape(needle)) as refused:
        load_spec(write_tiny(tmp_path, TINY.replace(old, new, 1)))
    assert len(str(refused.value)) < 300


def test_a_gray_preset_is_written_without_inks_and_loads_back(tmp_path):
    from glyphart.spec import dump_spec, load_spec
    spec = load_spec(write_tiny(tmp_path))
    text = dump_spec(spec)
    assert "inks" not in text.split("[train]")[0]
    again = tmp_path / "again.toml"
    again.write_text(text)
    assert load_spec(again).model == spec.model


# -- font map files and the Private Use Area ----------------------------------------------------


@pytest.mark.parametrize("line, needle", [
    ("\0 2", "line 2: U+0000 is a control character"),
    ("\x07 2", "line 2: U+0007 is a control character"),
    ("B " + "9" * 400, "line 2: seed"),
    ("B \u0663", "line 2: seed"),
])
def test_bad_font_map_lines_are_refused_with_their_number(tmp_path, line, needle):
    from glyphart.errors import GlyphartError
    from glyphart.render.layouts.font import read_character_map
    mapping = tmp_path / "map.txt"
    mapping.write_text(f"A 1\n{line}\n", encoding="utf-8")
    with pytest.raises(GlyphartError, match=re.escape(needle)) as refused:
        read_character_map(mapping)
    assert len(str(refused.value)) < 300


def test_a_surrogate_is_not_a_character_to_type():
    from glyphart.render.layouts.font import untypable
    assert "surrogate" in untypable("\ud800") and untypable("ß") == untypable("\ue000") == ""


def test_more_glyphs_than_the_private_use_area_holds_are_refused_at_once(tmp_path):
    # An unknown preset: the count is refused before the preset is even looked for.
    _refused(_cli("font", "--preset", "no-such-preset", "--pua", "--seeds", "0-70000",
                  "--out", tmp_path / "f.ttf"), "70001 glyphs", "6400")
    from glyphart.render.layouts.font import character_map
    assert character_map(6400, private_use=True)[-1] == "\uf8ff"


# -- training ------------------------------------------------------------------------------------


def test_a_budget_too_small_for_a_step_still_takes_one(tmp_path):
    import math
    from glyphart.spec import load_spec
    from glyphart.train import train
    path = write_tiny(tmp_path)
    record = train(load_spec(path), path, minutes=1e-9, quiet=True, evaluate_after=False)
    assert record["steps"] == 1 and math.isfinite(record["loss_final"])


def test_an_integer_too_long_to_print_is_described():
    from glyphart.parse import shown
    assert shown(10 ** 5000) == "an integer of over 4300 digits"
    assert shown(5) == "5" and shown("x" * 40) == "'xxxxxxxxxxxx'... (40 characters)"
