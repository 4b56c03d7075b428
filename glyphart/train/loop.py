"""`train()`: one run of the loop, read as a page. Each part is a function of its own: the
set-up (run.py), the step (step.py, penalties.py), checkpoints (checkpoint.py), the video
(video.py) and the record (record.py).

Under torchrun every rank runs this loop over its share of the batch (gradients averaged in
step.py); rank 0 decides when to stop and checkpoint (`distributed.agree`), holds the lock and
writes every file."""

from __future__ import annotations

import signal
from pathlib import Path

import torch

from .. import distributed
from ..errors import GlyphartError
from ..lock import exclusive_lock
from ..metrics import bits_from_correlation
from ..presets import refuse_builtin
from ..progress import Progress
from ..spec import Spec
from .checkpoint import save_checkpoint
from .preview import Preview
from .record import add_evaluation, save_results, save_stopped, training_record, write_record
from .run import Clock, run_spec, set_up
from .step import train_step
from .video import TrainingVideo


def train(spec: Spec, out: Path, steps: int | None = None, minutes: float | None = None,
          resume: bool = False, video: str | Path | None = None, device: str = "cpu",
          quiet: bool = False, evaluate_after: bool = True, eval_messages: int = 4096,
          monitor=None, preview: str | Path | None = None, preview_every: int = 0) -> dict:
    """Train `spec`, writing out (TOML), weights and record beside it. Returns the record.

    `monitor(step, generator, decoder)`, if given, runs after every step; returning True
    stops training there (benchmarks use it to time how fast a recipe reaches a quality). Its
    own time is not the training's: it counts toward neither the minutes, the schedule (learning
    rate, look ramp) nor the record's CPU minutes, so a monitored run trains as an unmonitored
    one does.

    `preview`: a PNG the 64 fixed glyphs are written to every `preview_every` steps (0: about
    once a second), with the run's numbers in its .json beside it (preview.py); off the clock
    too."""
    out = Path(out)
    refuse_builtin(out, "train it")
    what = f"a training of {out}"
    distributed.start(distributed.resolve_device(device))
    try:
        with distributed.held_by_main(lambda: exclusive_lock(out, what), what):
            run = set_up(run_spec(spec, out, steps, minutes), out, resume, device)
            clock = loop(run, video=video, quiet=quiet, monitor=monitor,
                         preview=preview, preview_every=preview_every)
            return finish(run, clock, evaluate_after=evaluate_after,
                          eval_messages=eval_messages, quiet=quiet)
    finally:
        distributed.stop()


def loop(run, *, video=None, quiet: bool = False, monitor=None, preview=None,
         preview_every: int = 0) -> Clock:
    """Steps until [train] steps or minutes run out (at least one), a checkpoint every few
    minutes; Ctrl-C or SIGTERM saves one and the weights so far, and stops with an error that
    says how to resume."""
    train_spec, budget, main = run.train_spec, run.budget, run.world.main
    film = TrainingVideo(video, run.spec, run.device) if video is not None and main else None
    sheet = Preview(preview, run.spec, run.device, preview_every) \
        if preview is not None and main else None
    clock = Clock(run.elapsed0, run.cpu0)
    last_checkpoint = clock.t0
    bits = float("nan")
    stopped = None  # why the loop ended early: an interrupt, or a rank that died
    old_handler = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    bar = Progress(train_spec.steps, f"train {run.spec.name}", quiet=quiet or not main,
                   unit="step", start=run.start, seconds=budget - run.elapsed0)
    try:
        run.gen.train(), run.dec.train()
        # At least one step a run, however small the budget: a record of 0 steps has no loss.
        while run.step < train_spec.steps:
            # -- the step
            train_step(run, max(run.step / train_spec.steps, clock.elapsed() / budget))
            # -- the video, the progress bar
            if film is not None:
                film.update(run.step, train_spec, clock.elapsed(), budget, run.gen, run.paint)
            if run.step % 25 == 0 or run.step == train_spec.steps:
                bits = bits_from_correlation(torch.cat([r[0] for r in run.recent]),
                                             torch.cat([r[1] for r in run.recent]))
            bar.update(run.step, loss=run.loss_value, bits=f"{bits:.1f}")
            if sheet is not None:
                clock.off_the_clock(sheet.update, run, clock, bits)
            # -- the monitor (off the clock), the checkpoint, the budget: rank 0 decides
            watched = monitor is not None and clock.off_the_clock(monitor, run.step, run.gen,
                                                                  run.dec)
            watched, due, spent = distributed.agree(
                watched, clock_since(last_checkpoint) > train_spec.checkpoint_minutes * 60,
                clock.elapsed() >= budget)
            if watched:
                run.stopped_by = "monitor"
                break
            if due:
                checkpoint(run, clock)
                last_checkpoint = clock_now()
            if spent:
                break
    except (KeyboardInterrupt, _Interrupted):
        stopped = f"interrupted at step {run.step}"
        if run.world.size > 1:  # torchrun's agent signals every rank when one of them ends
            stopped += " (torchrun stops the whole job when one of its processes ends)"
    except distributed.PeerLost as e:
        stopped = f"{e}; stopped at step {run.step}"
    finally:
        bar.close()
        if film is not None:  # what was drawn so far is kept, even if training failed
            film.close()
        if old_handler is not None:
            # A second signal (torchrun's, after the peer's error) must not cut the save short.
            signal.signal(signal.SIGTERM, signal.SIG_IGN if stopped else old_handler)
    if stopped:
        # Alone: the other ranks may be gone. The parameters are the same on every rank after
        # each step, so rank 0's are the job's (its BatchNorm statistics its own).
        try:
            save(run, clock)
            if main:  # what was stopped on renders at once, as the preset
                save_stopped(run, clock)
                if sheet is not None:
                    sheet.write(run, clock, bits, "stopped")
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGTERM, old_handler)
        if main:
            raise GlyphartError(f"{stopped}; checkpoint saved to {run.checkpoint} and the "
                                f"weights so far to {run.out.with_suffix('.safetensors')}; "
                                "continue with --resume")
        raise GlyphartError(f"rank {run.world.rank}: {stopped}; rank 0 saves the checkpoint")
    if sheet is not None:
        sheet.write(run, clock, bits, "finishing")
    return clock


def checkpoint(run, clock: Clock) -> None:
    """All ranks together: BatchNorm statistics averaged, then rank 0 writes."""
    distributed.average_buffers(run.gen, run.dec)
    save(run, clock)


def save(run, clock: Clock) -> None:
    if run.world.main:
        save_checkpoint(run.checkpoint, run.spec, run.gen, run.dec, run.opt, run.step,
                        clock.elapsed(), clock.cpu(), run.loss0)


def finish(run, clock: Clock, *, evaluate_after: bool, eval_messages: int, quiet: bool
           ) -> dict:
    """Final weights, then the record; the checkpoint goes last, once both are safely written.
    Rank 0 only, after the ranks' BatchNorm statistics are averaged; the others are done."""
    distributed.average_buffers(run.gen, run.dec)
    if not run.world.main:
        return {}
    backups = save_results(run)
    record = training_record(run, clock, backups)
    add_evaluation(record, run, evaluate_after, eval_messages, quiet)
    write_record(run, record)
    run.checkpoint.unlink(missing_ok=True)
    return record


def clock_now() -> float:
    import time
    return time.perf_counter()


def clock_since(t: float) -> float:
    return clock_now() - t


class _Interrupted(Exception):
    pass


def _raise_interrupt(signum, frame):
    raise _Interrupted()


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()
