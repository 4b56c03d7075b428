"""The README's promises: its Python snippet runs as printed, and every glyphart command it
(and the guide's pages in docs/) shows parses against the CLI (handed to click, never run)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
# The guide: the README and the pages it sends a reader to for every option.
GUIDE = ["README.md", "docs/rendering.md", "docs/studio.md", "docs/training.md", "docs/scale.md",
         "docs/studies.md"]
SHELL_FENCES = ("", "bash", "sh", "shell", "console")


def test_the_readme_python_snippet_runs_as_printed(tmp_path, monkeypatch):
    if not README.is_file():
        pytest.skip("tests run outside a glyphart checkout")
    (snippet,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {})
    assert sorted(os.listdir(tmp_path)) == ["loop.webm", "sheet.png"]


def shell_lines(markdown: str) -> list[str]:
    """The shell lines of a Markdown text: lines of fenced shell blocks and of 4-space indented
    blocks (continuation backslashes joined), and inline code in table rows."""
    lines, fence, joined = [], None, ""
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fence = line.strip()[3:].strip() if fence is None else None
            continue
        code = fence in SHELL_FENCES if fence is not None else line.startswith("    ")
        if code or joined:
            joined += " " + line.strip()
            if joined.endswith("\\"):
                joined = joined[:-1].rstrip()
                continue
            lines.append(joined.strip())
            joined = ""
        elif line.startswith("|"):
            lines += re.findall(r"`(glyphart [^`]+)`", line)
    return lines


def glyphart_commands(line: str) -> list[list[str]]:
    """The arguments of each glyphart command in a shell line: `glyphart ARGS`, or
    `... -m glyphart ARGS` (torchrun), in any of the commands joined by &&, ||, ; or |."""
    if not re.search(r"(^|\s)glyphart\s", line):
        return []  # not a command of ours (and perhaps not shell at all)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, words = [], []
    for token in [*lexer, "&&"]:
        if token not in ("&&", "||", ";", "|", "&"):
            words.append(token)
            continue
        if words[:1] == ["glyphart"]:
            commands.append(words[1:])
        for i in range(len(words) - 1):
            if words[i:i + 2] == ["-m", "glyphart"]:
                commands.append(words[i + 2:])
        words = []
    return commands


def _commands(group: click.Group):
    for command in group.commands.values():
        yield command
        if isinstance(command, click.Group):
            yield from _commands(command)


@pytest.mark.parametrize("page", GUIDE)
def test_every_command_in_the_guide_parses(page, monkeypatch):
    """Each command is parsed by click with its options' types and choices checked, and its
    function replaced by one that does nothing: a command shown in the README (or a guide
    page) that no longer parses (an option renamed or removed, a value out of range) fails
    here. Files it reads need not exist: it is parsed, not run."""
    if not (REPO / page).is_file():
        pytest.skip("tests run outside a glyphart checkout")
    from glyphart.cli import main
    for command in _commands(main):
        if not isinstance(command, click.Group):
            monkeypatch.setattr(command, "callback", lambda **_: None)
        for param in command.params:
            if isinstance(param.type, click.Path):
                monkeypatch.setattr(param.type, "exists", False)
    commands = [args for line in shell_lines((REPO / page).read_text())
                for args in glyphart_commands(line)]
    assert commands, f"{page} shows no glyphart command"
    if page == "README.md":
        assert len(commands) >= 10, commands
        assert ["render", "--preset", "hd-color", "--video", "lerp.webm"] in commands
    for args in commands:
        try:
            main.main(args, prog_name="glyphart", standalone_mode=False)
        except click.ClickException as e:
            pytest.fail(f"{page}: glyphart {shlex.join(args)}: {e.format_message()}")


@pytest.mark.parametrize("line, expected", [
    ("glyphart render --preset gray --sheet s.png   # a comment",
     [["render", "--preset", "gray", "--sheet", "s.png"]]),
    ("pip install . && glyphart render --poster 'a-{seed}.png' && glyphart gallery out",
     [["render", "--poster", "a-{seed}.png"], ["gallery", "out"]]),
    ("OMP_NUM_THREADS=1 torchrun --nproc-per-node 4 -m glyphart train my.toml",
     [["train", "my.toml"]]),
    ("python3 -m venv .venv && pytest", []),
])
def test_commands_are_found_in_shell_lines(line, expected):
    assert glyphart_commands(line) == expected


def test_shell_lines_are_found_in_code_blocks_and_tables():
    text = ("Prose with `glyphart eval` inline is not a command.\n\n"
            "    glyphart train a \\\n        --minutes 5\n\n"
            "```python\nglyphart = 1\n```\n\n```bash\nglyphart presets\n```\n\n"
            "| what | command |\n|---|---|\n| a loop | `glyphart render --video v.webm` |\n")
    assert shell_lines(text) == ["glyphart train a --minutes 5", "glyphart presets",
                                 "glyphart render --video v.webm"]
