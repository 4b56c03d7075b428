"""Recompute a trained preset's batch-norm running statistics from its own training pipeline.

    python tools/recalibrate.py WEIGHTS.safetensors PRESET.toml OUT.safetensors [--batches N]

For weights whose parameters are sound but whose running statistics are not (brush's continued
run of 2026-12-06 wrote NaN into its decoder's statistics in one step of a NaN forward pass,
before training skipped such steps whole): every batch norm is reset and averaged afresh
(torch.optim.swa_utils.update_bn, as after weight averaging) over N training batches drawn
through the preset's generator and channel (one-ink presets). The parameters are not touched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from torch.optim.swa_utils import update_bn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glyphart.channel import build_channel  # noqa: E402
from glyphart.models import build_models  # noqa: E402
from glyphart.presets import save_weights  # noqa: E402
from glyphart.spec import load_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights")
    parser.add_argument("toml")
    parser.add_argument("out")
    parser.add_argument("--batches", type=int, default=200)
    args = parser.parse_args()
    spec = load_spec(args.toml)
    gen, dec = build_models(spec.model)
    with safe_open(args.weights, "pt") as f:  # by hand: load_weights refuses NaN statistics
        tensors = {key: f.get_tensor(key) for key in f.keys()}
        steps = int(f.metadata().get("steps", 0))
    for prefix, module in (("generator.", gen), ("decoder.", dec)):
        module.load_state_dict({k[len(prefix):]: v.float() for k, v in tensors.items()
                                if k.startswith(prefix)})
    if spec.model.inks:
        raise SystemExit("colour presets: lay the inks on paper as training does first")
    channel = build_channel(spec.channel, spec.model.size)
    gen.eval()
    torch.manual_seed(0)
    with torch.no_grad():  # what the decoder sees in training: the glyphs through the channel
        pictures = [channel(gen(torch.randn(spec.train.batch, spec.model.message_size)))
                    for _ in range(args.batches)]
    update_bn(pictures, dec)
    save_weights(Path(args.out), spec, gen.eval(), dec.eval(), dtype=spec.train.weights_dtype,
                 extra={"steps": steps})


if __name__ == "__main__":
    main()
