"""The wheel a user installs holds every subpackage and every built-in preset file, and
building it writes nothing into the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "glyphart"


def _checkout_litter() -> set[str]:
    return {p.name for p in REPO.iterdir() if p.name == "build" or p.name.endswith(".egg-info")}


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory) -> Path:
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("tests run outside a glyphart checkout")
    before = _checkout_litter()
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _checkout_litter() == before, "building the wheel left build/ or *.egg-info behind"
    (wheel,) = out.glob("glyphart-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel_names(wheel_path) -> set[str]:
    with zipfile.ZipFile(wheel_path) as zf:
        return set(zf.namelist())


def test_the_wheel_holds_every_subpackage(wheel_names):
    packages = [p.relative_to(REPO).as_posix() for p in PACKAGE.rglob("__init__.py")
                if "__pycache__" not in p.parts]
    assert "glyphart/study/__init__.py" in packages
    missing = [p for p in packages if p not in wheel_names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_wheel_holds_every_builtin_preset_file(wheel_names):
    """presets/ at the top of the checkout goes into the wheel as glyphart/builtin_presets."""
    folder = REPO / "presets"
    files = [f"glyphart/builtin_presets/{p.name}" for p in folder.iterdir()
             if p.suffix in (".toml", ".safetensors", ".json")]
    assert len(files) >= 18
    missing = [f for f in files if f not in wheel_names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_presets_are_found_where_the_install_keeps_them():
    """An editable install reads the presets where the checkout keeps them (presets/ at the
    top); a wheel install (CI's test command) reads the copy the wheel carries."""
    import glyphart
    from glyphart.presets import available, builtin_dir
    installed = Path(glyphart.__file__).resolve().parent
    expected = REPO / "presets" if installed == PACKAGE else installed / "builtin_presets"
    assert builtin_dir() == expected
    assert {p.name for p in available() if p.origin == "built-in"} >= {
        "seed", "brush", "gray", "color", "hd-gray", "hd-color"}


def test_an_installed_wheel_finds_its_presets(wheel_path, tmp_path):
    """A non-editable install (what a user gets from `pip install .`) finds its built-ins:
    the wheel unpacked on a path of its own, glyphart imported from there."""
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel_path) as zf:
        zf.extractall(target)
    code = ("import glyphart.presets as p; print(p.builtin_dir()); "
            "print(sorted(f.name for f in p.available() if f.origin == 'built-in'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin",
                                             "GLYPHART_PRESETS": str(tmp_path / "user")})
    assert proc.returncode == 0, proc.stderr
    folder, names = proc.stdout.splitlines()
    assert folder == str(target / "glyphart" / "builtin_presets")
    assert "hd-color" in names and "brush" in names


def test_the_wheel_has_the_command_line_entry_point(wheel_names, tmp_path):
    assert any(n.endswith(".dist-info/entry_points.txt") for n in wheel_names)
