"""Nothing lost, nothing written where it shouldn't be: failed writes, planted symlinks,
devices as destinations, traversing preset names, read-only built-ins, retraining, concurrent
trainings, leftovers of killed renders, and resumable batch posters."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import assert_one_line_error, default_sigint, run_cli, write_tiny

OLD = b"the artist's earlier video"


def _render_video(preset: Path, target: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("render", "--preset", str(preset), "--seeds", "0-3", "--video", str(target),
                   "--frames-per-key", "4", "-q", *extra)


# -- a write that fails ---------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 160 KB tmpfs (needs root); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the simulated failures below still run")
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_an_error_and_keeps_the_old_video(trained_tiny, tiny_disk):
    target = tiny_disk / "loop.webm"
    target.write_bytes(OLD)
    (tiny_disk / "filler").write_bytes(b"\0" * 100_000)
    proc = _render_video(trained_tiny, target, "--video-px", "512", "--crf", "4", "--speed", "8")
    assert_one_line_error(proc, str(target))
    assert target.read_bytes() == OLD
    assert sorted(os.listdir(tiny_disk)) == ["filler", "loop.webm"]


def test_a_full_disk_is_an_error_and_keeps_the_old_poster(trained_tiny, tiny_disk):
    target = tiny_disk / "poster.png"
    target.write_bytes(OLD)
    proc = run_cli("render", "--preset", str(trained_tiny), "--poster", str(target),
                   "--size", "3000x3000px", "-q")
    assert_one_line_error(proc, "No space left")
    assert target.read_bytes() == OLD
    assert os.listdir(tiny_disk) == ["poster.png"]


def _fake_ffmpeg(tmp_path: Path, script: str, monkeypatch) -> None:
    fake = tmp_path / "fake-ffmpeg"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    import imageio_ffmpeg
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))


@pytest.mark.parametrize("script, needle", [
    ("cat > /dev/null; echo 'Error writing trailer: No space left on device' >&2; exit 1",
     "No space left"),
    ("head -c 1000 > /dev/null; kill -9 $$", "ffmpeg exit"),
    ("exec 0<&-; echo 'Unknown encoder' >&2; exit 8", "Unknown encoder"),
])
def test_a_failing_or_killed_encoder_is_an_error_and_keeps_the_old_video(
        trained_tiny, tmp_path, monkeypatch, script, needle):
    from glyphart.errors import GlyphartError
    from glyphart.render.api import Render
    out = tmp_path / "out"
    out.mkdir()
    target = out / "loop.webm"
    target.write_bytes(OLD)
    _fake_ffmpeg(tmp_path, script, monkeypatch)
    job = Render.load(str(trained_tiny), seeds="0-3")
    with pytest.raises(GlyphartError, match=needle):
        job.video(target, frames_per_key=4, quiet=True)
    assert target.read_bytes() == OLD
    assert os.listdir(out) == ["loop.webm"]


# -- temporaries: exclusive, unpredictable, and cleaned up ----------------------------------------


@pytest.mark.parametrize("output", ["--video", "--sheet", "--poster"])
def test_a_planted_symlink_at_a_temporary_name_is_never_followed(trained_tiny, tmp_path,
                                                                 monkeypatch, output):
    """Every temporary is created with O_EXCL: a symlink already at the name it draws (here
    forced, by making the random part predictable) is skipped, never written through."""
    from glyphart.render.api import Render
    suffix = ".webm" if output == "--video" else ".png"
    target = tmp_path / f"out{suffix}"
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    names = iter(["planted", "fresh", "fresh2"])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: names)
    planted = tmp_path / f".out.{os.getpid()}-planted.part{suffix}"
    planted.symlink_to(victim)
    # The old predictable video name too.
    (tmp_path / f".out.{os.getpid()}.part{suffix}").symlink_to(victim)
    job = Render.load(str(trained_tiny), seeds="0-3")
    if output == "--video":
        job.video(target, frames_per_key=4, quiet=True)
    elif output == "--sheet":
        job.sheet(target)
    else:
        list(job.posters(str(target), size="100x100px", quiet=True))
    assert victim.read_bytes() == b"precious"
    assert target.is_file() and not target.is_symlink() and target.stat().st_size > 100


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_destination_that_is_not_a_regular_file_is_refused(trained_tiny, tmp_path, kind):
    if kind == "device":
        target = tmp_path / "null.png"  # a name that says PNG, for a device
        target.symlink_to("/dev/null")
    else:
        target = tmp_path / "pipe.png"
        os.mkfifo(target)
    proc = run_cli("render", "--preset", str(trained_tiny), "--sheet", str(target))
    assert_one_line_error(proc, "not a regular file")
    mode = target.stat().st_mode
    assert stat.S_ISCHR(mode) if kind == "device" else stat.S_ISFIFO(mode)
    assert Path("/dev/null").exists() and stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_leftovers_of_a_killed_render_are_removed_by_the_next_one(trained_tiny, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f".sheet.{dead.pid}-abc123.part.png"
    leftover.write_bytes(b"half a sheet")
    alive = tmp_path / f".sheet.{os.getpid()}-def456.part.png"  # a running writer's: kept
    alive.write_bytes(b"being written")
    run_cli("render", "--preset", str(trained_tiny), "--sheet", str(tmp_path / "sheet.png"),
            check_ok=True)
    assert sorted(os.listdir(tmp_path)) == [alive.name, "sheet.png"]


# -- output names come from the user's paths ------------------------------------------------------


@pytest.fixture
def badly_named(trained_tiny, tmp_path) -> Path:
    """The trained tiny preset, its TOML's name set to climb out of any folder."""
    folder = tmp_path / "presets"
    folder.mkdir()
    toml = folder / "tiny.toml"
    toml.write_text(trained_tiny.read_text().replace('name = "tiny"', 'name = "../../escape"'))
    shutil.copy(trained_tiny.with_suffix(".safetensors"), folder / "tiny.safetensors")
    return toml


