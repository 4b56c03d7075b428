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
def wheel_names(tmp_path_factory) -> set[str]:
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
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_the_wheel_holds_every_subpackage(wheel_names):
    packages = [p.relative_to(REPO).as_posix() for p in PACKAGE.rglob("__init__.py")
                if "__pycache__" not in p.parts]
    assert "glyphart/study/__init__.py" in packages
    missing = [p for p in packages if p not in wheel_names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_wheel_holds_every_builtin_preset_file(wheel_names):
    folder = PACKAGE / "builtin_presets"
    files = [p.relative_to(REPO).as_posix() for p in folder.iterdir()
             if p.suffix in (".toml", ".safetensors", ".json")]
    assert len(files) >= 15
    missing = [f for f in files if f not in wheel_names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_wheel_has_the_command_line_entry_point(wheel_names, tmp_path):
    assert any(n.endswith(".dist-info/entry_points.txt") for n in wheel_names)
