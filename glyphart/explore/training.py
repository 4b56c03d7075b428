"""The studio's training panel: start from any preset, change its knobs in a form made from
the specification (form.py), name the result and train it, watching its 64 fixed glyphs and
its loss and bits as it learns.

Training runs beside the studio, never in its event loop: the CLI's own `glyphart train` in a
child process with its own threads, writing its live sheet and numbers with `--preview`, which
the page polls. One training at a time per studio. Closing the tab leaves it running (the
studio holds it, and a page opened later reattaches); stopping it, or Ctrl-C on the studio,
sends it one SIGINT, on which it saves its weights as the preset and a checkpoint that resume
(or `glyphart train NAME --resume`) continues. The child runs in a session of its own, so a
Ctrl-C in the terminal reaches the studio alone, which stops the child once and waits for its
save.

Safety: every action is a JSON POST (the Guard refuses other Origins); names are plain
(letters, digits, - _ +) and files go only into the user presets folder; built-in presets and
their names are never written; every field is validated by spec_from_dict before anything is
written or started.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..atomic import atomic_path, write_text
from ..errors import GlyphartError
from ..spec import dump_spec
from . import view
from .form import describe

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,63}")
STOP_WAIT = 120.0  # seconds a stopped child may take to save (hd: a few)
LOG_BYTES = 4000   # the child's stderr kept to say why it failed


@dataclass
class Job:
    """One child `glyphart train` and its files."""
    name: str
    toml: Path
    proc: subprocess.Popen
    sheet: Path
    log: Path
    resume: bool
    started: float
    stopping: bool = False
    noticed_end: bool = False


class Trainer:
    """At most one training of this studio; `on_end(name)` once when it ends (the studio
    forgets what it drew of that preset, whose weights changed)."""

    def __init__(self, on_end=lambda name: None):
        self.folder = Path(tempfile.mkdtemp(prefix="glyphart-studio-"))
        self.job: Job | None = None
        self.on_end = on_end
        self.lock = threading.Lock()

    def running(self) -> bool:
        return self.job is not None and self.job.proc.poll() is None

    def start(self, name: str, toml: Path, resume: bool) -> Job:
        with self.lock:
            if self.running():
                raise GlyphartError(f"a training of {self.job.name} is running; stop it first "
                                    "(one training at a time in the studio)")
            sheet, log = self.folder / f"{name}.png", self.folder / f"{name}.log"
            for old in (sheet, sheet.with_suffix(".json")):
                old.unlink(missing_ok=True)
            with open(log, "wb") as err:
                proc = subprocess.Popen(command(toml, sheet, resume), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=err,
                                        **_own_session())
            self.job = Job(name, toml, proc, sheet, log, resume, time.time())
            return self.job

    def stop(self) -> Job:
        job = self.job
        if job is None or job.proc.poll() is not None:
            raise GlyphartError("no training is running")
        job.stopping = True
        _interrupt(job.proc)
        return job

    def close(self) -> None:
        """The studio is closing: stop a running child (it saves), wait, then clean up."""
        job = self.job
        if job is not None and job.proc.poll() is None:
            if not job.stopping:
                job.stopping = True
                _interrupt(job.proc)
            try:
                job.proc.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                job.proc.kill()
                job.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def status(self) -> dict:
        job = self.job
        if job is None:
            return {"state": "idle"}
        code = job.proc.poll()
        out = {"name": job.name, "resume": job.resume, "started": job.started,
               "progress": _read_json(job.sheet.with_suffix(".json")),
               "sheet": job.sheet.stat().st_mtime_ns if job.sheet.is_file() else None}
        if code is None:
            return out | {"state": "stopping" if job.stopping else "training"}
        if not job.noticed_end:
            job.noticed_end = True
            self.on_end(job.name)
        from ..train import checkpoint_path
        stopped = checkpoint_path(job.toml).is_file()
        if code == 0:
            return out | {"state": "finished"}
        return out | {"state": "stopped" if stopped else "failed", "error": _last_error(job.log)}


def command(toml: Path, sheet: Path, resume: bool) -> list[str]:
    """The CLI's own training, its live sheet at `sheet`."""
    return [sys.executable, "-m", "glyphart", "train", str(toml), "--out", str(toml),
            "--preview", str(sheet), "-q"] + (["--resume"] if resume else [])


