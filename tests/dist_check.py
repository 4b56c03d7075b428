"""Run by tests/test_distributed.py under `torchrun --nproc-per-node 2`: the collectives of
glyphart.distributed against one process's arithmetic, in float64. Each rank writes what it
found to OUT/rank-R.json.

    torchrun --nproc-per-node 2 --standalone tests/dist_check.py PRESET.toml OUT
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

from glyphart import distributed
from glyphart.models import build_models
from glyphart.spec import load_spec

BATCH = 8  # global: 4 a rank


def models(spec, norm: str, seed: int):
    torch.manual_seed(seed)
    gen, dec = build_models(replace(spec.model, norm=norm))
    return gen.double(), dec.double()


def read_back_loss(gen, dec, z):
    """Generator -> decoder -> mean squared error: a mean over the batch's messages (the channel
    left out: its randomness differs between a half batch and the whole)."""
    return torch.nn.functional.mse_loss(dec(gen(z)), z)


def gradient_gap(spec, here) -> float:
    """Largest difference between the ranks' averaged gradient and one process's gradient on
    the whole batch (the two halves concatenated)."""
    gen, dec = models(spec, "none", seed=1 + here.rank)  # different on purpose: broadcast mends
    distributed.broadcast_modules(gen, dec)
    params = list(gen.parameters()) + list(dec.parameters())
    z = torch.randn(BATCH, spec.model.message_size, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(7))
    share = BATCH // here.size
    read_back_loss(gen, dec, z[here.rank * share:(here.rank + 1) * share]).backward()
    distributed.all_reduce_grads(params)
    averaged = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    read_back_loss(gen, dec, z).backward()
    return max(float((a - p.grad).abs().max()) for a, p in zip(averaged, params))


def batchnorm_gap(spec, here) -> float:
    """After a training-mode step on each rank's own messages, the saved statistics are the
    mean of the ranks' running estimates."""
    gen, _ = models(spec, "batch", seed=1)
    z = torch.randn(4, spec.model.message_size, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(100 + here.rank))
    gen.train()(z)
    own = [b.clone() for b in gen.buffers() if b.is_floating_point()]
    everyone = [[torch.empty_like(b) for _ in range(here.size)] for b in own]
    for gathered, b in zip(everyone, own):
        torch.distributed.all_gather(gathered, b)
    distributed.average_buffers(gen)
    after = [b for b in gen.buffers() if b.is_floating_point()]
    return max(float((a - torch.stack(g).mean(0)).abs().max()) for a, g in zip(after, everyone))


def main(preset: str, out: str) -> None:
    here = distributed.start(torch.device("cpu"))
    spec = load_spec(Path(preset))
    result = {"rank": here.rank, "world_size": here.size,
              "gradient_gap": gradient_gap(spec, here),
              "batchnorm_gap": batchnorm_gap(spec, here),
              "seeds": [distributed.seed_for_rank(0, r) for r in range(here.size)],
              "shard": distributed.shard(list(range(10)))}
    Path(out, f"rank-{here.rank}.json").write_text(json.dumps(result))
    distributed.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
