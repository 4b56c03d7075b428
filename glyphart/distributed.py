"""Where a command runs: the device (`--device auto|cpu|cuda`) and, under torchrun, its place in
the job (rank, world size) and the few collectives training and batch export need.

Without torchrun (no WORLD_SIZE, or WORLD_SIZE=1) every function here is a no-op for one
process, so the single-process paths never touch torch.distributed. Under torchrun the process
group is gloo on the CPU and NCCL on CUDA. A collective that fails (a peer died, or timed out)
raises `PeerLost`, a GlyphartError: one line, exit 2, and torchrun ends the other ranks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import torch

from .errors import GlyphartError

# Training meets the other ranks at every step, so five minutes without them means one is gone
# (a checkpoint or a video frame on rank 0 takes seconds). A batch export meets them once, at
# the end, after each rank's share of the files: give it a day.
STEP_TIMEOUT = timedelta(minutes=5)
EXPORT_TIMEOUT = timedelta(hours=24)


class PeerLost(GlyphartError):
    """Another process of this torchrun job stopped (or stopped answering)."""


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, weights, records and manifests."""
        return self.rank == 0


def world() -> World:
    """This process's place in the job, from torchrun's environment (one process without it)."""
    try:
        return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                     int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError:
        raise GlyphartError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (torchrun sets "
                            "them); unset them to run one process") from None


def is_main() -> bool:
    return world().main


def resolve_device(device: str) -> torch.device:
    """--device: cpu, cuda (refused where there is none) or auto (CUDA when there is one)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise GlyphartError("--device cuda: no CUDA device is available here; use --device cpu")
    if device not in ("cpu", "cuda"):
        raise GlyphartError(f"--device {device}: use auto, cpu or cuda")
    if device == "cuda" and world().size > 1:  # one GPU per process, as torchrun places them
        torch.cuda.set_device(world().local_rank)
        return torch.device("cuda", world().local_rank)
    return torch.device(device)


def start(device: torch.device, timeout: timedelta = STEP_TIMEOUT) -> World:
    """Join torchrun's process group (once); returns this process's World."""
    here = world()
    if here.size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        try:
            torch.distributed.init_process_group(backend, timeout=timeout)
        except (RuntimeError, ValueError) as e:
            raise GlyphartError(f"rank {here.rank}: cannot join the torchrun job "
                                f"({_first_line(e)}); check --rdzv-endpoint and that every "
                                "node started") from None
    return here


def stop() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _collective(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except RuntimeError as e:  # gloo and NCCL raise DistBackendError (a RuntimeError)
        raise PeerLost(f"another process of this job stopped or stopped answering "
                       f"({_first_line(e)})") from None


def _first_line(e: Exception) -> str:
    """The reason, without gloo's source location and advice: `Read error ...: Connection
    reset by peer`."""
    line = (str(e).strip().splitlines() or [type(e).__name__])[0]
    line = re.sub(r"^\[[^\]]*\]\s*", "", line).split(". ")[0]
    return line[:160]


def _wire() -> torch.device:
    """Where a collective's own tensors live: NCCL moves CUDA tensors only, gloo CPU ones."""
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _together() -> bool:
    return torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1


# ---------------------------------------------------------------------------------------------
# what the ranks share


def seed_for_rank(seed: int, rank: int, step: int = 0) -> int:
    """The random seed of rank > 0 from step `step` on: each rank draws its own messages and
    channel, reproducibly. Rank 0 keeps the training's own stream (and one process is
    unchanged by all this); a resumed rank starts a stream of its own at the resumed step."""
    if rank == 0:
        return seed
    digest = hashlib.sha256(f"glyphart rank {rank} step {step} seed {seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def per_rank_batch(batch: int, size: int) -> int:
    """The global batch shared out: each of `size` ranks draws batch / size messages."""
    if batch % size:
        raise GlyphartError(f"[train] batch = {batch} does not split over {size} processes; "
                            f"give a batch divisible by {size} or another --nproc-per-node")
    return batch // size


def broadcast_modules(*modules: torch.nn.Module) -> None:
    """Every parameter and buffer as rank 0 has it (a warm start or resume read on each rank
    meets the same numbers everywhere)."""
    if not _together():
        return
    with torch.no_grad():
        for module in modules:
            for tensor in list(module.parameters()) + list(module.buffers()):
                _collective(torch.distributed.broadcast, tensor, 0)


def all_reduce_grads(params, *extra: torch.Tensor) -> list[torch.Tensor]:
    """Average the gradients of `params` over the ranks, in one flat all-reduce, and the
    scalars `extra` with them; returns the averaged scalars. Averaging per-rank means of
    equal-sized batches gives the mean over the global batch exactly (a parameter no rank used
    counts as a zero gradient)."""
    params = [p for p in params if p.requires_grad]
    if not _together():
        return list(extra)
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    scalars = [e.detach().reshape(1).to(grads[0]) for e in extra]
    averaged = _mean_over_ranks(grads + scalars)
    for p, g, mean in zip(params, grads, averaged):
        p.grad = g.copy_(mean)  # copy_ keeps g's memory format (channels_last)
    return [mean[0] for mean in averaged[len(grads):]]


def average_buffers(*modules: torch.nn.Module) -> None:
    """BatchNorm's running statistics, averaged over the ranks (each rank normalises its own
    per-rank batch in training; what is saved is the mean of their running estimates)."""
    if not _together():
        return
    buffers = [b for m in modules for b in m.buffers() if b.is_floating_point()]
    with torch.no_grad():
        for buffer, mean in zip(buffers, _mean_over_ranks(buffers)):
            buffer.copy_(mean)


def _mean_over_ranks(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor's mean over the ranks, in one all-reduce of a flat copy: a failure midway
    leaves the tensors themselves untouched (rank 0 may still save them)."""
    flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    _collective(torch.distributed.all_reduce, flat)
    flat /= torch.distributed.get_world_size()
    return [part.view(t.shape) for part, t in zip(flat.split([t.numel() for t in tensors]),
                                                  tensors)]


def agree(*flags: bool) -> tuple[bool, ...]:
    """Rank 0's decisions (stop here, checkpoint now), the same on every rank: wall clocks
    differ between processes, and every rank must take the same steps."""
    if not _together():
        return tuple(flags)
    t = torch.tensor([int(f) for f in flags], dtype=torch.int64, device=_wire())
    _collective(torch.distributed.broadcast, t, 0)
    return tuple(bool(v) for v in t.tolist())


def barrier() -> None:
    if _together():
        _collective(torch.distributed.barrier)


def shard(items: list) -> list:
    """This rank's share of `items`: every size-th one from its rank (seeds 0, 2, 4... on rank
    0 of 2), so neighbouring seeds, which cost about the same, spread evenly."""
    here = world()
    return items[here.rank::here.size]


@contextlib.contextmanager
def held_by_main(make_context, what: str):
    """Enter `make_context()` (a lock) on rank 0 only, for the whole job; the other ranks learn
    whether rank 0 got it, and stop with it when it did not."""
    if not _together():
        with make_context():
            yield
        return
    if not world().main:
        if not agree(False)[0]:
            raise GlyphartError(f"rank {world().rank}: rank 0 could not start {what} (its "
                                "error says why)")
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(make_context())
        except GlyphartError:
            agree(False)
            raise
        agree(True)
        yield
