"""The command line: fast start, preset listing and copying, eval output."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import assert_one_line_error, run_cli, write_tiny


def test_help_and_version_do_not_import_torch():
    code = ("import sys; from click.testing import CliRunner; from glyphart.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
            "r = CliRunner().invoke(main, ['--version']); assert 'glyphart' in r.output; "
            "r = CliRunner().invoke(main, ['render', '--help']); assert '--poster' in r.output; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_presets_lists_builtins_and_user_presets(tmp_path, monkeypatch):
    monkeypatch.setenv("GLYPHART_PRESETS", str(tmp_path))
    write_tiny(tmp_path, name="mine")
    proc = run_cli("presets", check_ok=True)
    for name in ("seed", "gray", "color", "hd-gray", "hd-color", "mine"):
        assert f"\n{name} " in "\n" + proc.stdout, proc.stdout
    mine = next(line for line in proc.stdout.splitlines() if line.startswith("mine "))
    assert "user" in mine and "16px" in mine and " no " in mine


def test_preset_new_copies_toml_and_optionally_weights(tmp_path, monkeypatch, trained_tiny):
    monkeypatch.setenv("GLYPHART_PRESETS", str(tmp_path / "user"))
    proc = run_cli("preset", "new", "my-gray", "--from", "hd-color", check_ok=True)
    copied = tmp_path / "user" / "my-gray.toml"
    assert copied.is_file() and str(copied) in proc.stdout
    assert 'name = "my-gray"' in copied.read_text()
    shown = run_cli("preset", "show", "my-gray", check_ok=True)
    assert "inks = 3" in shown.stdout and "untrained" in shown.stdout
    assert_one_line_error(run_cli("preset", "new", "my-gray", "--from", "hd-color"),
                          "already exists", "--force")
    # With weights, to a path: the copy renders straight away.
    target = tmp_path / "elsewhere" / "copy.toml"
    run_cli("preset", "new", str(target), "--from", str(trained_tiny), "--with-weights",
            check_ok=True)
    assert target.with_suffix(".safetensors").is_file()
    run_cli("render", "--preset", str(target), "--sheet", str(tmp_path / "s.png"), check_ok=True)


def test_train_builtin_writes_to_user_folder(tmp_path, monkeypatch):
    """Retraining a built-in never overwrites the shipped weights."""
    from glyphart.presets import find
    monkeypatch.setenv("GLYPHART_PRESETS", str(tmp_path))
    shipped = find("seed").toml
    before = shipped.with_suffix(".safetensors").stat().st_mtime_ns \
        if shipped.with_suffix(".safetensors").exists() else None
    proc = run_cli("train", "seed", "--steps", "3", "-q")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "seed.safetensors").is_file() and (tmp_path / "seed.json").is_file()
    after = shipped.with_suffix(".safetensors").stat().st_mtime_ns \
        if shipped.with_suffix(".safetensors").exists() else None
    assert before == after
    assert find("seed").origin == "user"  # the user's retrain now shadows the built-in


def test_eval_json(trained_tiny):
    proc = run_cli("eval", str(trained_tiny), "--json", "--messages", "1024", check_ok=True)
    result = json.loads(proc.stdout)
    assert result["preset"] == "tiny"
    for key in ("bits_per_glyph", "bits_per_glyph_reference", "identification_accuracy",
                "high_frequency_fraction"):
        assert isinstance(result[key], float)
    assert 0 <= result["identification_accuracy"] <= 1
    assert 0 <= result["high_frequency_fraction"] <= 1


def test_usage_errors_exit_2():
    proc = run_cli("render")
    assert proc.returncode == 2 and "--preset" in proc.stderr
    proc = run_cli("render", "--preset", "gray", "--dpi", "-5")
    assert proc.returncode == 2


def test_every_option_has_help_text():
    import click
    from glyphart.cli import main

    def options(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from options(sub, path + [name])
        else:
            for param in command.params:
                if isinstance(param, click.Option) and param.name != "help":
                    yield " ".join(path), param.opts[-1], param.help

    missing = [f"{cmd} {opt}" for cmd, opt, text in options(main, []) if not text]
    assert not missing, missing
