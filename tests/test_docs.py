"""The README's promises: its Python snippet runs as printed."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_python_snippet_runs_as_printed(tmp_path, monkeypatch):
    if not README.is_file():
        pytest.skip("tests run outside a glyphart checkout")
    (snippet,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {})
    assert sorted(os.listdir(tmp_path)) == ["loop.webm", "sheet.png"]
