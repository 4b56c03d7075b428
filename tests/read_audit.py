"""Tests read nothing outside the repository: a test that opens a file elsewhere fails.

A fresh clone has nothing beside it, so data a test needs is made by the test or kept in
tests/. Allowed besides the repository: temporary folders, the Python installation and its
packages, system files (/usr, /etc, /proc, /sys, /dev, ...), and the caches libraries keep in
the home folder (~/.cache: glyphart's compiled stroke kernel, fontconfig). Subprocesses are
not watched here; CI runs the suite from a clone with nothing beside it for them.

Every `open` (builtin, io, os.open, pathlib; what the import system opens too) raises an
audit event (PEP 578); one hook, installed once, hands each path to the audits watching.
conftest.py watches each test's setup, call and teardown and each module's collection, and
fails the phase that opened a file elsewhere, naming the file and the line that opened it.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev",
          "/run", "/var/cache/fontconfig")


def allowed_roots(repository: Path = REPOSITORY) -> list[str]:
    """Folders a test may read, real paths without a trailing slash."""
    home = Path.home()
    repository = _real(repository)
    # sys.path is where packages are installed, but PYTHONPATH may name a folder above the
    # repository: that would let its neighbours in.
    packages = [p for p in map(_real, filter(None, sys.path))
                if os.path.isdir(p) and not repository.startswith(p + "/")]
    roots = [repository, tempfile.gettempdir(), *SYSTEM, *packages,
             sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *site.getsitepackages(), site.getusersitepackages(),
             *sysconfig.get_paths().values(),
             os.environ.get("XDG_CACHE_HOME") or home / ".cache",
             os.environ.get("XDG_CONFIG_HOME") or home / ".config",
             home / ".fonts", home / ".local" / "share" / "fonts"]
    return sorted(set(map(_real, roots)))


def _real(path) -> str:
    return os.path.realpath(path).rstrip("/") or "/"


class ReadAudit:
    """Files opened outside `roots` while watching, with the line that opened each."""

    def __init__(self, roots: list[str]):
        self.roots = tuple(roots)

    def outside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return not any(real == root or real.startswith(root + "/") for root in self.roots)

    @contextmanager
    def watching(self):
        """Yield the list that collects (path, where) of each file opened outside."""
        seen: list[tuple[str, str]] = []
        _WATCHING.append((self, seen))
        try:
            yield seen
        finally:
            _WATCHING.remove((self, seen))


_WATCHING: list[tuple[ReadAudit, list]] = []
_BUSY = threading.local()  # realpath and the stack walk must not audit themselves


def _hook(event: str, args: tuple) -> None:
    if event != "open" or not _WATCHING or getattr(_BUSY, "on", False):
        return
    path = args[0]
    if isinstance(path, int):  # an open file descriptor: its path was checked when opened
        return
    _BUSY.on = True
    try:
        path = os.fsdecode(path)
        for audit, seen in list(_WATCHING):
            if audit.outside(path):
                seen.append((path, _opener()))
    finally:
        _BUSY.on = False


def _opener() -> str:
    """The innermost line on the stack that is neither this file nor Python's own or an
    installed package's: the test's, or the code under test's."""
    installed = tuple({_real(sys.prefix) + "/", _real(sys.base_prefix) + "/", "<"})
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(installed) and frame.filename != __file__:
            return f"{frame.filename}:{frame.lineno}"
    return "an installed package"


sys.addaudithook(_hook)  # for the life of the process: hooks cannot be removed
AUDIT = ReadAudit(allowed_roots())
OUTSIDE = pytest.StashKey[dict]()  # an item's outside reads by phase


def _failed_for(report, seen: list) -> None:
    if not seen:
        return
    files = "; ".join(f"{path} (opened at {where})" for path, where in dict(seen).items())
    message = (f"read outside the repository: {files}. Make the data in the test, or keep "
               "it in tests/ (a fresh clone has nothing beside it)")
    if report.passed:
        report.outcome, report.longrepr = "failed", message
    else:
        report.sections.append(("reads outside the repository", message))


# Hooks conftest.py imports: each phase of each test, and each module's collection.

def _watched(item, when: str):
    with AUDIT.watching() as seen:
        item.stash.setdefault(OUTSIDE, {})[when] = seen
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _watched(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _watched(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _watched(item, "teardown")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _failed_for(outcome.get_result(), item.stash.get(OUTSIDE, {}).get(call.when, []))


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    with AUDIT.watching() as seen:
        outcome = yield
    _failed_for(outcome.get_result(), seen)
