"""docs/architecture.md stays true: every module it names imports, and the render stages keep
to their lanes (read from the source, without running it)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAP = REPO / "docs" / "architecture.md"
PACKAGE = REPO / "glyphart"
RENDER = PACKAGE / "render"


def _named_modules() -> list[str]:
    text = MAP.read_text()
    return sorted(set(re.findall(r"`(glyphart(?:\.[a-z_]+)*)`", text)))


def test_the_map_names_the_packages():
    if not MAP.is_file():
        pytest.skip("tests run outside a glyphart checkout")
    names = _named_modules()
    assert "glyphart.render.api" in names and "glyphart.train" in names
    assert len(names) >= 40


@pytest.mark.parametrize("name", _named_modules() if MAP.is_file() else [])
def test_every_module_on_the_map_imports(name):
    importlib.import_module(name)


def test_every_render_and_training_module_is_on_the_map():
    if not MAP.is_file():
        pytest.skip("tests run outside a glyphart checkout")
    named = set(_named_modules())
    modules = {_module_name(p) for folder in (RENDER, PACKAGE / "train")
               for p in folder.rglob("*.py") if p.name != "__init__.py"}
    assert not modules - named, f"not on docs/architecture.md: {sorted(modules - named)}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) of every import in a file, inside functions too."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            # `from . import compose` imports a module
            subs = [n for n in names if (REPO / Path(*target.split(".")) / f"{n}.py").is_file()
                    or (REPO / Path(*target.split(".")) / n / "__init__.py").is_file()]
            found += [(f"{target}.{n}", []) for n in subs]
            rest = [n for n in names if n not in subs]
            if rest or not subs:
                found.append((target, rest))
    return found


def _project_files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in _project_files():
        for target, names in _imports(path):
            if target.startswith("glyphart"):
                offenders += [f"{_module_name(path)}: {target}.{n}" for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert not offenders, offenders


def _render_graph() -> dict[str, set[str]]:
    graph = {}
    for path in RENDER.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        graph[_module_name(path)] = {t for t, _ in _imports(path)
                                     if t.startswith("glyphart.render.")}
    return graph


def test_the_render_package_has_no_import_cycles():
    graph = _render_graph()
    state: dict[str, int] = {}

    def visit(node, trail):
        if state.get(node) == 1:
            raise AssertionError("import cycle: " + " -> ".join(trail + [node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, ()):
            visit(nxt, trail + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


def test_each_stage_knows_only_the_ones_below_it():
    graph = _render_graph()
    for module, targets in graph.items():
        if ".layouts." in module:
            others = {t for t in targets if t.startswith("glyphart.render.")
                      and not t.startswith("glyphart.render.layouts")}
            assert not others, f"{module} (a layout) imports {others}"
            shared = {"glyphart.render.layouts.grid", "glyphart.render.layouts.page"}
            layouts = {t for t in targets if t.startswith("glyphart.render.layouts.")} - shared
            assert not layouts, f"{module} imports another layout: {layouts}"
        if ".writers." in module:
            others = {t for t in targets if not t.startswith("glyphart.render.writers")}
            assert not others, f"{module} (a writer) imports {others}"
        if module in ("glyphart.render.glyphs", "glyphart.render.paint",
                      "glyphart.render.look", "glyphart.render.enlarge",
                      "glyphart.render.outline"):
            above = {t for t in targets if t.startswith(("glyphart.render.layouts",
                                                         "glyphart.render.writers",
                                                         "glyphart.render.compose",
                                                         "glyphart.render.api"))}
            assert not above, f"{module} imports stages above it: {above}"
        if module == "glyphart.render.compose":
            writers = {t for t in targets if t.startswith("glyphart.render.writers")}
            assert not writers, f"compose imports writers: {writers}"


def test_one_module_asks_what_kind_of_generator_drew_a_glyph():
    askers = [_module_name(p) for p in RENDER.rglob("*.py")
              if re.search(r'generator\s*==\s*"strokes"|draws_any_size\s*\(|"draws_any_size"',
                           p.read_text())]
    assert askers == ["glyphart.render.glyphs"], askers


def test_nothing_outside_the_kinds_asks_which_generator_it_is():
    """A kind is asked (its methods and traits), not asked about: only the specification
    (which validates each kind's fields), the model builder and a strokes generator's own
    growing (was its parent strokes too?) name generators."""
    askers = [_module_name(p) for p in PACKAGE.rglob("*.py")
              if re.search(r'generator\s*[!=]=\s*"', p.read_text())]
    assert sorted(askers) == ["glyphart.grow", "glyphart.models", "glyphart.spec"], askers


MAX_FUNCTION_LINES = 80  # the house's rule; split by meaning, not by count


def test_no_function_is_over_80_lines():
    """Every function and method in glyphart/, from its `def` (decorators aside) to its last
    line, nested functions counted in the one that holds them."""
    long = []
    for path in _project_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines})")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_browser_waits_are_functions_the_pages_policy_lets_run():
    """Playwright re-evaluates a bare expression with eval() on every poll, which the studio's
    and the gallery's Content-Security-Policy (no 'unsafe-eval') refuses once the first poll
    is false; a function is evaluated once, inside the DevTools call. So every wait is one."""
    bare = [f"{p.name}:{n}" for p in (REPO / "tests").glob("test_*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(r'wait_for_function\(\s*f?"(?!\()', line)]
    assert not bare, f"wait_for_function with a bare expression: {bare}"