def test_a_preset_name_never_places_the_default_sheet_elsewhere(badly_named, tmp_path):
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    run_cli("render", "--preset", str(badly_named), cwd=work, check_ok=True)
    written = [p for p in tmp_path.rglob("*.png")]
    assert [p.relative_to(work).as_posix() for p in written] == ["outputs/escape-sheet.png"]


def test_a_preset_name_in_a_poster_template_is_sanitised(badly_named, tmp_path):
    out = tmp_path / "posters"
    run_cli("render", "--preset", str(badly_named), "--seeds", "0-1", "--poster",
            str(out / "{preset}-{seed}.png"), "--size", "64x64px", check_ok=True)
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == ["escape-0.png", "escape-1.png"]
    assert all(p.parent == out for p in tmp_path.rglob("*.png"))


# -- built-ins are read-only; user copies are kept ------------------------------------------------


def _tree_hash(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file()}


def test_training_a_builtin_by_its_path_never_writes_into_the_shipped_folder(
        tmp_path, monkeypatch):
    from glyphart.presets import builtin_dir
    user = tmp_path / "user"
    monkeypatch.setenv("GLYPHART_PRESETS", str(user))
    shipped = builtin_dir()
    before = _tree_hash(shipped)
    proc = run_cli("train", str(shipped / "seed.toml"), "--steps", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    assert (user / "seed.safetensors").is_file()
    assert_one_line_error(run_cli("train", "seed", "--steps", "2", "--out",
                                  str(shipped / "mine.toml")), "built-in")
    assert_one_line_error(run_cli("preset", "new", str(shipped / "gray.toml"), "--from", "seed",
                                  "--force"), "built-in")
    assert_one_line_error(run_cli("preset", "new", str(shipped / ".." / shipped.name /
                                                       "x.toml"), "--from", "seed"), "built-in")
    assert _tree_hash(shipped) == before


def test_another_installations_builtins_are_read_only_too(tmp_path, monkeypatch):
    """A checkout beside an installed copy: the built-ins of either are never written."""
    from glyphart.presets import builtin_dir
    other = tmp_path / "site" / "glyphart"
    shutil.copytree(builtin_dir(), other / "builtin_presets")
    (other / "__init__.py").write_text("")
    (other / "presets.py").write_text("")
    before = _tree_hash(other / "builtin_presets")
    monkeypatch.setenv("GLYPHART_PRESETS", str(tmp_path / "user"))
    proc = run_cli("train", str(other / "builtin_presets" / "seed.toml"), "--steps", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "user" / "seed.safetensors").is_file()
    assert _tree_hash(other / "builtin_presets") == before


@pytest.mark.parametrize("name", ["", "a/b", "..", "../x", ".hidden", "x/../../y"])
def test_preset_new_refuses_names_that_are_not_plain(name, tmp_path, monkeypatch):
    monkeypatch.setenv("GLYPHART_PRESETS", str(tmp_path / "user"))
    assert_one_line_error(run_cli("preset", "new", name, "--from", "seed"), "preset name")
    assert not (tmp_path / "user").exists() or not any((tmp_path / "user").iterdir())


def test_retraining_keeps_the_old_weights_and_training_a_builtins_name_says_it_shadows(
        tmp_path, monkeypatch):
    user = tmp_path / "user"
    monkeypatch.setenv("GLYPHART_PRESETS", str(user))
    first = run_cli("train", "seed", "--steps", "2")
    assert first.returncode == 0, first.stderr
    assert "shadow" in first.stderr and "glyphart presets" in first.stderr
    weights = user / "seed.safetensors"
    old = weights.read_bytes()
    second = run_cli("train", "seed", "--steps", "3", "-q")
    assert second.returncode == 0, second.stderr
    assert (user / "seed.safetensors.~1~").read_bytes() == old
    assert (user / "seed.json.~1~").is_file()
    assert weights.read_bytes() != old
    listed = run_cli("presets", check_ok=True).stdout.splitlines()
    seeds = [line for line in listed if line.startswith("seed ")]
    assert len(seeds) == 2 and "user" in seeds[0] and "shadowed" in seeds[1]


def test_a_second_training_of_the_same_preset_is_refused_and_a_killed_one_leaves_no_lock(
        tmp_path):
    toml = write_tiny(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from glyphart.lock import exclusive_lock\n"
         f"with exclusive_lock(Path({str(toml)!r}), 'x'):\n"
         "    print('locked', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert_one_line_error(run_cli("train", str(toml), "--steps", "2"), "already running",
                              str(holder.pid))
    finally:
        holder.kill()
        holder.wait()
    proc = run_cli("train", str(toml), "--steps", "2", "-q")
    assert proc.returncode == 0, proc.stderr


# -- batch posters resume only what is truly done -------------------------------------------------


def test_batch_posters_redo_a_truncated_file_and_a_changed_margin(trained_tiny, tmp_path):
    template = str(tmp_path / "{preset}-{seed}.png")
    args = ["render", "--preset", str(trained_tiny), "--seeds", "0-2", "--poster", template,
            "--size", "120x160px", "--dpi", "50"]
    run_cli(*args, check_ok=True)
    truncated = tmp_path / "tiny-1.png"
    truncated.write_bytes(truncated.read_bytes()[:-20])
    again = run_cli(*args, check_ok=True)
    assert again.stdout.count("wrote") == 1 and "tiny-1.png" in again.stdout
    margin = run_cli(*args, "--margin", "0.5", check_ok=True)
    assert margin.stdout.count("wrote") == 3
    same = run_cli(*args, "--margin", "0.5", check_ok=True)
    assert same.stdout.count("wrote") == 0
    grid = run_cli("render", "--preset", str(trained_tiny), "--seeds", "0-3", "--poster",
                   str(tmp_path / "p{page}.png"), "--size", "120x160px", "--per-page", "4",
                   check_ok=True)
    assert grid.stdout.count("wrote") == 1
    regrid = run_cli("render", "--preset", str(trained_tiny), "--seeds", "0-3", "--poster",
                     str(tmp_path / "p{page}.png"), "--size", "120x160px", "--grid", "2x2",
                     check_ok=True)
    assert regrid.stdout.count("wrote") == 1


# -- signals: SIGTERM and SIGINT remove every temporary, as Ctrl-C always did ---------------------


@pytest.mark.parametrize("signum, code, said", [(signal.SIGTERM, 143, "terminated"),
                                                (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_a_poster_leaves_no_temporary(trained_tiny, tmp_path, signum, code, said):
    proc = subprocess.Popen([sys.executable, "-m", "glyphart", "render", "--preset",
                             str(trained_tiny), "--poster", str(tmp_path / "p.png"), "--size",
                             "20000x20000px", "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=tempfile.gettempdir(),
                            preexec_fn=default_sigint)
    try:
        deadline = time.time() + 120
        while not list(tmp_path.glob(".p.*.part.png")) and time.time() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.glob(".p.*.part.png")), "the poster never started writing"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code, err
    assert err.strip() == said
    assert os.listdir(tmp_path) == []


def test_a_command_turns_sigterm_into_an_interrupt_that_unwinds(tmp_path):
    """The mechanism in process: SIGTERM inside a command unwinds through atomic_path, and the
    handler before it is put back. (A handler of the test's own stands in for the default
    one, which would end pytest itself.)"""
    from glyphart.atomic import atomic_path
    from glyphart.cli import reports_errors

    class Unhandled(BaseException):
        pass

    def unhandled(signum, frame):
        raise Unhandled()

    @reports_errors
    def command():
        with atomic_path(tmp_path / "out.png") as tmp:
            tmp.write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives before this ends

    before = signal.signal(signal.SIGTERM, unhandled)
    try:
        with pytest.raises(SystemExit) as exited:
            command()
        assert signal.getsignal(signal.SIGTERM) is unhandled
    finally:
        signal.signal(signal.SIGTERM, before)
    assert exited.value.code == 143 and os.listdir(tmp_path) == []
