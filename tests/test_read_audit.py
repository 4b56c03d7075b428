"""The check that tests read nothing outside the repository (read_audit.py) catches what it
must and lets the allowed places be."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from read_audit import AUDIT, REPOSITORY, ReadAudit, allowed_roots


def test_a_file_beside_the_repository_is_outside(tmp_path, monkeypatch):
    """Opened by name, by a relative path, or through a link inside the repository."""
    repository, beside = tmp_path / "repo", tmp_path / "shared" / "sheet.png"
    (repository / "tests").mkdir(parents=True)
    beside.parent.mkdir()
    beside.write_bytes(b"png")
    (repository / "tests" / "data.txt").write_text("mine")
    (repository / "tests" / "link.png").symlink_to(beside)
    audit = ReadAudit([str(repository)])
    monkeypatch.chdir(repository)
    with audit.watching() as seen:
        (repository / "tests" / "data.txt").read_text()
        with open("tests/data.txt"):
            pass
        assert seen == []
        beside.read_bytes()
        with open("../shared/sheet.png", "rb"):
            pass
        os.close(os.open(repository / "tests" / "link.png", os.O_RDONLY))
    link = str(repository / "tests" / "link.png")
    assert [path for path, _ in seen] == [str(beside), "../shared/sheet.png", link]
    assert all(where.startswith(__file__ + ":") for _, where in seen)
    with open(beside, "rb"):  # no longer watching
        pass
    assert len(seen) == 3


def test_the_allowed_places():
    """The repository, temporary folders, Python and its packages, system files and the
    home caches are in; the folder beside the repository is out, wherever it stands."""
    inside = [REPOSITORY / "tests" / "golden" / "raster" / "sheet.svg",
              Path(tempfile.gettempdir()) / "x.png", Path(pytest.__file__), Path(os.__file__),
              Path("/proc/cpuinfo"), Path("/dev/null"), Path("/etc/mime.types"),
              Path("/usr/share/fonts/x.ttf"), Path.home() / ".cache" / "glyphart" / "k.so"]
    assert [p for p in inside if AUDIT.outside(str(p))] == []
    elsewhere = ReadAudit(allowed_roots(Path("/srv/work/glyphart")))
    assert elsewhere.outside("/srv/work/shared/seed/figures/inverted-ae-trained.png")
    assert elsewhere.outside("/srv/work/glyphart-data/sheet.png")
    assert not elsewhere.outside("/srv/work/glyphart/tests/golden/raster/sheet.svg")
    assert elsewhere.outside(str(Path.home() / "Pictures" / "sheet.png"))


def test_a_test_that_reads_outside_fails(tmp_path):
    """Through pytest, as conftest.py wires it: the test (or the module, or the fixture)
    that opened a file outside fails, naming it and the line; the others pass."""
    repository = tmp_path / "repo"
    repository.mkdir()
    (tmp_path / "beside.txt").write_text("not ours")
    (repository / "data.txt").write_text("ours")
    (repository / "conftest.py").write_text(textwrap.dedent(f"""
        import os, sys, tempfile
        from pathlib import Path
        import pytest
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import read_audit
        from read_audit import (pytest_make_collect_report, pytest_runtest_call,
                                pytest_runtest_makereport, pytest_runtest_setup,
                                pytest_runtest_teardown)
        # This repository stands in a temporary folder: let temporary folders out.
        temporary = os.path.realpath(tempfile.gettempdir())
        read_audit.AUDIT.roots = tuple(r for r in read_audit.allowed_roots(Path(__file__).parent)
                                       if r != temporary)

        @pytest.fixture
        def beside():
            return (Path(__file__).parent.parent / "beside.txt").read_text()
        """))
    (repository / "test_reads.py").write_text(textwrap.dedent("""
        from pathlib import Path
        HERE = Path(__file__).parent

        def test_reads_its_own_data():
            assert (HERE / "data.txt").read_text() == "ours"

        def test_reads_beside():
            assert (HERE.parent / "beside.txt").read_text() == "not ours"

        def test_a_fixture_reads_beside(beside):
            assert beside == "not ours"
        """))
    (repository / "test_module_reads.py").write_text(
        "from pathlib import Path\nTEXT = (Path(__file__).parents[1] / 'beside.txt').read_text()\n"
        "def test_nothing():\n    pass\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--continue-on-collection-errors", str(repository)],
                         cwd=repository, capture_output=True, text=True, timeout=120)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "1 failed, 1 passed, 2 errors" in out, out
    assert "FAILED test_reads.py::test_reads_beside" in out
    assert "ERROR test_reads.py::test_a_fixture_reads_beside" in out
    assert "ERROR test_module_reads.py" in out
    assert f"{tmp_path / 'beside.txt'} (opened at {repository / 'test_reads.py'}:9)" in out