def _own_session() -> dict:
    """Popen options: the child in a session (process group) of its own."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _interrupt(proc: subprocess.Popen) -> None:
    """What Ctrl-C would send it: the training saves its weights and a checkpoint."""
    proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGINT)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _last_error(log: Path) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(max(0, log.stat().st_size - LOG_BYTES))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    said = [line for line in lines if line.startswith("error:")]
    return (said or lines or [""])[-1][:300]


# ---------------------------------------------------------------------------------------------
# what a request asks for, checked


def safe_name(name) -> str:
    """A new preset's name: plain, not a built-in's; its file goes in the user folder only."""
    from ..presets import BUILTIN_NAMES
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise GlyphartError("name: use 1-64 letters, digits, '-', '_' or '+', starting with a "
                            "letter or digit (no folders, dots or spaces)")
    if name in BUILTIN_NAMES:
        raise GlyphartError(f"name: {name!r} is a built-in preset's; choose another name "
                            "(built-ins are never written)")
    return name


def user_toml(name: str) -> Path:
    from ..presets import refuse_builtin, user_dir
    folder = user_dir()
    path = folder / f"{name}.toml"
    if path.resolve().parent != folder.resolve():  # a link or odd folder: refused
        raise GlyphartError(f"name: {name!r} does not stay in the user presets folder")
    refuse_builtin(path, "save it")
    return path


def planned(body: dict) -> tuple:
    """(the source's files, its spec, the new spec, the new TOML's path): everything
    validated, nothing written yet."""
    from ..presets import find
    from ..spec import load_spec, spec_from_dict
    source = find(view.preset_name({"preset": body.get("from", "")}))
    name = safe_name(body.get("name"))
    values = body.get("values")
    if not isinstance(values, dict):
        raise GlyphartError("values: send the form's tables as a JSON object")
    spec = spec_from_dict({k: v for k, v in values.items() if k != "name"} | {"name": name},
                          f"{name}.toml")
    toml = user_toml(name)
    if toml.exists() and toml.resolve() != source.toml.resolve():
        raise GlyphartError(f"name: a preset {name!r} exists already; open it from the picker "
                            "to change it, or choose another name")
    return source, load_spec(source.toml), grown_from(spec, source), toml


def grown_from(spec, source):
    """The copy grows from the preset it came from, as `preset new` makes it, unless the
    artist named another parent in the form."""
    from ..presets import grow_from_source
    from ..spec import load_spec
    if spec.train.init_from == load_spec(source.toml).train.init_from:
        grow_from_source(spec, source, source.name)
    return spec


def render_only(spec, source_spec, source) -> bool:
    """Only [render] (or the description) changed from a trained source, beside what a copy
    writes to grow from it (init_from, the fine-tuning keys): nothing to learn."""
    import copy

    from ..presets import grow_from_source
    from ..spec import spec_to_dict
    as_copied = copy.deepcopy(source_spec)
    grow_from_source(as_copied, source, source.name)
    a, b = spec_to_dict(spec), spec_to_dict(as_copied)
    for d in (a, b):
        d["train"].pop("init_from", None)
    return source.trained and all(a[t] == b[t] for t in ("model", "channel", "train"))


def save_render_edit(spec, source, toml: Path) -> None:
    """The new TOML beside a copy of the source's weights and record (same [model]: they fit)."""
    if toml.resolve() != source.toml.resolve():
        for src, dst in ((source.weights, toml.with_suffix(".safetensors")),
                         (source.record, toml.with_suffix(".json"))):
            if src.is_file():
                with atomic_path(dst) as tmp:
                    shutil.copyfile(src, tmp)
    write_text(toml, dump_spec(spec))


# ---------------------------------------------------------------------------------------------
# handlers


def trainer(request: Request) -> Trainer:
    return request.app.state.explorer.trainer


def reply(data: dict, status: int = 200) -> Response:
    from .app import SECURITY_HEADERS
    return JSONResponse(data, status, headers=SECURITY_HEADERS)


async def json_body(request: Request) -> dict:
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        raise GlyphartError("send the request as application/json")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise GlyphartError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise GlyphartError("the body must be a JSON object")
    return body


async def form(request: Request):
    """The form of a preset: its fields and values, whether it is trained and resumable."""
    from ..presets import find
    from ..spec import load_spec
    from ..train import checkpoint_path
    from ..presets import available
    files = find(view.preset_name(request.query_params))
    spec = load_spec(files.toml)
    sources = [p.name for p in available() if not p.shadowed]
    return reply(describe(spec) | {"name": files.name, "origin": files.origin,
                                   "trained": files.trained, "sources": sources,
                                   "resumable": checkpoint_path(files.toml).is_file()})


async def start(request: Request):
    """Train the form's preset (or save a [render]-only edit); `resume`: continue a stopped
    training of the named user preset as it is."""
    body = await json_body(request)
    if body.get("resume") is True:
        return reply(resume(request, safe_name(body.get("name"))))
    source, source_spec, spec, toml = planned(body)
    if render_only(spec, source_spec, source):
        save_render_edit(spec, source, toml)
        return reply({"saved": spec.name})
    from ..train import checkpoint_path
    if checkpoint_path(toml).is_file():
        raise GlyphartError(f"{spec.name} has a stopped training: resume it, or delete "
                            f"{checkpoint_path(toml).name} to start over")
    runs = trainer(request)
    if runs.running():  # refused before its TOML is written
        raise GlyphartError(f"a training of {runs.job.name} is running; stop it first "
                            "(one training at a time in the studio)")
    write_text(toml, dump_spec(spec))
    runs.start(spec.name, toml, resume=False)
    return reply({"started": spec.name})


def resume(request: Request, name: str) -> dict:
    from ..train import checkpoint_path
    toml = user_toml(name)
    if not checkpoint_path(toml).is_file():
        raise GlyphartError(f"{name} has no stopped training to resume")
    trainer(request).start(name, toml, resume=True)
    return {"started": name, "resume": True}


async def stop(request: Request):
    await json_body(request)
    return reply({"stopping": trainer(request).stop().name})


async def status(request: Request):
    return reply(trainer(request).status())


async def sheet(request: Request):
    """The running (or last) training's live sheet."""
    job = trainer(request).job
    if job is None or not job.sheet.is_file():
        return Response(status_code=204)
    from .app import SECURITY_HEADERS
    return Response(job.sheet.read_bytes(), media_type="image/png", headers=SECURITY_HEADERS)
